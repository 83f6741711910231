"""The charts of a run's metrics view: the precision-recall curve's points (`PrPoint`), the
annotations and predictions per feature (`DistributionEntry`) and a per-row metric's
histogram (`MetricHistogram`). Every bar and bin carries the DataRowFilter of its rows."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.scalars import JSON

from projections.metrics.records import DistributionBar, HistogramBin
from projections.metrics.reports import PrPoint as PrPointRecord
from schema.types.filters import DataRowFilter, with_clause


@strawberry.type
class PrPoint:
    confidence: float
    precision: float | None
    recall: float | None

    @classmethod
    def from_record(cls, r: PrPointRecord) -> PrPoint:
        return cls(confidence=r.confidence, precision=r.precision, recall=r.recall)


@strawberry.type
class DistributionEntry:
    feature: str
    objects: int
    data_rows: int
    filter: JSON
    parent: str | None = strawberry.field(
        default=None, description="The feature this nested answer hangs under; null at the top level."
    )
    sub_features: int = strawberry.field(
        default=0, description="Its nested answers with objects: list them with `under: <this feature>`."
    )
    crowd_regions: int = strawberry.field(
        default=0,
        description="Its crowd regions (ground truth with iscrowd), counted apart from `objects`: they match "
        "nothing, and predictions they cover are ignored (neither true nor false positives).",
    )

    @classmethod
    def from_record(
        cls, r: DistributionBar, side: str, selection: DataRowFilter | None, confidence: float | None = None
    ) -> DistributionEntry:
        # Predictions counted as active at a confidence are selected by that confidence too.
        if side == "prediction" and confidence is not None:
            clause: dict[str, Any] = {"confidence": {"feature": r.feature, "min": confidence}}
        else:
            clause = {side: {"features": [r.feature]}}
        # Distributions count the evaluated rows only, like every figure of the metrics view.
        chosen = with_clause(selection, {"evaluated": True})
        chosen["all"].append(clause)
        return cls(
            feature=r.feature, objects=r.objects, data_rows=r.data_rows, filter=chosen, parent=r.parent,
            sub_features=r.sub_features, crowd_regions=r.crowd_regions,
        )


@strawberry.type
class MetricHistogramBin:
    min: float
    max: float
    data_rows: int
    filter: JSON = strawberry.field(description="Selects exactly the bin's rows: [min, max), the last bin [min, max].")
    sort: JSON = strawberry.field(description="A `dataRows` sort (a list of DataRowSort) by the metric, lowest first.")

    @classmethod
    def from_record(
        cls, r: HistogramBin, metric: str, feature: str | None, selection: DataRowFilter | None
    ) -> MetricHistogramBin:
        last = r.high >= 1.0
        clause = {"metric": {"name": metric, "feature": feature, "min": r.low, "max": r.high, "maxExclusive": not last}}
        sort = [{"field": "METRIC", "metric": metric, "feature": feature, "descending": False}]
        return cls(min=r.low, max=r.high, data_rows=r.data_rows, filter=with_clause(selection, clause), sort=sort)


@strawberry.type
class MetricHistogram:
    metric: str
    feature: str | None
    bins: list[MetricHistogramBin] = strawberry.field(description="Ten bins on [0, 1]: [a, b), the last [0.9, 1].")
    nulls: int = strawberry.field(description="Data rows where the metric is null.")
    outside: int = strawberry.field(description="Data rows whose value is outside [0, 1].")
