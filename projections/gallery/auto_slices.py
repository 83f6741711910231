"""The automatic slices of a run (docs/metrics.md §12) at one grid point, over its evaluated rows.

Each is a boolean mask over the metrics read model's evaluated rows; "Low confidence" needs
every prediction's exact confidence and is answered from the gallery's predictions instead.
`auto_slice_rows` gives a slice's rows of the gallery's index.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from domain.errors import ValidationFailed
from domain.filters import AUTO_SLICES
from projections.gallery.index import GalleryIndex
from projections.metrics.loader import LoadedRun
from projections.metrics.queries import MetricQueries

__all__ = ["AUTO_SLICES", "bounds_of", "result_slices"]


DEFAULT_BOUNDS = {"low_precision": 0.5, "low_recall": 0.5, "low_f1": 0.5, "low_confidence": 0.5, "mislabel_confidence": 0.9}


def bounds_of(settings: Mapping[str, Any]) -> dict[str, float]:
    return {name: float(settings.get(name, default)) for name, default in DEFAULT_BOUNDS.items()}


def result_slices(loaded: LoadedRun, c_index: int, t: float) -> dict[str, np.ndarray]:
    """Every automatic slice but Low confidence, as masks over the evaluated rows (kept with
    the run's results, per grid point)."""
    key = ("auto slices", c_index, float(t))
    found = loaded.derived.get(key)
    if found is None:
        found = loaded.derived[key] = _result_slices(loaded, c_index, t)
    return found  # type: ignore[return-value]  # `derived` holds what _result_slices made under this key


def _result_slices(loaded: LoadedRun, c_index: int, t: float) -> dict[str, np.ndarray]:
    results = loaded.results
    n = results.n_rows
    bounds = bounds_of(loaded.settings)
    cells, present = results.cell_counts(c_index, t)
    rows_where = results.rows_with
    tp, fp, fn = cells.tp, cells.fp, cells.fn
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(tp + fp > 0, tp / (tp + fp), np.nan)
        recall = np.where(tp + fn > 0, tp / (tp + fn), np.nan)
        f1 = np.where(2 * tp + fp + fn > 0, 2 * tp / (2 * tp + fp + fn), np.nan)
    pair = results.table.group("pair")
    cross = results.pairs_at(c_index, t, None) & ~results.pair_same
    mislabel = np.zeros(n, dtype=bool)
    mislabel[pair["row"][cross & (pair["confidence"] >= np.float32(bounds["mislabel_confidence"]))]] = True
    return {
        "True positive": rows_where(tp > 0),
        "False positive": rows_where(fp > 0),
        "False negative": rows_where(fn > 0),
        "True negative": ~rows_where(present) & ~_text_rows(loaded, c_index),
        "Low precision": rows_where(precision < bounds["low_precision"]),
        "Low recall": rows_where(recall < bounds["low_recall"]),
        "Low F1": rows_where(f1 < bounds["low_f1"]),
        "Candidate mislabels": mislabel,
    }


def _text_rows(loaded: LoadedRun, c_index: int) -> np.ndarray:
    """Rows with a free-text answer, annotated or actively predicted: not true negatives."""
    table = loaded.results.table
    mask = np.zeros(loaded.results.n_rows, dtype=bool)
    mask[table.group("text_ann")["row"]] = True
    text_pred = table.group("text_pred")
    mask[text_pred["row"][text_pred["level"] > c_index]] = True
    return mask


def auto_slice_rows(
    index: GalleryIndex, loaded: LoadedRun, name: str, metrics: MetricQueries, confidence: float, iou: float
) -> np.ndarray:
    """The index rows of an automatic slice at the grid point."""
    if name == "Low confidence":
        return np.flatnonzero(low_confidence(index, loaded, confidence))
    if name not in AUTO_SLICES:
        raise ValidationFailed(f"unknown automatic slice {name!r}; expected one of {list(AUTO_SLICES)}")
    c_index, t = metrics.grid(loaded, confidence, iou)
    rows = index.rows_of_results(loaded.keys, loaded.stamp)[result_slices(loaded, c_index, t)[name]]
    return rows[rows >= 0]


def low_confidence(index: GalleryIndex, loaded: LoadedRun, confidence: float) -> np.ndarray:
    """Evaluated rows with an active prediction (confidence ≥ c; none counts as 1) whose
    confidence is below the run's low-confidence bound."""
    bound = bounds_of(loaded.settings)["low_confidence"]
    predictions = index.predictions
    conf = np.where(np.isnan(predictions.confidences), 1.0, predictions.confidences)
    low = (conf >= confidence) & (conf < bound)
    mask = np.zeros(index.n_rows, dtype=bool)
    mask[predictions.rows[low]] = True
    evaluated = np.zeros(index.n_rows, dtype=bool)
    rows = index.rows_of_results(loaded.keys, loaded.stamp)
    evaluated[rows[rows >= 0]] = True
    return mask & evaluated
