"""Mutations on a run's metric computations: retry a failure, or compute every row again.

(Custom thresholds are `setMetricSettings`: new confidence thresholds recompute the rows.)
"""

from __future__ import annotations

from uuid import UUID

import strawberry
from strawberry.types import Info

from domain.computations import METRICS
from schema.context import Context
from schema.errors import UserError
from schema.ids import parse_id
from schema.mutations.results import result_union
from schema.types.metrics_status import MetricsStatus


@strawberry.type
class RetryMetricsPayload:
    run_id: strawberry.ID
    retried: int = strawberry.field(description="Failed computations resumed.")
    metrics_status: MetricsStatus


@strawberry.type
class RecomputeMetricsPayload:
    run_id: strawberry.ID
    metrics_status: MetricsStatus


RetryMetricsResult = result_union("RetryMetricsResult", RetryMetricsPayload)
RecomputeMetricsResult = result_union("RecomputeMetricsResult", RecomputeMetricsPayload)


@strawberry.type
class MetricMutations:
    @strawberry.mutation(description="Resume the run's failed metric computations (their missing chunks).")
    async def retry_metrics(self, info: Info[Context, None], run_id: strawberry.ID) -> RetryMetricsResult:
        ctx = info.context
        queries = ctx.read_models.metrics

        def retry(actor: str) -> int:
            run = parse_id(run_id, "model run")
            ctx.app.load_run(run)
            failed = [UUID(c) for c in queries.status_queries.status(run, METRICS).failed]
            return len(ctx.app.retry_computations(run, failed, actor))

        done = await ctx.write(retry)
        if isinstance(done, UserError):
            return done
        status = await ctx.read(queries.status, str(run_id))
        return RetryMetricsPayload(run_id=run_id, retried=done, metrics_status=MetricsStatus.from_record(status))

    @strawberry.mutation(description="Match every data row of the run again.")
    async def recompute_metrics(self, info: Info[Context, None], run_id: strawberry.ID) -> RecomputeMetricsResult:
        ctx = info.context
        queries = ctx.read_models.metrics
        done = await ctx.write(lambda actor: ctx.app.recompute_metrics(parse_id(run_id, "model run"), actor))
        if isinstance(done, UserError):
            return done
        status = await ctx.read(queries.status, str(run_id))
        return RecomputeMetricsPayload(run_id=run_id, metrics_status=MetricsStatus.from_record(status))
