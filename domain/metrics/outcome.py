"""A matched evaluation, compact, and what is in at a grid point (docs/metrics.md §3).

Nothing is stored per grid point: the walk's taken pairs per confidence threshold, and the
objects' (data row, feature, confidence). A grid point (c, t) is a cut of them: the pairs
taken at c whose IoU is > t (`taken_at`), and the predictions whose confidence is >= c
(`confidence_state`), in all data rows or a selection of them. Nested answers
(docs/metrics.md §8, see nested.py) are kept the same way beside the top-level objects:
their objects, and their pairs in the layout of the walk's.

A "cell" is a (data row, feature) with any object. Its presence is +inf when it holds an
annotation, else its highest prediction confidence: the cell is present at c (so not a TN)
exactly when presence >= c. Every other (row, feature) is a TN at every c.

`MatchResult` (result.py) counts on it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from domain.metrics.nested import nested_pairs
from domain.metrics.objects import EvaluationObjects, TextObjects
from domain.metrics.walk import TakenPairs

RowSelection = np.ndarray | None  # a boolean mask over data rows, or data row numbers


@dataclass(frozen=True, slots=True, eq=False)
class ConfidenceState:
    """What depends only on the confidence threshold and the row selection: shared by every
    IoU threshold (see `grid`)."""

    c_index: int
    mask: np.ndarray | None
    n_rows: int
    active: np.ndarray  # bool per prediction: confidence >= c and row selected
    present: np.ndarray  # bool per cell
    annotations: np.ndarray  # per feature, nested answers included
    predictions: np.ndarray  # active predictions per feature, nested answers included
    tn: np.ndarray  # per feature
    nested_active: np.ndarray  # bool per nested predicted answer: its root is active


class WalkOutcome:
    """The walk's outcome for every confidence threshold of the run."""

    def __init__(
        self,
        objects: EvaluationObjects,
        confidence_thresholds: tuple[float, ...],
        taken: TakenPairs,
        cover: np.ndarray | None = None,
    ) -> None:
        """`cover` is `crowd_cover(objects)`: None when there is no crowd region."""
        gt, pred = objects.ground_truth, objects.predictions
        self.n_rows = objects.n_rows
        self.features = objects.features
        self.text_features = objects.text_features
        self.confidence_thresholds = confidence_thresholds
        self.taken = taken
        self.ann_row, self.ann_feature = gt.row, gt.feature
        self.pred_row, self.pred_feature, self.pred_confidence = (
            pred.row,
            pred.feature,
            pred.confidence,
        )
        self.text_ground_truth: TextObjects = objects.text_ground_truth
        self.text_predictions: TextObjects = objects.text_predictions
        # Nested answers (§8): their objects, and their pairs in the layout of `taken`.
        self.nested = objects.nested
        self.top_level = ~objects.nested
        nested_gt, nested_pred = objects.nested_ground_truth, objects.nested_predictions
        self.nested_taken = nested_pairs(objects, taken)
        self.nested_ann_row, self.nested_ann_feature = nested_gt.row, nested_gt.feature
        self.nested_pred_row, self.nested_pred_feature, self.nested_pred_confidence = (
            nested_pred.row,
            nested_pred.feature,
            nested_pred.confidence,
        )
        n_features = max(len(self.features), 1)
        keys = np.concatenate(
            [
                gt.row * n_features + gt.feature,
                pred.row * n_features + pred.feature,
                nested_gt.row * n_features + nested_gt.feature,
                nested_pred.row * n_features + nested_pred.feature,
            ]
        )
        cell_keys, inverse = np.unique(keys, return_inverse=True)
        ends = np.cumsum([gt.size, pred.size, nested_gt.size])
        self.ann_cell, self.pred_cell = inverse[: ends[0]], inverse[ends[0] : ends[1]]
        self.nested_ann_cell = inverse[ends[1] : ends[2]]
        self.nested_pred_cell = inverse[ends[2] :]
        self.cell_row, self.cell_feature = np.divmod(cell_keys, n_features)
        presence = np.full(cell_keys.size, -np.inf)
        np.maximum.at(presence, self.pred_cell, self.pred_confidence)
        np.maximum.at(presence, self.nested_pred_cell, self.nested_pred_confidence)
        presence[self.ann_cell] = np.inf
        presence[self.nested_ann_cell] = np.inf
        self.cell_presence = presence
        self.cell_annotations = np.bincount(
            np.concatenate([self.ann_cell, self.nested_ann_cell]), minlength=cell_keys.size
        )
        self.taken_cell = self.ann_cell[taken.ann]
        self.nested_taken_cell = self.nested_ann_cell[self.nested_taken.ann]
        self.cell_nested = self.nested[self.cell_feature]
        # Without nested objects or nested features the §8 steps are skipped: no cost then.
        self.has_nested_objects = bool(nested_gt.size or nested_pred.size)
        self.all_top_level = not self.nested.any()
        # The data row of each cell for the data-row level, which sums over top-level
        # features only (§8): a nested answer's cell goes to a spare row n_rows, dropped.
        self.cell_top = ~self.cell_nested
        self.cell_row_top = np.where(self.cell_nested, self.n_rows, self.cell_row)
        # Crowd regions (§9): each prediction's covered share, and the regions themselves.
        self.crowd_cover = cover
        self.nested_pred_root = nested_pred.root
        self.crowd_row, self.crowd_feature = objects.crowd.row, objects.crowd.feature

    # -- selections -------------------------------------------------------------------

    def confidence_index(self, confidence: float) -> int:
        """The position of a confidence threshold of the run (compared exactly)."""
        for i, c in enumerate(self.confidence_thresholds):
            if c == confidence:
                return i
        raise KeyError(f"{confidence!r} is not a confidence threshold of this evaluation")

    def row_mask(self, rows: RowSelection) -> np.ndarray | None:
        if rows is None:
            return None
        rows = np.asarray(rows)
        if rows.dtype == bool:
            if rows.shape != (self.n_rows,):
                raise ValueError("a row mask must have one entry per data row")
            return rows
        mask = np.zeros(self.n_rows, dtype=bool)
        mask[rows.astype(np.int64)] = True
        return mask

    def taken_at(self, c_index: int, iou_threshold: float, rows: RowSelection = None) -> np.ndarray:
        """Positions in `taken` of the pairs taken at (c, t), in walk order."""
        return self._taken(c_index, iou_threshold, self.row_mask(rows))

    def confidence_state(self, c_index: int, rows: RowSelection = None) -> ConfidenceState:
        c = self.confidence_thresholds[c_index]
        mask = self.row_mask(rows)
        active = self.pred_confidence >= c
        nested_active = self.nested_pred_confidence >= c
        present = self.cell_presence >= c
        ann_feature, nested_ann_feature = self.ann_feature, self.nested_ann_feature
        n_rows = self.n_rows
        if mask is not None:
            active &= mask[self.pred_row]
            nested_active &= mask[self.nested_pred_row]
            present &= mask[self.cell_row]
            ann_feature = ann_feature[mask[self.ann_row]]
            nested_ann_feature = nested_ann_feature[mask[self.nested_ann_row]]
            n_rows = int(mask.sum())
        n = len(self.features)
        annotations = np.bincount(ann_feature, minlength=n)
        predictions = np.bincount(self.pred_feature[active], minlength=n)
        if self.has_nested_objects:
            annotations += np.bincount(nested_ann_feature, minlength=n)
            predictions += np.bincount(self.nested_pred_feature[nested_active], minlength=n)
        return ConfidenceState(
            c_index=c_index,
            mask=mask,
            n_rows=n_rows,
            active=active,
            present=present,
            annotations=annotations,
            predictions=predictions,
            tn=n_rows - np.bincount(self.cell_feature[present], minlength=n),
            nested_active=nested_active,
        )

    def _taken(self, c_index: int, t: float, mask: np.ndarray | None) -> np.ndarray:
        return cut(self.taken, c_index, t, mask)

    def nested_taken_at(
        self, c_index: int, iou_threshold: float, rows: RowSelection = None
    ) -> np.ndarray:
        """Positions in `nested_taken` of the nested pairs taken at (c, t)."""
        return cut(self.nested_taken, c_index, iou_threshold, self.row_mask(rows))

    def _pairs(
        self, c_index: int, t: float, mask: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(annotation feature, prediction feature, IoU) of every pair taken at (c, t), the
        walk's then the nested ones (whose IoU is NaN: they have no geometry)."""
        taken = self._taken(c_index, t, mask)
        if not self.has_nested_objects:
            return (
                self.taken.ann_feature[taken],
                self.taken.pred_feature[taken],
                self.taken.iou[taken],
            )
        nested = cut(self.nested_taken, c_index, t, mask)
        return (
            np.concatenate([self.taken.ann_feature[taken], self.nested_taken.ann_feature[nested]]),
            np.concatenate(
                [self.taken.pred_feature[taken], self.nested_taken.pred_feature[nested]]
            ),
            np.concatenate([self.taken.iou[taken], np.full(nested.size, np.nan)]),
        )


def cut(pairs: TakenPairs, c_index: int, t: float, mask: np.ndarray | None) -> np.ndarray:
    """Positions of the pairs taken at (c, t) in the selected rows, in walk order."""
    check_iou_threshold(t)
    at = pairs.at(c_index)
    keep: np.ndarray = pairs.iou[at] > t
    if mask is not None:
        keep &= mask[pairs.row[at]]
    return np.flatnonzero(keep) + int(at.start)


def check_iou_threshold(t: float) -> None:
    if not 0.0 <= t <= 1.0:
        raise ValueError(f"an IoU threshold must be in [0, 1], not {t!r}")
