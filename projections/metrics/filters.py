"""Which evaluated rows a metrics query covers: an AND of clauses, each an OR of values.

The clauses are those of the gallery's filter language (the schema's DataRowFilter) that the
metrics read model can answer, plus a confusion-matrix cell. Clauses on metric values (a
metric range, a confusion cell) depend on the match results, so they are refused while the
run's metrics are being computed: the answer would mix old and new results.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from domain.errors import ValidationFailed
from domain.filter_language import (
    AnnotationClause,
    AutoSliceClause,
    Clause,
    ConfidenceClause,
    DataRowsClause,
    EvaluatedClause,
    MetadataClause,
    MetricClause,
    PredictionClause,
    SelectionClause,
    SliceClause,
    SplitClause,
)
from domain.splits import SPLITS, parse_split
from projections.metrics.loader import LoadedRun
from projections.metrics.results import ROW_METRICS
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
    mask: np.ndarray | None = None
    outside = [c for c in clauses if isinstance(c, GALLERY_CLAUSES)]
    if outside:
        if gallery is None:
            raise ValidationFailed("confidence, metadata and slice clauses are not available here")
        confidence = float(loaded.results.thresholds[grid[0]])
        mask = _keys_mask(loaded, gallery(loaded.run_id, outside, (confidence, grid[1])))
    for clause in clauses:
        if isinstance(clause, GALLERY_CLAUSES):
            continue
        selected = clause_mask(loaded, clause, grid, resolve)
        mask = selected if mask is None else mask & selected
    return mask


def _keys_mask(loaded: LoadedRun, keys: np.ndarray) -> np.ndarray:
    mask = np.zeros(loaded.results.n_rows, dtype=bool)
    rows = loaded.rows_of_keys(keys)
    mask[rows[rows >= 0]] = True
    return mask


def clause_mask(loaded: LoadedRun, clause: Clause, grid: Grid, resolve: KeyResolver) -> np.ndarray:
    n = loaded.results.n_rows
    if isinstance(clause, EvaluatedClause):
        # The metrics read model holds the evaluated rows only.
        return np.full(n, clause.evaluated, dtype=bool)
    if isinstance(clause, SplitClause):
        codes = [SPLITS.index(parse_split(s).value) for s in clause.splits]
        return np.isin(loaded.splits, codes)
    if isinstance(clause, DataRowsClause | SelectionClause):
        keyed = getattr(clause, "global_keys", ())
        ids = list(clause.ids) + resolve(keyed) if keyed else list(clause.ids)
        return _keys_mask(loaded, keys_of_ids(ids))
    if isinstance(clause, AnnotationClause | PredictionClause):
        counts = _object_counts(loaded, clause.features, "ann" if isinstance(clause, AnnotationClause) else "pred")
        if not clause.present:
            return counts == 0
        low = getattr(clause, "min", None)
        high = getattr(clause, "max", None)
        mask = counts >= (1 if low is None else low)
        return mask if high is None else mask & (counts <= high)
    if isinstance(clause, MetricClause):
        values = metric_values(loaded, clause.name, clause.feature, grid)
        mask = ~np.isnan(values)
        if clause.min is not None:
            mask &= values >= clause.min
        if clause.max is not None:
            mask &= values < clause.max if clause.max_exclusive else values <= clause.max
        return mask
    gt = None if clause.ground_truth is None else feature_index(loaded, clause.ground_truth)
    pred = None if clause.prediction is None else feature_index(loaded, clause.prediction)
    mask = np.zeros(n, dtype=bool)
    mask[loaded.results.confusion_cell_rows(grid[0], grid[1], gt, pred, None)] = True
    return mask


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
