"""Counts and metrics of a matched evaluation at any grid point (docs/metrics.md §3, §4).

The counts are made from the walk's outcome (domain.metrics.outcome), where nothing is stored
per grid point. Per (data row, feature) at (c, t):

- TP = same-feature taken pairs with IoU > t; ΣIoU = the sum of their IoUs;
- FN = annotations - TP (an annotation taken by a prediction of another feature is an FN);
- FP = active predictions - TP;
- TN = 1 when the row has no annotation and no active prediction of the feature (its cell is
  absent at c).

Free-text answers are never matched: they count as annotations and predictions of their
feature (`text_counts`) and add nothing to TP, FP, FN or TN.

Nested answers (docs/metrics.md §8, see nested.py) are features on the same axis, counted by the
same rules with their nested pairs beside the walk's pairs and their objects beside the
top-level ones: so FN = annotations - TP and FP = active predictions - TP hold for them too
(an answer of an untaken object, of an object taken in a cross-feature pair, or left
unpaired, is exactly an object not in a TP), and TN is the same cell presence. What differs:
their ΣIoU is NaN, so their IoU is null (they have no geometry), and `all` (micro and
macro) and the data-row level sum over top-level features only.

Crowd regions (docs/metrics.md §9) are not objects here: not annotations, not in any cell, no
bar to a TN. A prediction whose share covered by a crowd region of its feature is > t
(`crowd_cover`) and that is active and untaken at (c, t) is *ignored*: it leaves the
active predictions of its cell, so FP = active predictions - ignored - TP, and the None row
of the confusion matrix holds the untaken predictions that are not ignored. Its nested
answers are ignored with it. It is still an active prediction for presence (so its cell
is no TN), which depends on c alone: a cell whose every prediction is ignored has TP, FP
and FN 0 and no IoU. `ignored_counts` gives the ignored predictions, `crowd_counts` the
crowd regions, apart from the others.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from domain.metrics.crowd import crowd_cover
from domain.metrics.curves import PrPoint, pr_curve
from domain.metrics.iou import candidate_pairs
from domain.metrics.objects import EvaluationObjects
from domain.metrics.outcome import (
    ConfidenceState,
    RowSelection,
    WalkOutcome,
    check_iou_threshold,
    cut,
)
from domain.metrics.ratios import FeatureReport, Metrics, macro, metrics, ratio, summary
from domain.metrics.walk import walk


@dataclass(frozen=True, slots=True, eq=False)
class Counts:
    """TP, FP, FN, TN and ΣIoU per entry (a feature, a data row or a cell)."""

    tp: np.ndarray  # int64
    fp: np.ndarray
    fn: np.ndarray
    tn: np.ndarray
    iou_sum: np.ndarray  # float64


@dataclass(frozen=True, slots=True, eq=False)
class CellCounts:
    """The (data row, feature) cells present at a grid point; every other one is a TN only."""

    row: np.ndarray
    feature: np.ndarray
    counts: Counts  # tn is 0 for each of these cells


class MatchResult(WalkOutcome):
    """The walk's outcome for every confidence threshold of the run, with its counts and
    metrics at any grid point."""

    # -- counts -----------------------------------------------------------------------

    def feature_counts(
        self, c_index: int, iou_threshold: float, rows: RowSelection = None
    ) -> Counts:
        """Per feature, summed over the selected data rows (all by default)."""
        return self.feature_counts_in(self.confidence_state(c_index, rows), iou_threshold)

    def feature_counts_in(self, state: ConfidenceState, t: float) -> Counts:
        """ΣIoU is NaN for a nested answer: it has no geometry, so its IoU is null."""
        n = len(self.features)
        feature, predicted, iou = self._pairs(state.c_index, t, state.mask)
        same = feature == predicted
        tp = np.bincount(feature[same], minlength=n)
        iou_sum = np.bincount(feature[same], weights=iou[same], minlength=n).astype(np.float64)
        iou_sum[self.nested] = np.nan
        return Counts(
            tp=tp,
            fp=self._counted_predictions(state, t) - tp,
            fn=state.annotations - tp,
            tn=state.tn,
            iou_sum=iou_sum,
        )

    def confusion(
        self, c_index: int, iou_threshold: float, rows: RowSelection = None
    ) -> np.ndarray:
        """(F + 1) × (F + 1) counts: rows are ground truth, columns predictions, last is None."""
        return self.confusion_in(self.confidence_state(c_index, rows), iou_threshold)

    def confusion_in(self, state: ConfidenceState, t: float) -> np.ndarray:
        n = len(self.features)
        size = n + 1
        g, f, _ = self._pairs(state.c_index, t, state.mask)
        matrix = np.bincount(g * size + f, minlength=size * size).reshape(size, size)
        matrix[:n, n] = state.annotations - np.bincount(g, minlength=n)
        matrix[n, :n] = self._counted_predictions(state, t) - np.bincount(f, minlength=n)
        return matrix

    # -- crowd regions (§9) -----------------------------------------------------------

    def ignored_at(self, state: ConfidenceState, t: float) -> np.ndarray | None:
        """Bool per prediction: ignored at (c, t) in the selected rows (active, untaken,
        covered by a crowd region of its feature by more than t); None without crowds."""
        if self.crowd_cover is None:
            return None
        ignored: np.ndarray = state.active & (self.crowd_cover > t)
        if ignored.any():
            taken = self._taken(state.c_index, t, state.mask)
            ignored[self.taken.pred[taken]] = False
        return ignored

    def _nested_ignored(self, state: ConfidenceState, ignored: np.ndarray) -> np.ndarray:
        """Bool per nested predicted answer: active, under an ignored root."""
        nested: np.ndarray = state.nested_active & ignored[self.nested_pred_root]
        return nested

    def _counted_predictions(self, state: ConfidenceState, t: float) -> np.ndarray:
        """Active predictions per feature that are not ignored at (c, t)."""
        ignored = self.ignored_at(state, t)
        if ignored is None:
            return state.predictions
        counted: np.ndarray = state.predictions - self._ignored_per_feature(state, ignored)
        return counted

    def _ignored_per_feature(self, state: ConfidenceState, ignored: np.ndarray) -> np.ndarray:
        n = len(self.features)
        out = np.bincount(self.pred_feature[ignored], minlength=n)
        if self.has_nested_objects:
            nested = self._nested_ignored(state, ignored)
            out += np.bincount(self.nested_pred_feature[nested], minlength=n)
        return out

    def ignored_counts(
        self, c_index: int, iou_threshold: float, rows: RowSelection = None
    ) -> np.ndarray:
        """Ignored predictions per feature at (c, t), nested answers under them included."""
        state = self.confidence_state(c_index, rows)
        ignored = self.ignored_at(state, iou_threshold)
        if ignored is None:
            check_iou_threshold(iou_threshold)
            return np.zeros(len(self.features), np.int64)
        return self._ignored_per_feature(state, ignored)

    def crowd_counts(self, rows: RowSelection = None) -> np.ndarray:
        """Crowd regions per feature in the selected rows: counted apart from annotations."""
        mask = self.row_mask(rows)
        feature = self.crowd_feature if mask is None else self.crowd_feature[mask[self.crowd_row]]
        return np.bincount(feature, minlength=len(self.features))

    @property
    def confusion_labels(self) -> tuple[str | None, ...]:
        return (*self.features, None)

    def cell_counts(self, c_index: int, iou_threshold: float) -> CellCounts:
        """Per (data row, feature) cell present at c, nested answers' included (ΣIoU NaN)."""
        cells = self._cell_counts(self.confidence_state(c_index), iou_threshold)
        keep = self.cell_presence >= self.confidence_thresholds[c_index]
        counts = Counts(*(column[keep] for column in _fields(cells)))
        return CellCounts(row=self.cell_row[keep], feature=self.cell_feature[keep], counts=counts)

    def _cell_counts(self, state: ConfidenceState, t: float) -> Counts:
        """Counts of every cell (absent ones included, with zeros: their TN is implied)."""
        size = self.cell_presence.size
        taken = self._taken(state.c_index, t, state.mask)
        same = self.taken.ann_feature[taken] == self.taken.pred_feature[taken]
        cell = self.taken_cell[taken][same]
        tp = np.bincount(cell, minlength=size)
        predictions = np.bincount(self.pred_cell[state.active], minlength=size)
        iou_sum = np.bincount(cell, weights=self.taken.iou[taken][same], minlength=size).astype(
            np.float64
        )
        ignored = self.ignored_at(state, t)
        if ignored is not None:
            predictions -= np.bincount(self.pred_cell[ignored], minlength=size)
        if self.has_nested_objects:
            nested = cut(self.nested_taken, state.c_index, t, state.mask)
            pairs = self.nested_taken
            nested_same = pairs.ann_feature[nested] == pairs.pred_feature[nested]
            tp += np.bincount(self.nested_taken_cell[nested][nested_same], minlength=size)
            predictions += np.bincount(self.nested_pred_cell[state.nested_active], minlength=size)
            if ignored is not None:
                nested_ignored = self._nested_ignored(state, ignored)
                predictions -= np.bincount(self.nested_pred_cell[nested_ignored], minlength=size)
        if not self.all_top_level:
            iou_sum[self.cell_nested] = np.nan
        return Counts(
            tp=tp,
            fp=predictions - tp,
            fn=self.cell_annotations - tp,
            tn=np.zeros(size, dtype=np.int64),
            iou_sum=iou_sum,
        )

    def row_counts(self, c_index: int, iou_threshold: float) -> tuple[Counts, np.ndarray]:
        """Per data row: counts summed over its features, and its IoU (§4: the unweighted mean
        of its features' non-null IoUs; NaN when none is defined)."""
        return self.row_counts_in(self.confidence_state(c_index), iou_threshold)

    def row_counts_in(self, state: ConfidenceState, t: float) -> tuple[Counts, np.ndarray]:
        if state.mask is not None:
            raise ValueError("data-row counts are per row: select rows from the result")
        cells = self._cell_counts(state, t)
        n_rows = self.n_rows
        present = state.present
        row = self.cell_row
        if not self.all_top_level:
            # A data row sums over its top-level features only, as `all` does (§8).
            present = present & self.cell_top
            row = self.cell_row_top

        def per_row(values: np.ndarray) -> np.ndarray:
            return np.bincount(row, weights=values, minlength=n_rows + 1)[:n_rows]

        denominator = cells.tp + cells.fp + cells.fn
        present_row = row[present]
        if self.crowd_cover is None:
            # > 0 for every present cell
            iou = mean_of_rows(present_row, cells.iou_sum[present] / denominator[present], n_rows)
        else:
            # A present cell whose predictions are all ignored has no IoU (§9).
            defined = present & (denominator > 0)
            iou = mean_of_rows(row[defined], cells.iou_sum[defined] / denominator[defined], n_rows)
        counts = Counts(
            tp=per_row(cells.tp).astype(np.int64),
            fp=per_row(cells.fp).astype(np.int64),
            fn=per_row(cells.fn).astype(np.int64),
            tn=int(self.top_level.sum()) - np.bincount(present_row, minlength=n_rows),
            iou_sum=per_row(cells.iou_sum),
        )
        return counts, iou

    def object_counts(
        self, c_index: int, rows: RowSelection = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Annotations and active predictions per matched feature."""
        state = self.confidence_state(c_index, rows)
        return state.annotations, state.predictions

    def text_counts(self, c_index: int, rows: RowSelection = None) -> tuple[np.ndarray, np.ndarray]:
        """Free-text answers per text feature: annotations and active predictions."""
        c = self.confidence_thresholds[c_index]
        mask = self.row_mask(rows)
        gt, pred = self.text_ground_truth, self.text_predictions
        ann_keep = np.ones(gt.row.size, bool) if mask is None else mask[gt.row]
        pred_keep = pred.confidence >= c
        if mask is not None:
            pred_keep &= mask[pred.row]
        n = len(self.text_features)
        return (
            np.bincount(gt.feature[ann_keep], minlength=n),
            np.bincount(pred.feature[pred_keep], minlength=n),
        )

    # -- metrics ----------------------------------------------------------------------

    def feature_metrics(
        self, c_index: int, iou_threshold: float, rows: RowSelection = None
    ) -> FeatureReport:
        """Per feature, nested answers included; `all` (micro and macro) over top-level
        features only (§8)."""
        counts = self.feature_counts(c_index, iou_threshold, rows)
        per_feature = metrics(counts.tp, counts.fp, counts.fn, counts.tn, counts.iou_sum)
        top = self.top_level
        total = summary(
            int(counts.tp[top].sum()),
            int(counts.fp[top].sum()),
            int(counts.fn[top].sum()),
            int(counts.tn[top].sum()),
            float(counts.iou_sum[top].sum()),
        )
        top_metrics = Metrics(*(getattr(per_feature, name)[top] for name in _METRICS))
        return FeatureReport(self.features, per_feature, total, macro(top_metrics))

    def row_metrics(self, c_index: int, iou_threshold: float) -> Metrics:
        counts, iou = self.row_counts(c_index, iou_threshold)
        row = metrics(counts.tp, counts.fp, counts.fn, counts.tn, counts.iou_sum)
        return Metrics(row.tp, row.fp, row.fn, row.tn, row.precision, row.recall, row.f1, iou)

    def pr_curve(
        self, iou_threshold: float, feature: str | None = None, rows: RowSelection = None
    ) -> list[PrPoint]:
        return pr_curve(self, iou_threshold, feature, rows)


def match(
    objects: EvaluationObjects,
    confidence_thresholds: Sequence[float],
    point_radius: float = 70.0,
) -> MatchResult:
    """Matches every data row at every confidence threshold (one walk per threshold).

    Thresholds are used exactly as given; IoU thresholds are chosen later, per query.
    """
    thresholds = tuple(float(c) for c in confidence_thresholds)
    if not all(0.0 <= c <= 1.0 for c in thresholds):
        raise ValueError("confidence thresholds must be in [0, 1]")
    if not (math.isfinite(point_radius) and point_radius > 0):
        raise ValueError("the point radius must be a positive number")
    pairs = candidate_pairs(objects, float(point_radius))
    taken = walk(objects, pairs, np.asarray(thresholds, dtype=np.float64))
    return MatchResult(objects, thresholds, taken, crowd_cover(objects))


def mean_of_rows(row: np.ndarray, values: np.ndarray, n_rows: int) -> np.ndarray:
    """Per data row, the mean of `values` of its entries; NaN for a row with none."""
    return ratio(
        np.bincount(row, weights=values, minlength=n_rows), np.bincount(row, minlength=n_rows)
    )


_METRICS = ("tp", "fp", "fn", "tn", "precision", "recall", "f1", "iou")


def _fields(counts: Counts) -> tuple[np.ndarray, ...]:
    return counts.tp, counts.fp, counts.fn, counts.tn, counts.iou_sum

