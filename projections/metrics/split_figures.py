"""A run's figures per split, so that the common queries are sums of small arrays.

Most metric queries cover the whole run or some of its splits. Every split is a disjoint
set of rows, so counts per split add up to any union of splits: annotations, active
predictions and present cells per (split, feature, level) are counted once when the run
is loaded, and what depends on the IoU cut (taken pairs, confusion cells, data rows per
cell) once per grid point asked (kept for the most recent points). A query then sums a
few (split, feature) arrays instead of passing over a million predictions. Queries on any
other selection of rows take the general path of RunResults.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from domain.metrics import Counts
from domain.metrics.ratios import ratio
from projections.metrics.reports import PrPoint, nullable
from projections.metrics.results import ALWAYS, RunResults

KEPT_POINTS = 16


@dataclass(frozen=True, eq=False)
class PointFigures:
    tp: np.ndarray  # (S, F)
    iou_sum: np.ndarray  # (S, F)
    cells: np.ndarray  # (K,) ground truth * (F + 1) + prediction of the taken pairs' cells
    cell_counts: np.ndarray  # (S, K)
    cell_rows: np.ndarray  # (S, K) data rows with an outcome in the cell
    gt_left_rows: np.ndarray  # (S, F) rows with an annotation left untaken (cell (g, None))
    pred_left_rows: np.ndarray  # (S, F) rows with a counted prediction left untaken (None, f)
    ignored: np.ndarray  # (S, F) predictions a crowd region leaves ignored (docs/metrics.md §9)


def _by_level(split: np.ndarray, feature: np.ndarray, level: np.ndarray, weights: np.ndarray | None, shape: tuple[int, int, int]) -> np.ndarray:
    """(S, F, C + 2) counts; then the suffix sums: [..., i] counts those above level i - 1."""
    s, f, width = shape
    key = (split.astype(np.int64) * f + feature) * width + np.minimum(level.astype(np.int64), width - 1)
    counts = np.bincount(key, weights=weights, minlength=s * f * width).reshape(shape)
    return np.cumsum(counts[..., ::-1], axis=-1)[..., ::-1].astype(np.int64)


class SplitFigures:
    def __init__(self, results: RunResults, splits: np.ndarray, n_splits: int) -> None:
        self.results = results
        table = results.table
        n_f = len(results.features)
        n_c = len(results.thresholds)
        self.shape = (n_splits, n_f)
        self.row_split = splits.astype(np.int64)
        self.rows = np.bincount(self.row_split, minlength=n_splits)
        ann, pred, pair = table.group("ann"), table.group("pred"), table.group("pair")
        self.annotations = np.bincount(
            self.row_split[ann["row"]] * n_f + ann["feature"], weights=ann["count"], minlength=n_splits * n_f
        ).astype(np.int64).reshape(self.shape)
        width = n_c + 2
        # active[s, f, i + 1]: predictions active at threshold i (their level is above i).
        self.active = _by_level(self.row_split[pred["row"]], pred["feature"], pred["level"], pred["count"], (n_splits, n_f, width))
        # present[s, f, i + 1]: cells present at threshold i (an annotation, or an active prediction).
        presence = np.where(results.cell_presence == ALWAYS, width - 1, results.cell_presence)
        self.cell_split = self.row_split[results.cell_row]
        self.present = _by_level(self.cell_split, results.cell_feature, presence, None, (n_splits, n_f, width))
        self.pair_split = self.row_split[pair["row"]]
        self._points: OrderedDict[tuple[int, float], PointFigures] = OrderedDict()
        self._curves: OrderedDict[float, tuple[np.ndarray, np.ndarray]] = OrderedDict()
        self._lock = threading.Lock()

    # -- cached per grid point -----------------------------------------------------------

    def point(self, c_index: int, t: float) -> PointFigures:
        key = (c_index, t)
        with self._lock:
            found = self._points.get(key)
        if found is None:
            found = self._compute(c_index, t)
            with self._lock:
                self._points[key] = found
                while len(self._points) > KEPT_POINTS:
                    self._points.popitem(last=False)
        return found

    def _compute(self, c_index: int, t: float) -> PointFigures:
        r = self.results
        n_s, n_f = self.shape
        width = n_f + 1
        pair = r.table.group("pair")
        keep = r.pairs_at(c_index, t, None)
        split = self.pair_split[keep]
        g, f, row = pair["gt"][keep].astype(np.int64), pair["pred"][keep].astype(np.int64), pair["row"][keep]
        same = g == f
        tp = np.bincount(split[same] * n_f + g[same], minlength=n_s * n_f).reshape(self.shape)
        iou_sum = np.bincount(split[same] * n_f + g[same], weights=pair["iou"][keep][same], minlength=n_s * n_f)
        # The cells present, and each pair's index among them: a count over the (F + 1)^2
        # possible cells rather than a sort of the pairs (a million at 100,000 rows).
        key = g * width + f
        present = np.bincount(key, minlength=width * width) > 0
        cells = np.flatnonzero(present)
        inverse = (np.cumsum(present) - 1)[key]
        k = cells.size
        counts = np.bincount(split * k + inverse, minlength=n_s * k).reshape(n_s, k)
        # Distinct (row, cell) pairs: the pairs come in row order, so this sort has little to do.
        row_cells = row.astype(np.int64) * k + inverse
        row_cells.sort(kind="stable")
        row_cells = row_cells[np.diff(row_cells, prepend=-1) != 0]
        rows = np.bincount(self.row_split[row_cells // k] * k + row_cells % k, minlength=n_s * k).reshape(n_s, k)
        n_cells = r.cell_row.size
        taken_gt = np.bincount(r.pair_cell[keep], minlength=n_cells)
        gt_left = r.cell_ann - taken_gt > 0
        ignored = r.ignored(c_index, t)
        predictions = r.counted_per_cell(c_index, ignored)
        pred_left = predictions - np.bincount(r.pair_pred_cell[keep], minlength=n_cells) > 0
        return PointFigures(
            tp=tp,
            iou_sum=iou_sum.reshape(self.shape),
            cells=cells,
            cell_counts=counts,
            cell_rows=rows,
            gt_left_rows=self._per_split_feature(gt_left),
            pred_left_rows=self._per_split_feature(pred_left),
            ignored=self._ignored(ignored),
        )

    def _ignored(self, ignored: np.ndarray | None) -> np.ndarray:
        """(S, F) of the ignored predictions (a RunResults.ignored mask)."""
        n_s, n_f = self.shape
        if ignored is None:
            return np.zeros(self.shape, dtype=np.int64)
        covered = self.results.table.group("covered")
        key = self.row_split[covered["row"][ignored]] * n_f + covered["feature"][ignored]
        return np.bincount(key, minlength=n_s * n_f).reshape(self.shape)

    def _per_split_feature(self, cell_selected: np.ndarray) -> np.ndarray:
        n_s, n_f = self.shape
        r = self.results
        key = self.cell_split[cell_selected] * n_f + r.cell_feature[cell_selected]
        return np.bincount(key, minlength=n_s * n_f).reshape(self.shape)

    # -- answers for a union of splits ---------------------------------------------------

    def feature_counts(self, c_index: int, t: float, splits: Sequence[int]) -> tuple[Counts, np.ndarray, np.ndarray]:
        point = self.point(c_index, t)
        chosen = list(splits)
        tp = point.tp[chosen].sum(axis=0)
        annotations = self.annotations[chosen].sum(axis=0)
        predictions = self.active[chosen, :, c_index + 1].sum(axis=0) - point.ignored[chosen].sum(axis=0)
        tn = int(self.rows[chosen].sum()) - self.present[chosen, :, c_index + 1].sum(axis=0)
        iou_sum = point.iou_sum[chosen].sum(axis=0).astype(np.float64)
        iou_sum[self.results.nested] = np.nan  # §8: a nested answer's IoU is null
        counts = Counts(tp=tp, fp=predictions - tp, fn=annotations - tp, tn=tn, iou_sum=iou_sum)
        return counts, annotations, predictions

    def confusion(self, c_index: int, t: float, splits: Sequence[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The non-empty cells as (cell keys g * (F + 1) + f, counts, data rows), None ones
        included (None is index F)."""
        point = self.point(c_index, t)
        chosen = list(splits)
        n_f = self.shape[1]
        width = n_f + 1
        counts = point.cell_counts[chosen].sum(axis=0)
        rows = point.cell_rows[chosen].sum(axis=0)
        g, f = np.divmod(point.cells, width)
        taken_g = np.bincount(g, weights=counts, minlength=width)[:n_f]
        taken_f = np.bincount(f, weights=counts, minlength=width)[:n_f]
        features = np.arange(n_f)
        none_col = self.annotations[chosen].sum(axis=0) - taken_g
        none_row = self.active[chosen, :, c_index + 1].sum(axis=0) - point.ignored[chosen].sum(axis=0) - taken_f
        keys = np.concatenate([point.cells, features * width + n_f, n_f * width + features])
        values = np.concatenate([counts, none_col, none_row]).astype(np.int64)
        row_counts = np.concatenate(
            [rows, point.gt_left_rows[chosen].sum(axis=0), point.pred_left_rows[chosen].sum(axis=0)]
        ).astype(np.int64)
        nonzero = values > 0
        return keys[nonzero], values[nonzero], row_counts[nonzero]

    def pr_curve(self, t: float, feature: int | None, splits: Sequence[int]) -> list[PrPoint]:
        tp, ignored = self._curve(t)  # (S, F, C) each
        chosen = list(splits)
        n_c = tp.shape[2]
        counted = self.active[..., 1 : n_c + 1] - ignored
        if feature is None:  # all: over top-level features only (§8)
            top = ~self.results.nested
            found = tp[chosen][:, top].sum(axis=(0, 1))
            active = counted[chosen][:, top].sum(axis=(0, 1))
            annotations = int(self.annotations[chosen][:, top].sum())
        else:
            found = tp[chosen, feature].sum(axis=0)
            active = counted[chosen, feature].sum(axis=0)
            annotations = int(self.annotations[chosen, feature].sum())
        precision = ratio(found, active)
        recall = ratio(found, np.full(n_c, annotations))
        return [
            PrPoint(c, nullable(p), nullable(q))
            for c, p, q in zip(self.results.thresholds, precision.tolist(), recall.tolist(), strict=True)
        ]

    def _curve(self, t: float) -> tuple[np.ndarray, np.ndarray]:
        """(S, F, C) taken same-feature pairs and ignored predictions at (every c, t)."""
        with self._lock:
            found = self._curves.get(t)
        if found is None:
            r = self.results
            n_s, n_f = self.shape
            n_c = len(r.thresholds)
            pair = r.table.group("pair")
            keep = r.pair_same & (pair["iou"] > t)
            bits = np.unpackbits(r.table.taken[keep], axis=1, bitorder="little")[:, :n_c]
            index = self.pair_split[keep] * n_f + pair["gt"][keep]
            tp = np.stack(
                [np.bincount(index, weights=bits[:, c], minlength=n_s * n_f) for c in range(n_c)], axis=-1
            ).astype(np.int64).reshape(n_s, n_f, n_c)
            found = (tp, np.stack([self._ignored(r.ignored(c, t)) for c in range(n_c)], axis=-1))
            with self._lock:
                self._curves[t] = found
                while len(self._curves) > KEPT_POINTS:
                    self._curves.popitem(last=False)
        return found
