"""The `metricsStatus(runId)` subscription: the status now, then every change of it that was
read (a state or its `changedAt`)."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry
from strawberry.types import Info

from domain.errors import NotFound
from schema.context import Context
from schema.ids import try_parse_id
from schema.types.metrics_status import MetricsStatus


@strawberry.type
class MetricsSubscriptions:
    @strawberry.subscription(description="The run's metrics status at once, then each time it changes.")
    async def metrics_status(
        self, info: Info[Context, None], run_id: strawberry.ID
    ) -> AsyncGenerator[MetricsStatus, None]:
        ctx = info.context
        run = await ctx.read(ctx.read_models.model_run, str(run_id)) if try_parse_id(run_id) else None
        if run is None:
            raise NotFound(f"model run {run_id!r} not found")
        queries = ctx.read_models.metrics
        sent: MetricsStatus | None = None
        ctx.feed.subscribe()
        try:
            while True:
                # Taken before reading: a change that lands during the read still wakes us.
                changed = ctx.feed.next_change()
                record = await ctx.read(queries.status, str(run_id))
                # Only what was read is sent: work requested and finished between two reads
                # shows as the same state at a later `changedAt`.
                status = MetricsStatus.from_record(record)
                if status != sent:
                    sent = status
                    yield status
                await changed.wait()
        finally:
            ctx.feed.unsubscribe()
