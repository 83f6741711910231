"""GraphQL types of two runs compared (`compareModelRuns`): both runs' metrics on their
common rows, each metric's delta with its interval, and the rows where B is worse, paged."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from projections.metrics.compare import ComparisonRecord, WorseRow, WorseRows
from schema.context import Context
from schema.pagination import Connection, connection
from schema.types.metric_data_row import MetricDataRow
from schema.types.run_metrics import RunMetrics


@strawberry.type
class WorseDataRow:
    data_row: MetricDataRow
    a: float
    b: float
    by: float = strawberry.field(description="How much worse run B is there.")

    @classmethod
    def from_record(cls, row: WorseRow) -> WorseDataRow:
        return cls(
            data_row=MetricDataRow.from_record(row.row),
            a=row.a, b=row.b, by=row.by,
        )  # fmt: skip


@strawberry.type(
    description="B minus A for one feature (null: all top-level features together) and one of "
    "precision, recall, F1 and IoU, on the common rows, with its 95 % paired bootstrap interval "
    "(1,000 resamples of the rows, a fixed seed; docs/metrics.md). Null where a value is undefined."
)
class MetricDelta:
    feature: str | None
    metric: str
    a: float | None
    b: float | None
    delta: float | None
    low: float | None
    high: float | None
    significant: bool = strawberry.field(description="The interval excludes 0.")


@strawberry.type(description="Two runs of one model on their common data rows, at one grid point.")
class RunComparison:
    metric: str
    feature: str | None
    common_data_rows: int
    a: RunMetrics
    b: RunMetrics
    deltas: list[MetricDelta] = strawberry.field(
        description="Per feature (the 64 with the most labels) and for all features: each metric's "
        "delta B minus A with its 95 % paired bootstrap interval."
    )
    worse: strawberry.Private[WorseRows]
    # compareModelRuns' own first/after, which page worseDataRows when it is given none.
    default_first: strawberry.Private[int | None]
    default_after: strawberry.Private[str | None]

    @strawberry.field(description="Rows where B is worse than A on the metric, most worse first.")
    async def worse_data_rows(
        self, info: Info[Context, None], first: int | None = None, after: str | None = None
    ) -> Connection[WorseDataRow]:
        if first is None and after is None:
            first, after = self.default_first, self.default_after
        ctx = info.context
        page = await ctx.read(self.worse.page, ctx.page_size(first), after)
        return connection(page, WorseDataRow.from_record, after)

    @classmethod
    def from_record(cls, record: ComparisonRecord, first: int | None, after: str | None) -> RunComparison:
        return cls(
            metric=record.metric,
            feature=record.feature,
            common_data_rows=record.common_data_rows,
            a=RunMetrics.from_record(record.a),
            b=RunMetrics.from_record(record.b),
            deltas=[
                MetricDelta(
                    feature=d.feature, metric=d.metric, a=d.a, b=d.b, delta=d.delta, low=d.low, high=d.high,
                    significant=d.significant,
                )  # fmt: skip
                for d in record.deltas
            ],
            worse=record.worse,
            default_first=first,
            default_after=after,
        )
