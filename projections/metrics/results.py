"""A run's match results in memory, cut at any grid point with vectorised numpy.

`RunResults` holds the current match table of every evaluated data row of a run (see
match_table.py) with what every query needs derived once: the (data row, feature) cells,
which cell each pair and each prediction group belongs to, and when each cell is present.
A query is then a handful of bincounts over the pairs and groups it selects (docs/metrics.md §5):
per feature, per data row, per confusion cell, or per confidence threshold for a curve.

Crowd regions (docs/metrics.md §9): a prediction a crowd region of its feature covers by more
than t, active and untaken at (c, t), is ignored: it leaves the predictions counted for FP
and for the confusion matrix's None row (`ignored`); a cell whose predictions are all
ignored has no IoU. Distributions still count it as a prediction.
"""

from __future__ import annotations

import numpy as np

from domain.metrics import Counts
from domain.metrics.ratios import FeatureReport, Metrics, metrics, ratio
from projections.metrics.cells import Cells
from projections.metrics.grid_cache import cached
from projections.metrics.match_table import MatchTable
from projections.metrics.reports import ROW_METRICS, PrPoint, feature_report, nullable

# A cell holding an annotation is present at every confidence threshold.
ALWAYS = 255


class RunResults:
    def __init__(self, table: MatchTable) -> None:
        self.table = table
        self.n_rows = table.n_rows
        self.features = table.features
        self.thresholds = table.confidence_thresholds
        # Nested answers (docs/metrics.md §8): IoU null, not in `all` nor in the data-row level.
        nested = set(table.nested_features)
        self.nested = np.asarray([f in nested for f in self.features], dtype=bool)
        n_f = max(len(self.features), 1)
        ann, pred, pair = table.group("ann"), table.group("pred"), table.group("pair")
        keys = np.concatenate(
            [ann["row"].astype(np.int64) * n_f + ann["feature"], pred["row"].astype(np.int64) * n_f + pred["feature"]]
        )
        cells = Cells(keys, max(self.n_rows, 1) * n_f)
        cell_keys, inverse = cells.keys, cells.of(keys)
        self.ann_cell, self.pred_cell = inverse[: ann["row"].size], inverse[ann["row"].size :]
        self.cell_row, self.cell_feature = np.divmod(cell_keys, n_f)
        n_cells = cell_keys.size
        self.cell_ann = np.bincount(self.ann_cell, weights=ann["count"], minlength=n_cells).astype(np.int64)
        presence = np.zeros(n_cells, dtype=np.int64)
        np.maximum.at(presence, self.pred_cell, pred["level"].astype(np.int64))
        presence[self.cell_ann > 0] = ALWAYS
        self.cell_presence = presence
        self.cell_nested = self.nested[self.cell_feature]
        self.pair_same = pair["gt"] == pair["pred"]
        # Same-feature pairs count in the cell of their (row, feature); the annotation is
        # there, so the cell exists.
        self.pair_cell = cells.of(pair["row"].astype(np.int64) * n_f + pair["gt"])
        # And each pair's prediction is in the cell of its (row, predicted feature).
        self.pair_pred_cell = cells.of(pair["row"].astype(np.int64) * n_f + pair["pred"])
        covered = table.group("covered")
        self.has_crowd = bool(covered["row"].size)
        if self.has_crowd:
            # A covered prediction is in the "pred" group, so its cell exists.
            self.covered_cell = cells.of(covered["row"].astype(np.int64) * n_f + covered["feature"])
            self.covered_key = _prediction_key(covered["row"], covered["pred_id"])
            self.pair_key = _prediction_key(pair["row"], pair["pred_id"])
        self._taken: dict[int, np.ndarray] = {}
        self._cells: dict[tuple[int, float], tuple[Counts, np.ndarray]] = {}
        self._row_metrics: dict[tuple[int, float], Metrics] = {}
        self._feature_row_metrics: dict[tuple[int, float, int], Metrics] = {}
        self._by_feature: tuple[np.ndarray, np.ndarray] | None = None
        self._row_starts: tuple[np.ndarray, np.ndarray] | None = None

    # -- selections -----------------------------------------------------------------------

    def confidence_index(self, confidence: float) -> int | None:
        for i, c in enumerate(self.thresholds):
            if c == confidence:
                return i
        return None

    def taken(self, c_index: int) -> np.ndarray:
        found = self._taken.get(c_index)
        if found is None:
            found = self._taken[c_index] = self.table.taken_at(c_index)
        return found

    def pairs_at(self, c_index: int, t: float, mask: np.ndarray | None) -> np.ndarray:
        """Whether each pair is taken at (c, t) in the selected rows."""
        pair = self.table.group("pair")
        keep = self.taken(c_index) & (pair["iou"] > t)
        if mask is not None:
            keep &= mask[pair["row"]]
        return keep

    def _active(self, c_index: int, mask: np.ndarray | None) -> np.ndarray:
        pred = self.table.group("pred")
        keep = pred["level"] > c_index
        if mask is not None:
            keep &= mask[pred["row"]]
        return keep

    def ignored(self, c_index: int, t: float, mask: np.ndarray | None = None) -> np.ndarray | None:
        """Bool per "covered" entry: ignored at (c, t) in the selected rows (active, covered
        by more than t, no pair of it taken at (c, t)); None when the run has no crowd region."""
        if not self.has_crowd:
            return None
        covered = self.table.group("covered")
        out = (covered["level"] > c_index) & (covered["cover"] > t)
        if mask is not None:
            out &= mask[covered["row"]]
        if out.any():
            keep = self.pairs_at(c_index, t, mask) & (self.table.group("pair")["pred_id"] >= 0)
            out &= ~np.isin(self.covered_key, self.pair_key[keep])
        return out

    def ignored_per_feature(self, c_index: int, t: float, mask: np.ndarray | None = None) -> np.ndarray:
        ignored = self.ignored(c_index, t, mask)
        n = len(self.features)
        if ignored is None:
            return np.zeros(n, dtype=np.int64)
        return np.bincount(self.table.group("covered")["feature"][ignored], minlength=n)

    def counted_per_cell(self, c_index: int, ignored: np.ndarray | None) -> np.ndarray:
        """Active predictions per cell at c, the `ignored` ones (of `ignored(c, t)`) left out."""
        pred = self.table.group("pred")
        active = self._active(c_index, None)
        n_cells = self.cell_row.size
        counted = np.bincount(self.pred_cell[active], weights=pred["count"][active], minlength=n_cells).astype(np.int64)
        if ignored is not None:
            counted -= np.bincount(self.covered_cell[ignored], minlength=n_cells)
        return counted

    def selected_rows(self, mask: np.ndarray | None) -> int:
        return self.n_rows if mask is None else int(mask.sum())

    # -- per feature ----------------------------------------------------------------------

    def feature_counts(self, c_index: int, t: float, mask: np.ndarray | None = None) -> tuple[Counts, np.ndarray, np.ndarray]:
        """Counts per feature, and annotations and counted predictions per feature (active,
        and not ignored at (c, t))."""
        n = len(self.features)
        pair, pred, ann = self.table.group("pair"), self.table.group("pred"), self.table.group("ann")
        keep = self.pairs_at(c_index, t, mask) & self.pair_same
        tp = np.bincount(pair["gt"][keep], minlength=n)
        iou_sum = np.bincount(pair["gt"][keep], weights=pair["iou"][keep], minlength=n)
        active = self._active(c_index, mask)
        predictions = np.bincount(pred["feature"][active], weights=pred["count"][active], minlength=n).astype(np.int64)
        predictions -= self.ignored_per_feature(c_index, t, mask)
        ann_keep = slice(None) if mask is None else mask[ann["row"]]
        annotations = np.bincount(ann["feature"][ann_keep], weights=ann["count"][ann_keep], minlength=n).astype(np.int64)
        present = self.cell_presence > c_index
        if mask is not None:
            present &= mask[self.cell_row]
        tn = self.selected_rows(mask) - np.bincount(self.cell_feature[present], minlength=n)
        iou_sum = iou_sum.astype(np.float64)
        iou_sum[self.nested] = np.nan
        counts = Counts(tp=tp, fp=predictions - tp, fn=annotations - tp, tn=tn, iou_sum=iou_sum)
        return counts, annotations, predictions

    def feature_report(self, c_index: int, t: float, mask: np.ndarray | None = None) -> FeatureReport:
        return feature_report(self.features, self.feature_counts(c_index, t, mask)[0], self.nested)

    def confusion(self, c_index: int, t: float, mask: np.ndarray | None = None) -> np.ndarray:
        """(F + 1)²: rows ground truth, columns predictions, the last of each is None."""
        n = len(self.features)
        size = n + 1
        pair = self.table.group("pair")
        keep = self.pairs_at(c_index, t, mask)
        g, f = pair["gt"][keep].astype(np.int64), pair["pred"][keep].astype(np.int64)
        matrix = np.bincount(g * size + f, minlength=size * size).reshape(size, size)
        _, annotations, predictions = self.feature_counts(c_index, t, mask)
        matrix[:n, n] = annotations - np.bincount(g, minlength=n)
        matrix[n, :n] = predictions - np.bincount(f, minlength=n)
        return matrix

    def pr_curve(self, t: float, feature: int | None = None, mask: np.ndarray | None = None) -> list[PrPoint]:
        """(c, precision, recall) at every confidence threshold, re-matched at each."""
        n_c = len(self.thresholds)
        pair, pred, ann = self.table.group("pair"), self.table.group("pred"), self.table.group("ann")
        keep = self.pair_same & (pair["iou"] > t)
        pred_keep = np.ones(pred["row"].size, dtype=bool)
        ann_keep = np.ones(ann["row"].size, dtype=bool)
        if feature is None:  # all: over top-level features only
            keep &= ~self.nested[pair["gt"]]
            pred_keep &= ~self.nested[pred["feature"]]
            ann_keep &= ~self.nested[ann["feature"]]
        else:
            keep &= pair["gt"] == feature
            pred_keep &= pred["feature"] == feature
            ann_keep &= ann["feature"] == feature
        if mask is not None:
            keep &= mask[pair["row"]]
            pred_keep &= mask[pred["row"]]
            ann_keep &= mask[ann["row"]]
        bits = np.unpackbits(self.table.taken[keep], axis=1, bitorder="little")[:, :n_c]
        tp = bits.sum(axis=0, dtype=np.int64)
        by_level = np.bincount(pred["level"][pred_keep], weights=pred["count"][pred_keep], minlength=n_c + 2)
        # Active at threshold i: the predictions whose level is above i.
        active = np.cumsum(by_level[::-1])[::-1][1 : n_c + 1].astype(np.int64)
        if self.has_crowd:
            covered = self.table.group("covered")
            chosen = ~self.nested[covered["feature"]] if feature is None else covered["feature"] == feature
            for i in range(n_c):
                ignored = self.ignored(i, t, mask)
                assert ignored is not None
                active[i] -= int((ignored & chosen).sum())
        annotations = int(ann["count"][ann_keep].sum())
        precision = ratio(tp, active)
        recall = ratio(tp, np.full(n_c, annotations))
        return [
            PrPoint(c, nullable(p), nullable(r))
            for c, p, r in zip(self.thresholds, precision.tolist(), recall.tolist(), strict=True)
        ]

    # -- per data row ---------------------------------------------------------------------

    def cell_counts(self, c_index: int, t: float) -> tuple[Counts, np.ndarray]:
        """Counts of every cell at (c, t), and whether each cell is present (not a TN).

        Kept for the last few grid points: per-row metrics, filters, sorts and automatic
        slices of one gallery page all start from them."""
        return cached(self._cells, (c_index, float(t)), lambda: self._cell_counts(c_index, t))

    def _cell_counts(self, c_index: int, t: float) -> tuple[Counts, np.ndarray]:
        n_cells = self.cell_row.size
        pair = self.table.group("pair")
        keep = self.pairs_at(c_index, t, None) & self.pair_same
        tp = np.bincount(self.pair_cell[keep], minlength=n_cells)
        iou_sum = np.bincount(self.pair_cell[keep], weights=pair["iou"][keep], minlength=n_cells)
        predictions = self.counted_per_cell(c_index, self.ignored(c_index, t))
        present = self.cell_presence > c_index
        iou_sum = iou_sum.astype(np.float64)
        iou_sum[self.cell_nested] = np.nan
        counts = Counts(tp=tp, fp=predictions - tp, fn=self.cell_ann - tp, tn=(~present).astype(np.int64), iou_sum=iou_sum)
        return counts, present

    def row_metrics(self, c_index: int, t: float) -> Metrics:
        """Per data row (docs/metrics.md §5): sums over its features; IoU the mean of its
        features' defined IoUs."""
        return cached(self._row_metrics, (c_index, float(t)), lambda: self._compute_row_metrics(c_index, t))

    def _compute_row_metrics(self, c_index: int, t: float) -> Metrics:
        cells, present = self.cell_counts(c_index, t)
        # Over top-level features only (a nested answer's cell adds nothing to its row).
        top = ~self.cell_nested
        tp, fp, fn = (self._per_row(np.where(top, values, 0)) for values in (cells.tp, cells.fp, cells.fn))
        tn = int((~self.nested).sum()) - self._per_row((present & top).astype(np.int64))
        cell_iou = ratio(cells.iou_sum, cells.tp + cells.fp + cells.fn)
        defined = present & top & ~np.isnan(cell_iou)
        iou = ratio(self._per_row(np.where(defined, cell_iou, 0.0)), self._per_row(defined.astype(np.int64)))
        return Metrics(
            tp, fp, fn, tn, ratio(tp, tp + fp), ratio(tp, tp + fn), ratio(2 * tp, 2 * tp + fp + fn), iou
        )  # fmt: skip

    def feature_row_metrics(self, c_index: int, t: float, feature: int) -> Metrics:
        """Per data row, the metrics of one feature's cell (a row without one is a TN).
        Kept for the last few (grid point, feature)s."""
        return cached(
            self._feature_row_metrics, (c_index, float(t), feature), lambda: self._feature_rows(c_index, t, feature)
        )

    def _feature_rows(self, c_index: int, t: float, feature: int) -> Metrics:
        cells, present = self.cell_counts(c_index, t)
        n = self.n_rows
        of_feature = self.cells_of_feature(feature)
        of_feature = of_feature[present[of_feature]]
        rows = self.cell_row[of_feature]
        columns = []
        for values in (cells.tp, cells.fp, cells.fn, cells.iou_sum):
            column = np.zeros(n, dtype=values.dtype)
            column[rows] = values[of_feature]
            columns.append(column)
        tp, fp, fn, iou_sum = columns
        tn = np.ones(n, dtype=np.int64)
        tn[rows] = 0
        return metrics(tp, fp, fn, tn, iou_sum)

    def rows_with(self, cell_mask: np.ndarray) -> np.ndarray:
        """Per data row, whether one of its cells is in `cell_mask`."""
        out = np.zeros(self.n_rows, dtype=bool)
        if self.cell_row.size:
            rows, starts = self._rows_of_cells()
            out[rows] = np.logical_or.reduceat(cell_mask, starts)
        return out

    def _per_row(self, values: np.ndarray) -> np.ndarray:
        """Per data row, the sum of one value per cell over its cells."""
        out = np.zeros(self.n_rows, dtype=values.dtype)
        if self.cell_row.size:
            rows, starts = self._rows_of_cells()
            out[rows] = np.add.reduceat(values, starts)
        return out

    def _rows_of_cells(self) -> tuple[np.ndarray, np.ndarray]:
        """The rows with a cell and where each one's cells start: the cells come in row order,
        so a per-row figure is one reduction per row (not a gather and scatter, nor a
        weighted count, of every cell)."""
        if self._row_starts is None:
            starts = np.flatnonzero(np.diff(self.cell_row, prepend=-1))
            self._row_starts = (self.cell_row[starts], starts)
        return self._row_starts

    def cells_of_feature(self, feature: int) -> np.ndarray:
        """The cells of one feature (ascending), found without a pass over every cell."""
        if self._by_feature is None:
            order = np.argsort(self.cell_feature, kind="stable")
            bounds = np.searchsorted(self.cell_feature[order], np.arange(len(self.features) + 1))
            self._by_feature = (order, bounds)
        order, bounds = self._by_feature
        return order[bounds[feature] : bounds[feature + 1]]

    def row_metric(self, name: str, c_index: int, t: float, feature: int | None = None) -> np.ndarray:
        """One automatic metric per data row, float64 with NaN for null."""
        if name not in ROW_METRICS:
            raise KeyError(name)
        found = self.row_metrics(c_index, t) if feature is None else self.feature_row_metrics(c_index, t, feature)
        return np.asarray(getattr(found, name), dtype=np.float64)

    # -- confusion cells ------------------------------------------------------------------

    def confusion_cell_rows(
        self, c_index: int, t: float, gt: int | None, prediction: int | None, mask: np.ndarray | None
    ) -> np.ndarray:
        """The data rows (ascending) with at least one outcome in the cell (gt, prediction);
        None is the None label."""
        pair = self.table.group("pair")
        keep = self.pairs_at(c_index, t, mask)
        if gt is not None and prediction is not None:
            hit = keep & (pair["gt"] == gt) & (pair["pred"] == prediction)
            return np.unique(pair["row"][hit])
        if gt is None and prediction is None:
            return np.empty(0, dtype=np.int64)
        n_cells = self.cell_row.size
        side = "gt" if gt is not None else "pred"
        feature = gt if gt is not None else prediction
        cell_of_pair = self.pair_cell if side == "gt" else self.pair_pred_cell
        taken = np.bincount(cell_of_pair[keep], minlength=n_cells)
        total = self.cell_ann if gt is not None else self.counted_per_cell(c_index, self.ignored(c_index, t))
        left = (total - taken > 0) & (self.cell_feature == feature)
        if mask is not None:
            left &= mask[self.cell_row]
        return np.unique(self.cell_row[left])

    def confusion_rows(self, c_index: int, t: float, mask: np.ndarray | None) -> np.ndarray:
        """(F + 1)²: how many data rows have an outcome in each cell (all cells at once)."""
        n = len(self.features)
        size = n + 1
        pair = self.table.group("pair")
        keep = self.pairs_at(c_index, t, mask)
        g, f, row = pair["gt"][keep].astype(np.int64), pair["pred"][keep].astype(np.int64), pair["row"][keep]
        matrix = np.zeros((size, size), dtype=np.int64)
        cell_row_keys = np.unique((g * size + f) * max(self.n_rows, 1) + row)
        matrix += np.bincount(cell_row_keys // max(self.n_rows, 1), minlength=size * size).reshape(size, size)
        n_cells = self.cell_row.size
        in_mask = np.ones(n_cells, dtype=bool) if mask is None else mask[self.cell_row]
        taken_gt = np.bincount(self.pair_cell[keep], minlength=n_cells)
        left_gt = (self.cell_ann - taken_gt > 0) & in_mask
        matrix[:n, n] = np.bincount(self.cell_feature[left_gt], minlength=n)
        predictions = self.counted_per_cell(c_index, self.ignored(c_index, t))
        taken_pred = np.bincount(self.pair_pred_cell[keep], minlength=n_cells)
        left_pred = (predictions - taken_pred > 0) & in_mask
        matrix[n, :n] = np.bincount(self.cell_feature[left_pred], minlength=n)
        return matrix

    # -- distributions --------------------------------------------------------------------

    def object_counts(
        self, side: str, mask: np.ndarray | None, c_index: int | None = None
    ) -> tuple[tuple[str, ...], np.ndarray, np.ndarray]:
        """(feature names, objects per feature, data rows with one per feature) of the
        annotations ("ann") or predictions ("pred", active at c_index if given), text included."""
        names = (*self.features, *self.table.text_features)
        objects = np.zeros(len(names), dtype=np.int64)
        rows = np.zeros(len(names), dtype=np.int64)
        for group_name, offset in ((side, 0), (f"text_{side}", len(self.features))):
            group = self.table.group(group_name)
            keep = np.ones(group["row"].size, dtype=bool)
            if mask is not None:
                keep &= mask[group["row"]]
            if c_index is not None and "level" in group:
                keep &= group["level"] > c_index
            width = len(names)
            objects += np.bincount(group["feature"][keep] + offset, weights=group["count"][keep], minlength=width).astype(np.int64)
            pairs = np.unique(group["row"][keep].astype(np.int64) * width + group["feature"][keep] + offset)
            rows += np.bincount(pairs % width, minlength=width)
        return names, objects, rows

    def crowd_counts(self, mask: np.ndarray | None) -> np.ndarray:
        """Crowd regions per matched feature in the selected rows (docs/metrics.md §9)."""
        crowd = self.table.group("crowd")
        keep = slice(None) if mask is None else mask[crowd["row"]]
        return np.bincount(crowd["feature"][keep], weights=crowd["count"][keep], minlength=len(self.features)).astype(np.int64)


def _prediction_key(row: np.ndarray, pred_id: np.ndarray) -> np.ndarray:
    """One int64 per (data row, prediction id of its chunk)."""
    return (row.astype(np.int64) << 32) | pred_id.astype(np.int64).astype(np.uint32)
