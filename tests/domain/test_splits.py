from __future__ import annotations

import pytest

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
