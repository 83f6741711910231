"""GraphQL types of a run's metrics: status, per-feature figures, confusion matrix, curves,
distributions, histograms; and the data row filter they take."""

from __future__ import annotations

from enum import Enum
from typing import Any

import strawberry
from strawberry.scalars import JSON

from projections.computation_status.queries import StatusRecord
from projections.metrics.custom import CustomAggregate
from projections.metrics.records import (
    ConfusionCellRecord,
    ConfusionRecord,
    DistributionBar,
    FeatureRecord,
    HistogramBin,
    MetricsRecord,
)
from projections.metrics.reports import PrPoint as PrPointRecord
from schema.types.filters import DataRowFilter, with_clause


@strawberry.enum
class MetricsState(Enum):
    IN_SYNC = "IN_SYNC"
    COMPUTING = "COMPUTING"
    FAILED = "FAILED"


@strawberry.type(description="Whether a run's metrics reflect all its data; pushed live by the subscription.")
class MetricsStatus:
    state: MetricsState
    pending_data_rows: int = strawberry.field(description="Data rows whose metrics are not computed yet.")
    progress: float | None = strawberry.field(description="Share of the pending work done, 0 to 1.")
    error: str | None = strawberry.field(description="Why the computation failed; retryMetrics resumes it.")
    changed_at: int = strawberry.field(
        description="The event log position of the last change of the run's metric computations"
        " (0 before the first): the same state at a later position means results were computed"
        " since, however fast.",
    )

    @classmethod
    def from_record(cls, record: StatusRecord) -> MetricsStatus:
        return cls(
            state=MetricsState(record.state),
            pending_data_rows=record.pending_data_rows,
            progress=record.progress,
            error=record.error,
            changed_at=record.position,
        )


# -- figures -------------------------------------------------------------------------------


@strawberry.type(description="A custom metric aggregated over the rows, with its declared aggregation.")
class CustomMetric:
    name: str
    feature: str | None
    aggregation: str
    value: float | None
    data_rows: int

    @classmethod
    def from_record(cls, record: CustomAggregate) -> CustomMetric:
        return cls(
            name=record.name,
            feature=record.feature,
            aggregation=record.aggregation,
            value=record.value,
            data_rows=record.count,
        )


@strawberry.type
class FeatureMetrics:
    feature: str | None = strawberry.field(description="Null in `all`.")
    tp: int
    fp: int
    fn: int
    tn: int
    precision: float | None
    recall: float | None
    f1: float | None
    iou: float | None
    annotations: int
    predictions: int = strawberry.field(description="Active predictions (confidence ≥ the threshold).")
    custom: list[CustomMetric]

    @classmethod
    def from_record(cls, r: FeatureRecord) -> FeatureMetrics:
        return cls(
            feature=r.feature, tp=r.tp, fp=r.fp, fn=r.fn, tn=r.tn, precision=r.precision, recall=r.recall,
            f1=r.f1, iou=r.iou, annotations=r.annotations, predictions=r.predictions,
            custom=[CustomMetric.from_record(c) for c in r.custom],
        )  # fmt: skip


@strawberry.type(description="Unweighted means over features of their defined values.")
class MacroMetrics:
    precision: float | None
    recall: float | None
    f1: float | None
    iou: float | None


@strawberry.type
class RunMetrics:
    confidence: float
    iou: float
    features: list[FeatureMetrics]
    all: FeatureMetrics = strawberry.field(description="Every feature summed (micro).")
    macro: MacroMetrics
    custom: list[CustomMetric] = strawberry.field(description="Every custom metric, per feature and per row.")
    data_rows: int = strawberry.field(description="Evaluated data rows covered.")
    pending_data_rows: int

    @classmethod
    def from_record(cls, r: MetricsRecord) -> RunMetrics:
        m = r.macro
        return cls(
            confidence=r.confidence,
            iou=r.iou,
            features=[FeatureMetrics.from_record(f) for f in r.features],
            all=FeatureMetrics.from_record(r.all),
            macro=MacroMetrics(precision=m.precision, recall=m.recall, f1=m.f1, iou=m.iou),
            custom=[CustomMetric.from_record(c) for c in r.custom],
            data_rows=r.data_rows,
            pending_data_rows=r.pending_data_rows,
        )


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


@strawberry.type
class MetricDataRow:
    id: strawberry.ID
    global_key: str
