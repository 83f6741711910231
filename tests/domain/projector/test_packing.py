"""The packed per-point columns decode to what they encode."""

from __future__ import annotations

import base64

import numpy as np
import pytest

from domain.errors import ValidationFailed
from domain.projector.packing import categories, numbers, pack_indexes, pack_xy, unpack_indexes


def test_xy_is_float32_pairs_in_point_order() -> None:
    xy = np.array([[1.5, -2.0], [3.25, 4.0]], dtype=np.float32)
    decoded = np.frombuffer(base64.b64decode(pack_xy(xy)), dtype="<f4")
    assert decoded.tolist() == [1.5, -2.0, 3.25, 4.0]


def test_categories_code_each_value_into_a_legend_with_null() -> None:
    found = categories(["TEST", None, "TRAINING", "TEST"])
    codes = np.frombuffer(base64.b64decode(found.codes), dtype="<u1")
    assert [found.legend[c] for c in codes] == ["TEST", None, "TRAINING", "TEST"]
    assert found.bytes_per_code == 1


def test_many_categories_take_two_bytes_per_code() -> None:
    values = [f"v{i}" for i in range(300)]
    found = categories(values)
    codes = np.frombuffer(base64.b64decode(found.codes), dtype="<u2")
    assert found.bytes_per_code == 2 and [found.legend[c] for c in codes] == values


def test_numbers_are_nan_where_missing_and_none_when_nothing_is_a_number() -> None:
    packed = numbers([1, None, 2.5, "x"])
    assert packed is not None
    decoded = np.frombuffer(base64.b64decode(packed), dtype="<f4")
    assert decoded[0] == 1 and np.isnan(decoded[1]) and decoded[2] == 2.5 and np.isnan(decoded[3])
    assert numbers([None, "a", True]) is None


def test_indexes_round_trip_sorted_and_unique() -> None:
    assert unpack_indexes(pack_indexes([5, 1, 5, 0]), 6).tolist() == [0, 1, 5]


@pytest.mark.parametrize(
    ("packed", "words"),
    [("%%%", "base64"), (base64.b64encode(b"\x01\x02\x03").decode(), "whole number"), (pack_indexes([7]), "index 7 is outside")],
)
def test_bad_indexes_are_refused(packed: str, words: str) -> None:
    with pytest.raises(ValidationFailed, match=words):
        unpack_indexes(packed, 7)
