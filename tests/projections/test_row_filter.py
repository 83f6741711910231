"""The one filter evaluator over rows held in memory (no database): the clauses every set of
rows answers, the hand-off of clauses to another read model, errors naming their clause."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pytest

from domain.errors import ValidationFailed
from domain.filter_language import (
    AnnotationClause,
    Clause,
    ConfidenceClause,
    DataRowsClause,
    EvaluatedClause,
    MetricClause,
    PredictionClause,
    SelectionClause,
    SplitClause,
)
from projections.metrics.queries import MetricsOutOfSync
from projections.row_filter import Side, keys_mask, select
from projections.row_keys import find, row_keys

IDS = sorted(str(uuid.UUID(int=i * 7919 + 1)) for i in range(6))
GLOBAL_KEYS = [f"img-{i}" for i in range(6)]
SPLITS = np.array([0, 0, 1, 1, 2, 2], dtype=np.uint8)  # TRAINING, VALIDATION, TEST
ANNOTATIONS = {"car": [2, 0, 1, 0, 3, 1], "person": [0, 1, 0, 0, 1, 0]}
PREDICTIONS = {"car": [1, 1, 0, 0, 2, 0], "person": [0, 0, 0, 1, 0, 0]}


@dataclass
class InMemoryRows:
    """Six rows; metric clauses go to "another read model" (a list of rows), confidence
    clauses are this one's own."""

    delegated_rows: list[int] = field(default_factory=lambda: [0, 4])
    calls: list[list[Clause]] = field(default_factory=list)
    error: ValidationFailed | None = None

    answered_elsewhere = (MetricClause,)
    keys = row_keys(IDS)

    @property
    def n_rows(self) -> int:
        return len(IDS)

    @property
    def splits(self) -> np.ndarray:
        return SPLITS

    def rows_of_keys(self, keys: np.ndarray) -> np.ndarray:
        return find(self.keys, keys)

    def global_keys_mask(self, global_keys: Sequence[str]) -> np.ndarray:
        return np.isin(GLOBAL_KEYS, list(global_keys))

    def object_counts(self, side: Side, features: Sequence[str]) -> np.ndarray:
        table = ANNOTATIONS if side == "annotations" else PREDICTIONS
        return sum((np.array(table[f]) for f in features), np.zeros(6, dtype=np.int64))

    def elsewhere(self, clauses: Sequence[Clause]) -> np.ndarray:
        self.calls.append(list(clauses))
        mask = np.zeros(6, dtype=bool)
        mask[self.delegated_rows] = True
        return mask

    def own(self, clause: Clause, depth: int) -> np.ndarray:
        if isinstance(clause, ConfidenceClause):
            if self.error is not None:
                raise self.error
            return np.array([True, True, True, False, False, False])
        raise ValidationFailed("not here")


def chosen(rows: InMemoryRows, clauses: Sequence[Clause]) -> list[int]:
    return np.flatnonzero(select(rows, clauses)).tolist()


def test_no_clause_selects_every_row() -> None:
    assert chosen(InMemoryRows(), []) == [0, 1, 2, 3, 4, 5]


def test_splits_ids_global_keys_and_selections() -> None:
    rows = InMemoryRows()
    assert chosen(rows, [SplitClause(("VALIDATION", "TEST"))]) == [2, 3, 4, 5]
    assert chosen(rows, [DataRowsClause(ids=(IDS[1], "not-an-id", str(uuid.uuid4())))]) == [1]
    assert chosen(rows, [DataRowsClause(ids=(IDS[0],), global_keys=("img-3", "img-9"))]) == [0, 3]
    assert chosen(rows, [SelectionClause(ids=(IDS[5], IDS[2]))]) == [2, 5]
    # Clauses are ANDed.
    assert chosen(rows, [SplitClause(("TRAINING", "TEST")), SelectionClause(ids=(IDS[1], IDS[2], IDS[4]))]) == [1, 4]


def test_object_counts_present_absent_and_ranges() -> None:
    rows = InMemoryRows()
    assert chosen(rows, [AnnotationClause(("car",))]) == [0, 2, 4, 5]
    assert chosen(rows, [AnnotationClause(("car",), present=False)]) == [1, 3]
    assert chosen(rows, [AnnotationClause(("car", "person"), min=2, max=3)]) == [0]
    assert chosen(rows, [AnnotationClause(("car",), min=0)]) == [0, 1, 2, 3, 4, 5]
    assert chosen(rows, [PredictionClause(("person",))]) == [3]
    assert chosen(rows, [PredictionClause(("car", "person"), present=False)]) == [2, 5]


def test_clauses_of_the_other_read_model_go_in_one_call() -> None:
    rows = InMemoryRows()
    metric_a, metric_b = MetricClause("iou", min=0.5), MetricClause("f1", max=0.9)
    assert chosen(rows, [metric_a, SplitClause(("TEST",)), metric_b]) == [4]
    assert rows.calls == [[metric_a, metric_b]]
    rows.calls.clear()
    chosen(rows, [SplitClause(("TEST",))])
    assert rows.calls == []


def test_own_clauses_and_unknown_ones() -> None:
    rows = InMemoryRows()
    assert chosen(rows, [ConfidenceClause(min=0.5), SplitClause(("VALIDATION",))]) == [2]
    with pytest.raises(ValidationFailed, match=r"^clause 2 \(evaluated\): not here$"):
        select(rows, [SplitClause(("TEST",)), EvaluatedClause(True)])


def test_an_error_names_its_clause_and_keeps_its_class() -> None:
    rows = InMemoryRows(error=MetricsOutOfSync("metrics out of sync: 3 data rows pending"))
    with pytest.raises(MetricsOutOfSync, match=r"^clause 1 \(confidence\): metrics out of sync: 3 data rows pending$"):
        select(rows, [ConfidenceClause(min=0.1)])
    with pytest.raises(ValidationFailed, match=r"^clause 1 \(split\): unknown split"):
        select(rows, [SplitClause(("HOLDOUT",))])


def test_keys_mask_ignores_keys_not_among_the_rows() -> None:
    rows = InMemoryRows()
    keys = row_keys([IDS[3], str(uuid.uuid4())])
    assert np.flatnonzero(keys_mask(rows, keys)).tolist() == [3]


class _RowError(ValidationFailed):
    """An error whose constructor takes more than a message."""

    def __init__(self, row: int, message: str) -> None:
        super().__init__(message)
        self.row = row


def test_an_error_of_any_constructor_is_named_and_keeps_its_fields() -> None:
    rows = InMemoryRows(error=_RowError(4, "row 4 is unreadable"))
    with pytest.raises(_RowError, match=r"^clause 1 \(confidence\): row 4 is unreadable$") as raised:
        select(rows, [ConfidenceClause(min=0.1)])
    assert raised.value.row == 4 and str(raised.value) == raised.value.message
