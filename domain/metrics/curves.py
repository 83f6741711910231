"""Precision–recall curves (docs/metrics.md §7): the run's confidence thresholds, re-matched at
each one (one walk per threshold), at one IoU threshold."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from domain.metrics.ratios import summary

if TYPE_CHECKING:
    from domain.metrics.outcome import RowSelection
    from domain.metrics.result import MatchResult


@dataclass(frozen=True, slots=True)
class PrPoint:
    confidence: float
    precision: float | None
    recall: float | None


def pr_curve(
    result: MatchResult,
    iou_threshold: float,
    feature: str | None = None,
    rows: RowSelection = None,
) -> list[PrPoint]:
    """(c, precision, recall) per confidence threshold, for one feature or all (micro, over
    top-level features: nested answers are not in `all`, docs/metrics.md §8)."""
    if feature is not None and feature not in result.features:
        raise KeyError(f"{feature!r} is not a feature of this evaluation")
    index = None if feature is None else result.features.index(feature)
    points = []
    for c_index, c in enumerate(result.confidence_thresholds):
        counts = result.feature_counts(c_index, iou_threshold, rows)
        parts = (counts.tp, counts.fp, counts.fn, counts.tn, counts.iou_sum)
        if index is None:
            point = summary(*(column[result.top_level].sum() for column in parts))
        else:
            point = summary(*(column[index] for column in parts))
        points.append(PrPoint(confidence=c, precision=point.precision, recall=point.recall))
    return points
