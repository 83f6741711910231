"""The `metricsStatus(runId)` subscription: the status now, then every change of it."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry
from strawberry.types import Info

from domain.computations import METRICS
from domain.errors import NotFound
from projections.computation_status.queries import IN_SYNC
from schema.context import Context
from schema.ids import try_parse_id
from schema.metrics_queries import metric_queries
from schema.types.metrics import MetricsState, MetricsStatus


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
        queries = metric_queries(ctx)
        sent: MetricsStatus | None = None
        position = 0
        ctx.feed.subscribe()
        try:
            while True:
                # Taken before reading: a change that lands during the read still wakes us.
                changed = ctx.feed.next_change()
                record = await ctx.read(queries.status, str(run_id))
                if sent is not None and sent.state != MetricsState.COMPUTING and record.position > position:
                    # Work requested and done between two looks is still a change to push.
                    missed = await ctx.read(
                        queries.status_queries.rows_requested_since, str(run_id), METRICS, position
                    )
                    if missed and record.state == IN_SYNC:
                        # Sent as it was, so the IN_SYNC that follows it is sent too.
                        sent = MetricsStatus(state=MetricsState.COMPUTING, pending_data_rows=missed, progress=1.0, error=None)
                        yield sent
                status = MetricsStatus.from_record(record)
                position = record.position
                if status != sent:
                    sent = status
                    yield status
                await changed.wait()
        finally:
            ctx.feed.unsubscribe()
