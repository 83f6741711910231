"""What a run's counts are reported as: the metrics per feature, the points of a
precision-recall curve, and null for an undefined ratio.

RunResults (results.py) and the per-split figures (split_figures.py) count; the functions
here turn those counts into the records the queries answer with. ROW_METRICS names the
automatic metrics, the fields of a Metrics, that every data row has.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from domain.metrics import Counts
from domain.metrics.ratios import FeatureReport, Metrics, macro, mean_of_defined, metrics, summary

ROW_METRICS = ("tp", "fp", "fn", "tn", "precision", "recall", "f1", "iou")


@dataclass(frozen=True, slots=True)
class PrPoint:
    confidence: float
    precision: float | None
    recall: float | None


def feature_report(features: tuple[str, ...], counts: Counts, nested: np.ndarray | None = None) -> FeatureReport:
    """Per feature, all features summed (micro) and the per-feature mean (macro); `all`
    over top-level features only (nested: bool per feature, docs/metrics.md §8)."""
    per_feature = metrics(counts.tp, counts.fp, counts.fn, counts.tn, counts.iou_sum)
    top = np.ones(len(features), dtype=bool) if nested is None else ~nested
    total = summary(
        int(counts.tp[top].sum()), int(counts.fp[top].sum()), int(counts.fn[top].sum()),
        int(counts.tn[top].sum()), float(counts.iou_sum[top].sum()),
    )  # fmt: skip
    top_metrics = Metrics(*(getattr(per_feature, name)[top] for name in ROW_METRICS))
    return FeatureReport(features, per_feature, total, macro(top_metrics))


def nullable(value: float) -> float | None:
    return None if math.isnan(value) else float(value)


def macro_of(values: np.ndarray) -> float | None:
    return nullable(float(mean_of_defined(values)))
