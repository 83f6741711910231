"""Which evaluated rows a metrics query covers: an AND of clauses, each an OR of values.

The clauses are those of the gallery's filter language (the schema's DataRowFilter) that the
metrics read model can answer, plus a confusion-matrix cell. Clauses on metric values (a
metric range, a confusion cell) depend on the match results, so they are refused while the
run's metrics are being computed: the answer would mix old and new results.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from domain.errors import ValidationFailed
from domain.filter_language import (
    AutoSliceClause,
    Clause,
    ConfidenceClause,
    ConfusionClause,
    EvaluatedClause,
    MetadataClause,
    MetricClause,
    SliceClause,
)
from projections.metrics.loader import LoadedRun
from projections.metrics.reports import ROW_METRICS
from projections.row_filter import Side, keys_mask, kind_of, rows_mask, select
from projections.row_keys import keys_of_ids

Grid = tuple[int, float]  # (confidence threshold index, IoU threshold)
# Global keys -> data row ids of the run (the read model of rows answers it).
KeyResolver = Callable[[Sequence[str]], list[str]]


def feature_index(loaded: LoadedRun, name: str) -> int:
    try:
        return loaded.results.features.index(name)
    except ValueError:
        raise ValidationFailed(f"feature {name!r} is not a matched feature of this run's results") from None


# Clauses on what only the gallery holds (exact confidences, metadata, saved slices): the
# gallery answers them with the keys of the run's rows they select.
GALLERY_CLAUSES = (ConfidenceClause, MetadataClause, SliceClause, AutoSliceClause)
# (run id, clauses, (confidence, iou)) -> keys of the rows selected.
GalleryRows = Callable[[str, Sequence[Clause], tuple[float, float]], np.ndarray]


def row_mask(
    loaded: LoadedRun, clauses: Sequence[Clause], grid: Grid, resolve: KeyResolver, gallery: GalleryRows | None = None
) -> np.ndarray | None:
    """The selected rows (None for all)."""
    if not clauses:
        return None
    return select(EvaluatedRows(loaded, grid, resolve, gallery), clauses)


@dataclass(frozen=True)
class EvaluatedRows:
    """A run's evaluated rows at a grid point, as the rows a filter selects from
    (projections/row_filter.py)."""

    loaded: LoadedRun
    grid: Grid
    resolve: KeyResolver
    gallery: GalleryRows | None

    answered_elsewhere = GALLERY_CLAUSES

    @property
    def n_rows(self) -> int:
        return self.loaded.results.n_rows

    @property
    def splits(self) -> np.ndarray:
        return self.loaded.splits

    def rows_of_keys(self, keys: np.ndarray) -> np.ndarray:
        return self.loaded.rows_of_keys(keys)

    def global_keys_mask(self, global_keys: Sequence[str]) -> np.ndarray:
        # The results hold row ids only: the read model of rows turns keys into ids.
        return keys_mask(self, keys_of_ids(self.resolve(global_keys)))

    def object_counts(self, side: Side, features: Sequence[str]) -> np.ndarray:
        return _object_counts(self.loaded, features, "ann" if side == "annotations" else "pred")

    def elsewhere(self, clauses: Sequence[Clause]) -> np.ndarray:
        if self.gallery is None:
            raise ValidationFailed("confidence, metadata and slice clauses are not available here")
        confidence = float(self.loaded.results.thresholds[self.grid[0]])
        return keys_mask(self, self.gallery(self.loaded.run_id, clauses, (confidence, self.grid[1])))

    def own(self, clause: Clause, depth: int) -> np.ndarray:
        loaded, grid = self.loaded, self.grid
        n = loaded.results.n_rows
        if isinstance(clause, EvaluatedClause):
            # The metrics read model holds the evaluated rows only.
            return np.full(n, clause.evaluated, dtype=bool)
        if isinstance(clause, MetricClause):
            values = metric_values(loaded, clause.name, clause.feature, grid)
            mask = ~np.isnan(values)
            if clause.min is not None:
                mask &= values >= clause.min
            if clause.max is not None:
                mask &= values < clause.max if clause.max_exclusive else values <= clause.max
            return mask
        if isinstance(clause, ConfusionClause):
            gt = None if clause.ground_truth is None else feature_index(loaded, clause.ground_truth)
            pred = None if clause.prediction is None else feature_index(loaded, clause.prediction)
            return rows_mask(n, loaded.results.confusion_cell_rows(grid[0], grid[1], gt, pred, None))
        raise ValidationFailed(f"a {kind_of(clause)} clause cannot be used here")


def metric_values(loaded: LoadedRun, name: str, feature: str | None, grid: Grid) -> np.ndarray:
    """An automatic or custom metric per evaluated row at the grid point (NaN = null)."""
    results = loaded.results
    if name.lower() in ROW_METRICS:
        index = None if feature is None else feature_index(loaded, feature)
        return results.row_metric(name.lower(), grid[0], grid[1], index)
    metric = loaded.custom.index(name, feature)
    if metric is None:
        scope = "" if feature is None else f" of feature {feature!r}"
        raise ValidationFailed(f"metric {name!r}{scope} is neither an automatic metric nor an uploaded custom metric")
    return loaded.custom.per_row(metric, grid[0], results.n_rows)


def _object_counts(loaded: LoadedRun, features: Sequence[str], side: str) -> np.ndarray:
    table = loaded.results.table
    n = loaded.results.n_rows
    counts = np.zeros(n, dtype=np.int64)
    for group_name, names in ((side, table.features), (f"text_{side}", table.text_features)):
        wanted = [names.index(f) for f in features if f in names]
        if not wanted:
            continue
        group = table.group(group_name)
        keep = np.isin(group["feature"], wanted)
        counts += np.bincount(group["row"][keep], weights=group["count"][keep], minlength=n).astype(np.int64)
    return counts
