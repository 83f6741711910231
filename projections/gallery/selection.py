"""A run's gallery index as the rows a filter selects from (projections/row_filter.py).

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
    AutoSliceClause,
    Clause,
    ConfidenceClause,
    ConfusionClause,
    EvaluatedClause,
    MetadataClause,
    MetricClause,
    SliceClause,
)
from projections.gallery.index import GalleryIndex
from projections.gallery.view import GalleryView
from projections.row_filter import Side, kind_of, rows_mask, select

# Index rows of the evaluated rows selected by result clauses at a grid point.
ResultRows = Callable[[Sequence[Clause]], np.ndarray]
# Index rows of an automatic slice at the query's grid point.
AutoSliceRows = Callable[[str], np.ndarray]
# A saved slice's clauses (NotFound / ValidationFailed when there is no such slice).
SliceClauses = Callable[[str], list[Clause]]

MAX_SLICE_DEPTH = 8


@dataclass(frozen=True)
class Context:
    """A run's gallery index and what a filter over it may ask of other read models."""

    view: GalleryView
    index: GalleryIndex
    feature_names: frozenset[str]  # the model's features
    metadata_kinds: dict[str, str]  # key -> STRING / NUMBER / DATETIME / ENUM
    datasets_stamp: tuple[tuple[str, int, int], ...]  # the run's datasets: versions, newest metadata change
    result_rows: ResultRows
    auto_slice_rows: AutoSliceRows
    slice_clauses: SliceClauses
    evaluated_rows: Callable[[], np.ndarray]  # index rows whose metrics are computed

    answered_elsewhere = (MetricClause, ConfusionClause)

    @property
    def n_rows(self) -> int:
        return self.index.n_rows

    @property
    def splits(self) -> np.ndarray:
        return self.index.splits

    def rows_of_keys(self, keys: np.ndarray) -> np.ndarray:
        return self.index.rows_of_keys(keys)

    def global_keys_mask(self, global_keys: Sequence[str]) -> np.ndarray:
        return np.isin(self.index.global_keys, list(global_keys))

    def object_counts(self, side: Side, features: Sequence[str]) -> np.ndarray:
        _check_features(self, features)
        index = self.index
        objects = index.annotations if side == "annotations" else index.predictions
        return index.derived(
            ("count", side, tuple(features)), lambda: objects.per_row(index.n_rows, index.feature_indices(tuple(features)))
        )

    def elsewhere(self, clauses: Sequence[Clause]) -> np.ndarray:
        return rows_mask(self.n_rows, self.result_rows(clauses))

    def own(self, clause: Clause, depth: int) -> np.ndarray:
        if isinstance(clause, AutoSliceClause):
            return rows_mask(self.n_rows, self.auto_slice_rows(clause.name))
        if isinstance(clause, EvaluatedClause):
            evaluated = rows_mask(self.n_rows, self.evaluated_rows())
            return evaluated if clause.evaluated else ~evaluated
        if isinstance(clause, ConfidenceClause):
            return _confidence_mask(self, clause)
        if isinstance(clause, MetadataClause):
            return _metadata_mask(self, clause)
        if isinstance(clause, SliceClause):
            if depth >= MAX_SLICE_DEPTH:
                raise ValidationFailed(f"slice {clause.slice_id} nests slices deeper than {MAX_SLICE_DEPTH}")
            return select(self, self.slice_clauses(clause.slice_id), depth + 1)
        raise ValidationFailed(f"a {kind_of(clause)} clause cannot be used here")


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
