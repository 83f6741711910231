"""The `projectionStatus(runId, projectionId)` subscription: a projection's status now, then
each change of it, until it is READY."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry
from strawberry.types import Info

from domain.errors import NotFound
from schema.context import Context
from schema.ids import try_parse_id
from schema.types.projection import ProjectionStatus, projector_queries


@strawberry.type
class ProjectionSubscriptions:
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
