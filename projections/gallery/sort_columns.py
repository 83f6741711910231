"""The columns the gallery sorts by, over a run's gallery index (projections/gallery/index.py):
a metric per evaluated row placed on the index's rows, a row's highest or lowest prediction
confidence, and the ranks of a column's values (kept with the index, as derived columns are).
The order and the paging over them are projections/gallery/sorting.py.
"""

from __future__ import annotations

import numpy as np

from domain.errors import ValidationFailed
from projections.gallery import sorting
from projections.gallery.index import GalleryIndex
from projections.gallery.selection import Context
from projections.metrics.loader import LoadedRun


def rank_key(key: sorting.SortKey, ctx: Context) -> object:
    """Ranks of a metadata column hold while the datasets stay at their versions."""
    return ("rank", key.field, key.key, ctx.datasets_stamp if key.field == "METADATA" else None)


def ranks(column: np.ndarray) -> np.ndarray:
    """Each value's rank among the column's distinct values (strings sort as numpy does)."""
    return np.unique(column, return_inverse=True)[1].reshape(-1)


def on_index(index: GalleryIndex, loaded: LoadedRun, values: np.ndarray) -> np.ndarray:
    """Values per evaluated row as a column over the index's rows (NaN where not evaluated)."""
    column = np.full(index.n_rows, np.nan)
    rows = index.rows_of_results(loaded.keys, loaded.stamp)
    known = rows >= 0
    column[rows[known]] = values[known]
    return column


def confidence_column(index: GalleryIndex, ctx: Context, key: sorting.SortKey) -> np.ndarray:
    """The highest or lowest prediction confidence per row (of one feature, if given)."""
    if key.feature is not None and key.feature not in ctx.feature_names:
        raise ValidationFailed(f"sort: unknown feature {key.feature!r} in this run's model")
    return index.derived(("confidence", key.field, key.feature), lambda: _confidences(index, key))


def _confidences(index: GalleryIndex, key: sorting.SortKey) -> np.ndarray:
    predictions = index.predictions
    keep = ~np.isnan(predictions.confidences)
    if key.feature is not None:
        keep &= np.isin(predictions.features, index.feature_indices([key.feature]))
    rows, values = predictions.rows[keep], predictions.confidences[keep]
    column = np.full(index.n_rows, np.nan)
    if rows.size:
        # Objects are sorted by row: one reduction per row's run of objects.
        starts = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])
        reduce = np.maximum if key.field == "CONFIDENCE_MAX" else np.minimum
        column[rows[starts]] = reduce.reduceat(values, starts)
    return column
