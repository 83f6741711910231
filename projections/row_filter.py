"""The filter language (domain/filter_language.py) evaluated over a set of rows: one evaluator.

Two read models hold the rows a filter selects from: the gallery every current row of a run
(projections/gallery/index.py), the metrics read model the evaluated rows with their match
results (projections/metrics/loader.py). Each gives its rows as `Rows`. The clauses on what
every set of rows has (splits, ids and global keys, object counts) are evaluated here, once;
a read model answers the clauses on what only it holds itself (`Rows.own`) and has the other
read model answer the clauses on what that one holds, in one call (`Rows.elsewhere`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, Protocol

import numpy as np

from domain.errors import ValidationFailed, bounded
from domain.filter_language import (
    AnnotationClause,
    Clause,
    DataRowsClause,
    PredictionClause,
    SelectionClause,
    SplitClause,
)
from domain.splits import SPLITS, parse_split
from projections.row_keys import keys_of_ids

Side = Literal["annotations", "predictions"]


class Rows(Protocol):
    """A set of rows a filter selects from, and the read model that holds them."""

    @property
    def n_rows(self) -> int: ...

    @property
    def splits(self) -> np.ndarray:
        """uint8 index into SPLITS per row."""
        ...

    @property
    def answered_elsewhere(self) -> tuple[type, ...]:
        """The kinds of clause another read model answers (through `elsewhere`)."""
        ...

    def rows_of_keys(self, keys: np.ndarray) -> np.ndarray:
        """The row numbers of these 16-byte keys (-1 for a key not among the rows)."""
        ...

    def global_keys_mask(self, global_keys: Sequence[str]) -> np.ndarray:
        """The rows with one of these global keys."""
        ...

    def object_counts(self, side: Side, features: Sequence[str]) -> np.ndarray:
        """How many objects of these features each row has on one side."""
        ...

    def elsewhere(self, clauses: Sequence[Clause]) -> np.ndarray:
        """The rows the other read model selects by these clauses (all of them at once)."""
        ...

    def own(self, clause: Clause, depth: int) -> np.ndarray:
        """The rows a clause on what only this read model holds selects; ValidationFailed
        for a clause it cannot answer."""
        ...


def select(rows: Rows, clauses: Sequence[Clause], depth: int = 0) -> np.ndarray:
    """The rows every clause holds for (all rows for no clause). An error in a clause names
    its position and kind, and keeps its class (a clause on metrics being computed stays
    MetricsOutOfSync, which the slice refresher waits out)."""
    mask = np.ones(rows.n_rows, dtype=bool)
    delegated = [c for c in clauses if isinstance(c, rows.answered_elsewhere)]
    if delegated:
        mask &= rows.elsewhere(delegated)
    for position, clause in enumerate(clauses, start=1):
        if isinstance(clause, rows.answered_elsewhere):
            continue
        try:
            mask &= _clause_mask(rows, clause, depth)
        except ValidationFailed as exc:
            if exc.message.startswith("clause "):
                raise  # a nested slice's clause, already named
            raise _named(exc, f"clause {position} ({kind_of(clause)})") from None
    return mask


def _named(exc: ValidationFailed, name: str) -> ValidationFailed:
    """The error with its clause named first: a copy of its class and fields, made without
    its constructor (a subclass may take other arguments than a message)."""
    named = type(exc).__new__(type(exc))
    named.__dict__.update(exc.__dict__)
    named.message = bounded(f"{name}: {exc.message}")
    named.args = (named.message,)
    return named


def kind_of(clause: Clause) -> str:
    return type(clause).__name__.removesuffix("Clause").lower()


def keys_mask(rows: Rows, keys: np.ndarray) -> np.ndarray:
    """The rows of these 16-byte keys (keys not among the rows select nothing)."""
    return rows_mask(rows.n_rows, _found(rows.rows_of_keys(keys)))


def rows_mask(n_rows: int, chosen: np.ndarray) -> np.ndarray:
    mask = np.zeros(n_rows, dtype=bool)
    mask[chosen] = True
    return mask


def _found(numbers: np.ndarray) -> np.ndarray:
    return numbers[numbers >= 0]


def _clause_mask(rows: Rows, clause: Clause, depth: int) -> np.ndarray:
    if isinstance(clause, SplitClause):
        return np.isin(rows.splits, [SPLITS.index(parse_split(s).value) for s in clause.splits])
    if isinstance(clause, DataRowsClause):
        by_id = keys_mask(rows, keys_of_ids(clause.ids))
        return by_id | rows.global_keys_mask(clause.global_keys) if clause.global_keys else by_id
    if isinstance(clause, SelectionClause):
        return keys_mask(rows, keys_of_ids(clause.ids))
    if isinstance(clause, AnnotationClause | PredictionClause):
        side: Side = "annotations" if isinstance(clause, AnnotationClause) else "predictions"
        counts = rows.object_counts(side, clause.features)
        if not clause.present:
            return counts == 0
        low = getattr(clause, "min", None)
        high = getattr(clause, "max", None)
        mask = counts >= (1 if low is None else low)
        return mask if high is None else mask & (counts <= high)
    return rows.own(clause, depth)
