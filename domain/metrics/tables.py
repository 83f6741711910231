"""Every grid point at once: the tables the offline evaluation prints.

Work that depends on the confidence threshold only (active predictions, TNs) is done once
per threshold; each IoU threshold then only cuts the taken pairs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from domain.metrics.outcome import RowSelection
from domain.metrics.ratios import Metrics, metrics
from domain.metrics.result import MatchResult


@dataclass(frozen=True, slots=True, eq=False)
class Grid:
    """Arrays indexed [confidence threshold, IoU threshold, ...]."""

    confidence_thresholds: tuple[float, ...]
    iou_thresholds: tuple[float, ...]
    features: tuple[str, ...]
    per_feature: Metrics  # (C, T, F)
    confusion: np.ndarray  # (C, T, F + 1, F + 1); rows ground truth, last label None
    per_row: Metrics | None  # (C, T, data rows), when asked for


def grid(
    result: MatchResult,
    iou_thresholds: Sequence[float],
    *,
    per_row: bool = False,
    rows: RowSelection = None,
) -> Grid:
    n_c, n_t, n_f = len(result.confidence_thresholds), len(iou_thresholds), len(result.features)
    feature_columns = {k: np.zeros((n_c, n_t, n_f), np.int64) for k in ("tp", "fp", "fn", "tn")}
    iou_sum = np.zeros((n_c, n_t, n_f))
    confusion = np.zeros((n_c, n_t, n_f + 1, n_f + 1), np.int64)
    n_r = result.n_rows
    row_columns = {k: np.zeros((n_c, n_t, n_r), np.int64) for k in ("tp", "fp", "fn", "tn")}
    row_iou = np.full((n_c, n_t, n_r), np.nan)
    row_iou_sum = np.zeros((n_c, n_t, n_r))
    for ci in range(n_c):
        state = result.confidence_state(ci, rows)
        row_state = result.confidence_state(ci) if per_row else None
        for ti, t in enumerate(iou_thresholds):
            counts = result.feature_counts_in(state, t)
            for name, column in feature_columns.items():
                column[ci, ti] = getattr(counts, name)
            iou_sum[ci, ti] = counts.iou_sum
            confusion[ci, ti] = result.confusion_in(state, t)
            if row_state is not None:
                counts, iou = result.row_counts_in(row_state, t)
                for name, column in row_columns.items():
                    column[ci, ti] = getattr(counts, name)
                row_iou_sum[ci, ti] = counts.iou_sum
                row_iou[ci, ti] = iou
    row_metrics = None
    if per_row:
        m = metrics(**row_columns, iou_sum=row_iou_sum)
        row_metrics = Metrics(m.tp, m.fp, m.fn, m.tn, m.precision, m.recall, m.f1, row_iou)
    return Grid(
        confidence_thresholds=result.confidence_thresholds,
        iou_thresholds=tuple(iou_thresholds),
        features=result.features,
        per_feature=metrics(**feature_columns, iou_sum=iou_sum),
        confusion=confusion,
        per_row=row_metrics,
    )
