from __future__ import annotations

import pytest

from application import SplitSpec
from domain.data_rows import RowInfo
from domain.errors import ValidationFailed
from domain.splits import Split, parse_split, split_by_ratios


def test_same_seed_same_split_whatever_the_order() -> None:
    ids = [f"row-{i}" for i in range(2_000)]
    first = dict(zip(ids, split_by_ratios(ids, 0.7, 0.2, 0.1, seed=7), strict=True))
    shuffled = list(reversed(ids))
    second = dict(zip(shuffled, split_by_ratios(shuffled, 0.7, 0.2, 0.1, seed=7), strict=True))
    assert first == second


def test_another_seed_gives_another_split() -> None:
    ids = [f"row-{i}" for i in range(500)]
    assert split_by_ratios(ids, 0.5, 0.5, 0.0, seed=1) != split_by_ratios(ids, 0.5, 0.5, 0.0, seed=2)


def test_ratios_are_followed_and_the_rest_is_unassigned() -> None:
    ids = [f"row-{i}" for i in range(20_000)]
    splits = split_by_ratios(ids, 0.6, 0.2, 0.1, seed=3)
    share = {s: splits.count(s) / len(ids) for s in Split}
    assert share[Split.TRAINING] == pytest.approx(0.6, abs=0.02)
    assert share[Split.VALIDATION] == pytest.approx(0.2, abs=0.02)
    assert share[Split.TEST] == pytest.approx(0.1, abs=0.02)
    assert share[Split.UNASSIGNED] == pytest.approx(0.1, abs=0.02)


@pytest.mark.parametrize(("train", "validate", "test"), [(0.7, 0.3, 0.1), (-0.1, 0.5, 0.5), (1.5, 0, 0)])
def test_bad_ratios_are_refused(train: float, validate: float, test: float) -> None:
    with pytest.raises(ValidationFailed, match="ratio"):
        split_by_ratios(["a"], train, validate, test, seed=0)


def test_split_names() -> None:
    assert parse_split("training") is Split.TRAINING
    with pytest.raises(ValidationFailed, match="'train-ish'"):
        parse_split("train-ish")


def rows(*ids: str) -> list[RowInfo]:
    return [RowInfo(i, f"key-{i}", None, None) for i in ids]


def test_rows_the_run_holds_keep_their_split_unless_one_is_named() -> None:
    taken = rows("a", "b", "c")
    held = {"a": Split.TEST, "b": Split.VALIDATION}  # c is new to the run
    assert SplitSpec().assign(taken, held) == [Split.TEST, Split.VALIDATION, Split.UNASSIGNED]
    # Ratios place the new rows only.
    assert SplitSpec(train=1.0, seed=3).assign(taken, held) == [Split.TEST, Split.VALIDATION, Split.TRAINING]
    # A named split wins, by global key or id; rows not named keep theirs (new ones: UNASSIGNED).
    named = SplitSpec(train=1.0, assignments={"key-b": "training"})
    assert named.assign(taken, held) == [Split.TEST, Split.TRAINING, Split.UNASSIGNED]
    named = SplitSpec(assignments={"a": "TRAINING", "c": "TEST"})
    assert named.assign(taken, held) == [Split.TRAINING, Split.VALIDATION, Split.TEST]
    # A new run holds nothing yet.
    assert SplitSpec(train=1.0).assign(taken) == [Split.TRAINING] * 3
    with pytest.raises(ValidationFailed, match="key-z"):
        SplitSpec(assignments={"key-z": "TEST"}).assign(taken, held)
