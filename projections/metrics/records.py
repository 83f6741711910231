"""What the metric queries answer (projections/metrics/queries.py), one record per answer,
and the address of a run at an older version."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from domain.metrics.ratios import MacroMeans
from projections.metrics.custom import CustomAggregate


@dataclass(frozen=True, slots=True)
class FeatureRecord:
    feature: str | None
    tp: int
    fp: int
    fn: int
    tn: int
    precision: float | None
    recall: float | None
    f1: float | None
    iou: float | None
    annotations: int
    predictions: int
    custom: list[CustomAggregate] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class MetricsRecord:
    confidence: float
    iou: float
    features: list[FeatureRecord]
    all: FeatureRecord
    macro: MacroMeans
    custom: list[CustomAggregate]
    data_rows: int
    pending_data_rows: int


class ConfusionCellRecord(NamedTuple):  # a tuple: thousands are made per matrix, a frozen dataclass is 4x slower
    ground_truth: str | None
    prediction: str | None
    count: int
    data_rows: int


@dataclass(frozen=True, slots=True)
class ConfusionRecord:
    labels: list[str | None]
    counts: list[list[int]]
    data_rows: list[list[int]]  # laid out as counts: the data rows with an outcome in each cell
    cells: list[ConfusionCellRecord]


@dataclass(frozen=True, slots=True)
class DistributionBar:
    feature: str
    objects: int
    data_rows: int
    parent: str | None = None  # the feature a nested answer hangs under (docs/metrics.md §8)
    sub_features: int = 0  # its own nested answers with objects, one level down
    crowd_regions: int = 0  # crowd regions of the feature, counted apart (docs/metrics.md §9)


@dataclass(frozen=True, slots=True)
class HistogramBin:
    low: float
    high: float
    data_rows: int


@dataclass(frozen=True, slots=True)
class HistogramRecord:
    metric: str
    feature: str | None
    bins: list[HistogramBin]
    nulls: int
    outside: int  # values outside [0, 1] (custom metrics may have them)


@dataclass(frozen=True, slots=True)
class RowFigures:
    """One data row's metrics at a grid point (docs/metrics.md §5)."""

    tp: int
    fp: int
    fn: int
    tn: int
    precision: float | None
    recall: float | None
    f1: float | None
    iou: float | None


@dataclass(frozen=True, slots=True)
class RowRef:
    id: str
    global_key: str


@dataclass(frozen=True, slots=True)
class RunAt:
    """A run as of an older version: what the metric queries read instead of its latest."""

    run_id: str
    version: int

    def __str__(self) -> str:
        return self.run_id
