"""One data row of a run in detail (`dataRowDetail`): each annotation's and prediction's
outcome at a grid point, and the row's custom metric values."""

from __future__ import annotations

from enum import Enum
from typing import Any

import strawberry

from projections.gallery.queries import DataRowDetail as DataRowDetailRecord
from schema.types.data_row import DataRow


@strawberry.enum(description="What an object counts as at the grid point (docs/metrics.md §3).")
class Outcome(Enum):
    TP = "TP"
    FP = "FP"
    FN = "FN"
    INACTIVE = "INACTIVE"
    UNMATCHED = "UNMATCHED"
    CROWD = "CROWD"  # a crowd region: matched with nothing, counted apart (docs/metrics.md §9)
    IGNORED = "IGNORED"  # a prediction a crowd region covers by more than the IoU threshold


@strawberry.type(description="An annotation or prediction of the row at the grid point. A cross-feature pair "
                 "is FN for its annotation and FP for its prediction; `partner` is the index of the object "
                 "paired with it on the other side.")
class ObjectOutcome:
    index: int
    feature: str
    confidence: float | None
    outcome: Outcome
    partner: int | None
    partner_feature: str | None
    iou: float | None


@strawberry.type
class RowCustomMetric:
    name: str
    feature: str | None
    value: float | None


@strawberry.type(description="One data row with each object's match at a grid point, and its custom metrics.")
class DataRowDetail:
    data_row: DataRow
    annotations: list[ObjectOutcome]
    predictions: list[ObjectOutcome]
    custom_metrics: list[RowCustomMetric]

    @classmethod
    def from_record(cls, record: DataRowDetailRecord) -> DataRowDetail:
        def objects(items: list[Any]) -> list[ObjectOutcome]:
            return [ObjectOutcome(**{**vars_of(o), "outcome": Outcome(o.outcome)}) for o in items]

        return cls(
            data_row=DataRow.from_run_row(record.row),
            annotations=objects(record.outcomes.annotations),
            predictions=objects(record.outcomes.predictions),
            custom_metrics=[RowCustomMetric(name=c.name, feature=c.feature, value=c.value) for c in record.custom],
        )


def vars_of(item: Any) -> dict[str, Any]:
    return {name: getattr(item, name) for name in item.__slots__}
