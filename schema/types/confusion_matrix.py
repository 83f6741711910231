"""A run's confusion matrix at a grid point (`confusionMatrix`): the counts per ground truth
and prediction, and its non-empty cells, each with the filter that selects its data rows."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.scalars import JSON

from projections.metrics.records import ConfusionCellRecord, ConfusionRecord


@strawberry.type(description="A non-empty cell; `filter` (a DataRowFilter) selects its data rows.")
class ConfusionCell:
    ground_truth: str | None
    prediction: str | None
    count: int
    data_rows: int
    filter: JSON

    @classmethod
    def from_record(cls, r: ConfusionCellRecord, selection: list[dict[str, Any]]) -> ConfusionCell:
        """`selection`: the matrix's filter as `clauses_json` gives it (the same for every cell)."""
        clause = {"confusionCell": {"groundTruth": r.ground_truth, "prediction": r.prediction}}
        return cls(
            ground_truth=r.ground_truth,
            prediction=r.prediction,
            count=r.count,
            data_rows=r.data_rows,
            filter={"all": [*selection, clause]},
        )


@strawberry.type
class ConfusionMatrix:
    labels: list[str | None] = strawberry.field(description="Features, then null for None.")
    counts: list[list[int]] = strawberry.field(description="Rows are ground truth, columns predictions.")
    data_rows: list[list[int]] = strawberry.field(
        description="Laid out as `counts`: the data rows with at least one outcome in each cell."
    )
    record: strawberry.Private[ConfusionRecord]
    selection: strawberry.Private[list[dict[str, Any]]]  # the matrix's filter, as `clauses_json` gives it

    @strawberry.field(
        description="The non-empty cells, each with the filter that selects its data rows. A matrix of many "
        "features has thousands: `counts` and `dataRows` give the same figures at a fraction of the cost."
    )
    def cells(self) -> list[ConfusionCell]:
        return [ConfusionCell.from_record(c, self.selection) for c in self.record.cells]
