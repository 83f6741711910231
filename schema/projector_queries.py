"""Projector fields: a run's projections, a dataset's embedding spaces, and the
`projectionStatus` subscription.

`ModelRunProjectorFields` is mixed into the ModelRun type, `ProjectorQueryFields` into
Query and `ProjectorSubscriptions` into Subscription.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import datetime

import strawberry
from strawberry.types import Info

from domain.errors import NotFound
from projections.embeddings.queries import EmbeddingSpaceRecord
from schema.context import Context
from schema.ids import try_parse_id
from schema.run_fields import RunFieldGroup
from schema.types.projection import Projection, ProjectionStatus, projector_queries


@strawberry.type(description="A named set of vectors of a dataset's data rows, one per row.")
class EmbeddingSpace:
    id: strawberry.ID
    dataset_id: strawberry.ID
    name: str
    dimension: int
    version: int = strawberry.field(description="Counts its uploads: a projection names the version it used.")
    vector_count: int = strawberry.field(description="Data rows with a vector now.")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_record(cls, record: EmbeddingSpaceRecord) -> EmbeddingSpace:
        return cls(
            id=strawberry.ID(record.id),
            dataset_id=strawberry.ID(record.dataset_id),
            name=record.name,
            dimension=record.dimension,
            version=record.version,
            vector_count=record.vector_count,
            created_at=record.created_at,
            updated_at=record.updated_at,
        )


@strawberry.type
class ModelRunProjectorFields(RunFieldGroup):
    @strawberry.field(description="A projection of the run's embeddings (null: no such projection).")
    async def projection(self, info: Info[Context, None], id: strawberry.ID) -> Projection | None:  # noqa: A002
        run_id, version = str(self.id), int(self.version)
        if try_parse_id(id) is None:
            return None
        ctx = info.context
        record = await ctx.read(projector_queries(ctx).projection, run_id, str(id))
        return None if record is None else Projection.from_record(record, version)

    @strawberry.field(description="The run's projections, oldest first.")
    async def projections(self, info: Info[Context, None]) -> list[Projection]:
        run_id, version = str(self.id), int(self.version)
        ctx = info.context
        records = await ctx.read(projector_queries(ctx).projections, run_id)
        return [Projection.from_record(r, version) for r in records]


@strawberry.type
class ProjectorQueryFields:
    @strawberry.field(description="The dataset's embedding spaces, by name.")
    async def embedding_spaces(self, info: Info[Context, None], dataset_id: strawberry.ID) -> list[EmbeddingSpace]:
        if try_parse_id(dataset_id) is None:
            return []
        ctx = info.context
        records = await ctx.read(projector_queries(ctx).embeddings.spaces, str(dataset_id))
        return [EmbeddingSpace.from_record(r) for r in records]


@strawberry.type
class ProjectorSubscriptions:
    @strawberry.subscription(
        description="The projection's status at once, then each change of it; ends once it is READY."
    )
    async def projection_status(
        self, info: Info[Context, None], run_id: strawberry.ID, projection_id: strawberry.ID
    ) -> AsyncGenerator[ProjectionStatus, None]:
        ctx = info.context
        queries = projector_queries(ctx)
        found = None
        if try_parse_id(run_id) and try_parse_id(projection_id):
            found = await ctx.read(queries.projection, str(run_id), str(projection_id))
        if found is None:
            raise NotFound(f"projection {projection_id!r} of model run {run_id!r} not found")
        sent: ProjectionStatus | None = None
        ctx.feed.subscribe()
        try:
            while True:
                # Taken before reading: a change that lands during the read still wakes us.
                changed = ctx.feed.next_change()
                record = await ctx.read(queries.projection, str(run_id), str(projection_id))
                if record is not None:
                    status = ProjectionStatus.from_record(record)
                    if status != sent:
                        sent = status
                        yield status
                    if status.state == "READY":
                        return
                await changed.wait()
        finally:
            ctx.feed.unsubscribe()
