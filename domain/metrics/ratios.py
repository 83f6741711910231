"""Metrics from counts (docs/metrics.md §5): each ratio is null when its denominator is 0.

Arrays carry null as NaN; `Summary` and the curve points carry it as None.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True, eq=False)
class Metrics:
    """Counts and ratios of a set of cells per entry (a feature, or a data row)."""

    tp: np.ndarray  # int64
    fp: np.ndarray
    fn: np.ndarray
    tn: np.ndarray
    precision: np.ndarray  # float64, NaN where undefined
    recall: np.ndarray
    f1: np.ndarray
    iou: np.ndarray


@dataclass(frozen=True, slots=True)
class Summary:
    """Counts and ratios summed over a set of cells; ratios None where undefined."""

    tp: int
    fp: int
    fn: int
    tn: int
    precision: float | None
    recall: float | None
    f1: float | None
    iou: float | None


@dataclass(frozen=True, slots=True)
class MacroMeans:
    """Unweighted means over features of their non-null ratios; None when all are null."""

    precision: float | None
    recall: float | None
    f1: float | None
    iou: float | None


@dataclass(frozen=True, slots=True, eq=False)
class FeatureReport:
    """Per-feature metrics, all features summed (micro), and the per-feature mean (macro)."""

    features: tuple[str, ...]
    per_feature: Metrics
    all: Summary
    macro: MacroMeans


def ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """numerator / denominator, NaN where the denominator is 0."""
    numerator = np.asarray(numerator, dtype=np.float64)
    denominator = np.asarray(denominator, dtype=np.float64)
    out = np.full(np.broadcast(numerator, denominator).shape, np.nan)
    np.divide(numerator, denominator, out=out, where=denominator != 0)
    return out


def metrics(
    tp: np.ndarray, fp: np.ndarray, fn: np.ndarray, tn: np.ndarray, iou_sum: np.ndarray
) -> Metrics:
    return Metrics(
        tp=tp,
        fp=fp,
        fn=fn,
        tn=tn,
        precision=ratio(tp, tp + fp),
        recall=ratio(tp, tp + fn),
        f1=ratio(2 * tp, 2 * tp + fp + fn),
        iou=ratio(iou_sum, tp + fp + fn),
    )


def nullable(value: float) -> float | None:
    return None if math.isnan(value) else float(value)


def summary(tp: int, fp: int, fn: int, tn: int, iou_sum: float) -> Summary:
    one = metrics(*(np.asarray([v]) for v in (tp, fp, fn, tn, iou_sum)))
    return Summary(
        tp=int(tp),
        fp=int(fp),
        fn=int(fn),
        tn=int(tn),
        precision=nullable(one.precision[0]),
        recall=nullable(one.recall[0]),
        f1=nullable(one.f1[0]),
        iou=nullable(one.iou[0]),
    )


def mean_of_defined(values: np.ndarray, axis: int = -1) -> np.ndarray:
    """The mean of the non-NaN values along an axis; NaN where none is defined."""
    defined = ~np.isnan(values)
    return ratio(np.where(defined, values, 0.0).sum(axis=axis), defined.sum(axis=axis))


def macro(per_feature: Metrics) -> MacroMeans:
    return MacroMeans(
        precision=nullable(float(mean_of_defined(per_feature.precision))),
        recall=nullable(float(mean_of_defined(per_feature.recall))),
        f1=nullable(float(mean_of_defined(per_feature.f1))),
        iou=nullable(float(mean_of_defined(per_feature.iou))),
    )
