"""Evaluating a filter over a run's gallery index: a boolean mask over its current rows.

Clauses on match results (a metric range, a confusion cell) are answered by the metrics
read model's results of the evaluated rows, mapped onto the gallery's rows by key; a row
without results fails them (its metric is null). A slice clause is its slice's own filter,
evaluated here, in this run.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from domain.errors import ValidationFailed
from domain.filter_language import (
    AnnotationClause,
    AutoSliceClause,
    Clause,
    ConfidenceClause,
    ConfusionClause,
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
from projections.gallery.index import GalleryIndex
from projections.gallery.view import GalleryView
from projections.metrics.queries import MetricsOutOfSync
from projections.row_keys import keys_of_ids

# Index rows of the evaluated rows selected by result clauses at a grid point.
ResultRows = Callable[[Sequence[Clause]], np.ndarray]
# Index rows of an automatic slice at the query's grid point.
AutoSliceRows = Callable[[str], np.ndarray]
# A saved slice's clauses (NotFound / ValidationFailed when there is no such slice).
SliceClauses = Callable[[str], list[Clause]]

MAX_SLICE_DEPTH = 8


@dataclass(frozen=True)
class Context:
    view: GalleryView
    index: GalleryIndex
    feature_names: frozenset[str]  # the model's features
    metadata_kinds: dict[str, str]  # key -> STRING / NUMBER / DATETIME / ENUM
    datasets_stamp: tuple[tuple[str, int, int], ...]  # the run's datasets: versions, newest metadata change
    result_rows: ResultRows
    auto_slice_rows: AutoSliceRows
    slice_clauses: SliceClauses
    evaluated_rows: Callable[[], np.ndarray]  # index rows whose metrics are computed


def select(ctx: Context, clauses: Sequence[Clause], depth: int = 0) -> np.ndarray:
    """The rows every clause holds for (all rows for no clause)."""
    mask = np.ones(ctx.index.n_rows, dtype=bool)
    results = [c for c in clauses if isinstance(c, MetricClause | ConfusionClause)]
    if results:
        mask &= _of_rows(ctx.index, ctx.result_rows(results))
    for position, clause in enumerate(clauses, start=1):
        if isinstance(clause, MetricClause | ConfusionClause):
            continue
        if isinstance(clause, AutoSliceClause):
            mask &= _of_rows(ctx.index, ctx.auto_slice_rows(clause.name))
            continue
        if isinstance(clause, EvaluatedClause):
            evaluated = _of_rows(ctx.index, ctx.evaluated_rows())
            mask &= evaluated if clause.evaluated else ~evaluated
            continue
        try:
            mask &= _clause_mask(ctx, clause, depth)
        except ValidationFailed as exc:
            if exc.message.startswith("clause "):
                raise
            # Of its class: a slice's metric clause while the metrics are computed is
            # still MetricsOutOfSync (waited out by the slice refresher), not a bad filter.
            error = MetricsOutOfSync if isinstance(exc, MetricsOutOfSync) else ValidationFailed
            raise error(f"clause {position} ({_kind(clause)}): {exc.message}") from None
    return mask


def _kind(clause: Clause) -> str:
    return type(clause).__name__.removesuffix("Clause").lower()


def _of_rows(index: GalleryIndex, rows: np.ndarray) -> np.ndarray:
    mask = np.zeros(index.n_rows, dtype=bool)
    mask[rows] = True
    return mask


def _of_keys(index: GalleryIndex, keys: np.ndarray) -> np.ndarray:
    rows = index.rows_of_keys(keys)
    return _of_rows(index, rows[rows >= 0])


def _ids_mask(index: GalleryIndex, ids: Sequence[str]) -> np.ndarray:
    return _of_keys(index, keys_of_ids(ids))


def _clause_mask(ctx: Context, clause: Clause, depth: int) -> np.ndarray:
    index = ctx.index
    if isinstance(clause, SplitClause):
        return np.isin(index.splits, [SPLITS.index(parse_split(s).value) for s in clause.splits])
    if isinstance(clause, DataRowsClause):
        return _ids_mask(index, clause.ids) | np.isin(index.global_keys, list(clause.global_keys))
    if isinstance(clause, SelectionClause):
        return _ids_mask(index, clause.ids)
    if isinstance(clause, AnnotationClause | PredictionClause):
        _check_features(ctx, clause.features)
        side = "annotations" if isinstance(clause, AnnotationClause) else "predictions"
        objects = index.annotations if side == "annotations" else index.predictions
        counts = index.derived(
            ("count", side, clause.features), lambda: objects.per_row(index.n_rows, index.feature_indices(clause.features))
        )
        if not clause.present:
            return counts == 0
        low = getattr(clause, "min", None)
        high = getattr(clause, "max", None)
        mask = counts >= (1 if low is None else low)
        return mask if high is None else mask & (counts <= high)
    if isinstance(clause, ConfidenceClause):
        return _confidence_mask(ctx, clause)
    if isinstance(clause, MetadataClause):
        return _metadata_mask(ctx, clause)
    if isinstance(clause, SliceClause):
        if depth >= MAX_SLICE_DEPTH:
            raise ValidationFailed(f"slice {clause.slice_id} nests slices deeper than {MAX_SLICE_DEPTH}")
        return select(ctx, ctx.slice_clauses(clause.slice_id), depth + 1)
    raise ValidationFailed(f"a {_kind(clause)} clause cannot be used here")


def _check_features(ctx: Context, names: Sequence[str]) -> None:
    for name in names:
        if name not in ctx.feature_names:
            raise ValidationFailed(f"unknown feature {name!r} in this run's model")


def _confidence_mask(ctx: Context, clause: ConfidenceClause) -> np.ndarray:
    predictions = ctx.index.predictions
    keep = ~np.isnan(predictions.confidences)
    if clause.feature is not None:
        _check_features(ctx, [clause.feature])
        keep &= np.isin(predictions.features, ctx.index.feature_indices([clause.feature]))
    if clause.min is not None:
        keep &= predictions.confidences >= clause.min
    if clause.max is not None:
        keep &= predictions.confidences <= clause.max
    mask = np.zeros(ctx.index.n_rows, dtype=bool)
    mask[predictions.rows[keep]] = True
    return mask


def _metadata_mask(ctx: Context, clause: MetadataClause) -> np.ndarray:
    kind = ctx.metadata_kinds.get(clause.key)
    if kind is None:
        raise ValidationFailed(f"unknown metadata key {clause.key!r}; known: {sorted(ctx.metadata_kinds)}")
    values = ctx.index.metadata_column(ctx.view, clause.key, kind, ctx.datasets_stamp)
    numeric = values.dtype.kind == "f"
    if clause.contains is not None:
        if numeric:
            raise ValidationFailed(f"contains needs a string field; {clause.key!r} is {kind}")
        return np.char.find(np.char.lower(values), clause.contains.lower()) >= 0
    if clause.equals is not None or clause.any_of is not None:
        wanted = [_scalar(v, kind, clause.key) for v in ([clause.equals] if clause.equals is not None else clause.any_of or ())]
        if len(wanted) > 16:
            return np.isin(values, wanted)
        mask = np.zeros(values.size, dtype=bool)
        for value in wanted:
            mask |= values == value
        return mask
    if not numeric:
        raise ValidationFailed(f"a range needs a number or datetime field; {clause.key!r} is {kind}")
    mask = ~np.isnan(values)
    if clause.min is not None:
        mask &= values >= _scalar(clause.min, kind, clause.key)
    if clause.max is not None:
        mask &= values <= _scalar(clause.max, kind, clause.key)
    return mask


def _scalar(value: object, kind: str, key: str) -> float | str:
    if kind == "NUMBER":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValidationFailed(f"metadata {key!r} is a number; got {value!r}")
        return float(value)
    if kind == "DATETIME":
        return _epoch(value, key)
    if not isinstance(value, str):
        raise ValidationFailed(f"metadata {key!r} is a {kind.lower()}; got {value!r}")
    return value


def _epoch(value: object, key: str) -> float:
    if not isinstance(value, str):
        raise ValidationFailed(f"metadata {key!r} is a datetime; give an ISO 8601 string, got {value!r}")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValidationFailed(f"metadata {key!r}: {value!r} is not an ISO 8601 datetime") from None
    if parsed.tzinfo is None:
        raise ValidationFailed(f"metadata {key!r}: {value!r} needs a time zone")
    return parsed.timestamp()
