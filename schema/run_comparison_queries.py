"""The `compareModelRuns` query: two runs of one model on their common data rows, and the
rows where B is worse than A (schema/types/run_comparison.py)."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from projections.metrics.compare import ComparisonRecord, compare_runs
from schema.context import Context
from schema.types.filters import DataRowFilter, clauses_of
from schema.types.run_comparison import RunComparison

_PAGES_WORSE_ROWS = strawberry.argument(
    deprecation_reason="Page worseDataRows with its own first and after; these are its defaults."
)


@strawberry.type
class RunComparisonQueries:
    @strawberry.field(
        description="Two runs of one model on their common data rows, and the rows where B is worse than A."
    )
    async def compare_model_runs(
        self,
        info: Info[Context, None],
        run_a: strawberry.ID,
        run_b: strawberry.ID,
        confidence: float,
        iou: float,
        metric: str = "f1",
        feature: str | None = None,
        filter: DataRowFilter | None = None,  # noqa: A002
        first: Annotated[int | None, _PAGES_WORSE_ROWS] = None,
        after: Annotated[str | None, _PAGES_WORSE_ROWS] = None,
        version_a: int | None = None,
        version_b: int | None = None,
    ) -> RunComparison:
        ctx = info.context
        record: ComparisonRecord = await ctx.read(
            compare_runs, ctx.read_models.metrics, str(run_a), str(run_b), confidence, iou,
            clauses_of(filter), metric, feature, version_a, version_b,
        )  # fmt: skip
        return RunComparison.from_record(record, first, after)
