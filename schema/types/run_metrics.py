"""A run's metrics at a grid point (`metrics`, and each side of `compareModelRuns`): per
feature, all features summed (micro), their mean (macro), and the custom metrics."""

from __future__ import annotations

import strawberry

from projections.metrics.custom import CustomAggregate
from projections.metrics.records import FeatureRecord, MetricsRecord


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
