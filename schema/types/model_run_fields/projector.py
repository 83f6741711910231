"""The projector's fields on ModelRun: the run's 2-D projections of its embeddings, one by
id or all of them."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from schema.context import Context
from schema.ids import try_parse_id
from schema.types.model_run_fields import RunFieldGroup
from schema.types.projection import Projection, projector_queries


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
