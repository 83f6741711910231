"""The columnar codec that stores many rows' annotations in bounded events."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.annotations.column_decoding import decode_rows
from domain.annotations.columns import chunk_rows, encode_rows, payload_size
from domain.annotations.objects import Annotation, Answer, Box, Mask, Point, TextAnswer
from domain.errors import ValidationFailed
from tests.domain.annotations import strategies


def through_json(payload: dict[str, Any]) -> dict[str, Any]:
    """The payload as an event store keeps it: JSON, with bytes as base64 strings."""

    def encode(value: Any) -> Any:
        if isinstance(value, bytes):
            return {"_bytes_": base64.b64encode(value).decode("ascii")}
        raise TypeError(type(value))

    def decode(value: dict[str, Any]) -> Any:
        return base64.b64decode(value["_bytes_"]) if set(value) == {"_bytes_"} else value

    return json.loads(json.dumps(payload, default=encode), object_hook=decode)  # type: ignore[no-any-return]


def joined(chunks: list[list[tuple[str, list[Annotation]]]]) -> list[tuple[str, list[Annotation]]]:
    """Chunks back to rows, joining consecutive entries of one row (a row split over chunks)."""
    rows: list[tuple[str, list[Annotation]]] = []
    for row_id, objects in (row for chunk in chunks for row in chunk):
        if rows and rows[-1][0] == row_id:
            rows[-1] = (row_id, rows[-1][1] + list(objects))
        else:
            rows.append((row_id, list(objects)))
    return rows


def boxes(count: int, feature: str = "car") -> list[Annotation]:
    return [Annotation(feature, Box(i * 1.5, 2.0, 3.0, 4.25), 0.5) for i in range(count)]


@settings(deadline=None)
@given(strategies.rows())
def test_rows_of_every_kind_decode_to_equal_objects(
    rows: list[tuple[str, list[Annotation]]],
) -> None:
    payload = encode_rows(rows)
    assert decode_rows(payload) == rows
    assert decode_rows(through_json(payload)) == rows


def test_the_payload_is_json_values_and_bytes_never_pickle() -> None:
    rows = [("r1", boxes(3)), ("r2", [])]
    payload = encode_rows(rows)

    def plain(value: Any) -> bool:
        if isinstance(value, dict):
            return all(isinstance(k, str) and plain(v) for k, v in value.items())
        if isinstance(value, list):
            return all(plain(v) for v in value)
        return value is None or isinstance(value, str | int | float | bytes)

    assert plain(payload)
    assert payload["box"]["dtype"] == "<f8" and payload["box"]["shape"] == [3, 4]


def test_empty_uploads_and_empty_rows() -> None:
    assert decode_rows(encode_rows([])) == []
    rows: list[tuple[str, list[Annotation]]] = [("a", []), ("b", []), ("a", [])]
    assert decode_rows(encode_rows(rows)) == rows


def test_optional_columns_are_left_out() -> None:
    labels = encode_rows([("r", [Annotation("car", Box(0, 0, 1, 1))])])
    assert "confidence" not in labels and "children" not in labels and "polygon_xy" not in labels
    assert decode_rows(labels)[0][1][0].confidence is None


def test_missing_and_present_confidences_stay_apart() -> None:
    rows = [
        ("r", [Annotation("car", Box(0, 0, 1, 1), None), Annotation("car", Box(0, 0, 1, 1), 0.0)])
    ]
    assert [a.confidence for a in decode_rows(encode_rows(rows))[0][1]] == [None, 0.0]


def test_a_nan_confidence_cannot_be_stored() -> None:
    with pytest.raises(ValueError, match="confidence of 'car' is NaN"):
        encode_rows([("r", [Annotation("car", Point(0, 0), float("nan"))])])


def test_nested_classifications_keep_their_tree() -> None:
    inner = Annotation("w/s/i/high", Answer("w/s/i", "high"), 0.2)
    sunny = Annotation("w/s", Answer("w", "s"), None, (inner,))
    car = Annotation(
        "car",
        Box(0, 0, 1, 1),
        0.9,
        (
            Annotation("car/note", TextAnswer("car/note", "x")),
            Annotation("car/c/red", Answer("car/c", "red")),
        ),
    )
    rows = [("r1", [car, sunny]), ("r2", []), ("r3", [sunny, Annotation("m", Mask(4, 3, b"525"))])]
    assert decode_rows(encode_rows(rows)) == rows


def test_indices_use_the_narrowest_dtype() -> None:
    payload = encode_rows([("r", boxes(10, feature=f"f{i}")) for i in range(256)])
    assert payload["feature"]["dtype"] == "|u1"
    payload = encode_rows([("r", [Annotation(f"f{i}", Box(0, 0, 1, 1))]) for i in range(300)])
    assert payload["feature"]["dtype"] == "<u2"


def test_a_box_prediction_takes_under_64_bytes_as_json() -> None:
    rows = [(f"{i:036d}", boxes(10)) for i in range(1000)]
    assert payload_size(encode_rows(rows)) / 10_000 < 64


@pytest.mark.parametrize(
    "tamper",
    [
        lambda p: p.update(format=2),
        lambda p: p.update(rows=p["rows"][:-1]),
        lambda p: p["kind"].update(data=p["kind"]["data"][:-1], shape=[len(p["kind"]["data"]) - 1]),
        lambda p: p["box"].update(data=p["box"]["data"][:-32], shape=[1, 4]),
    ],
)
def test_inconsistent_payloads_fail_loudly(tamper: Any) -> None:
    payload = encode_rows([("r1", boxes(2)), ("r2", boxes(0))])
    tamper(payload)
    with pytest.raises(ValueError):
        decode_rows(payload)


# --- chunking ------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(strategies.rows(max_rows=12, max_objects=6), st.integers(4_600, 9_000))
def test_chunks_stay_under_the_bound_and_join_back(
    rows: list[tuple[str, list[Annotation]]], max_bytes: int
) -> None:
    try:
        chunks = chunk_rows(rows, max_bytes)
    except ValidationFailed:
        return  # one annotation alone is bigger than such a small bound
    for chunk in chunks:
        assert payload_size(encode_rows(chunk)) <= max_bytes
    # Consecutive entries of one row id are indistinguishable from a split row.
    assert joined(chunks) == joined([rows])


def test_a_large_upload_is_split_in_bounded_chunks_in_order() -> None:
    rows = [(f"row-{i:05d}", boxes(20)) for i in range(2_000)]
    chunks = chunk_rows(rows, 100_000)
    assert len(chunks) > 1
    assert [row for chunk in chunks for row in chunk] == rows
    sizes = [payload_size(encode_rows(chunk)) for chunk in chunks]
    assert max(sizes) <= 100_000
    assert min(sizes[:-1]) > 70_000  # the estimate is not so cautious it wastes events


def test_a_row_too_big_for_one_chunk_continues_in_the_next() -> None:
    rows = [("small", boxes(2)), ("huge", boxes(5_000)), ("after", boxes(1))]
    chunks = chunk_rows(rows, 100_000)
    assert len(chunks) >= 4
    holding = [i for i, chunk in enumerate(chunks) if any(r == "huge" for r, _ in chunk)]
    assert len(holding) >= 3 and holding == list(range(holding[0], holding[-1] + 1))
    assert joined(chunks) == rows
    assert all(payload_size(encode_rows(chunk)) <= 100_000 for chunk in chunks)


def test_one_annotation_too_big_for_any_chunk_is_rejected_by_name() -> None:
    huge = Annotation("seg", Mask(1000, 1000, b"0" * 30_000))
    with pytest.raises(ValidationFailed, match="an annotation of 'seg' on data row 'r1'"):
        chunk_rows([("r1", [huge])], 20_000)


def test_a_bound_below_the_fixed_overhead_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        chunk_rows([], 100)


# -- crowd regions and areas (docs/metrics.md §9) ------------------------------------------------


def test_crowd_regions_and_areas_decode_to_equal_objects() -> None:
    rle = Mask(2, 2, b"14")
    rows = [
        ("r", [Annotation("car", Box(0, 0, 1, 1)), Annotation("people", Box(0, 0, 3, 3), None, (), True)]),
        (
            "s",
            [
                Annotation("cell", rle, None, (), True, 2.0),
                Annotation("cell", rle, None, (), False, 0.0),
                Annotation("cell", rle),
            ],
        ),
    ]
    payload = encode_rows(rows)
    assert "crowd" in payload and "area" in payload
    assert decode_rows(payload) == rows
    assert decode_rows(through_json(payload)) == rows


def test_an_area_without_a_crowd_is_stored_alone() -> None:
    rows = [("r", [Annotation("car", Box(0, 0, 1, 1)), Annotation("car", Box(0, 0, 2, 2), area=4.0)])]
    payload = encode_rows(rows)
    assert "crowd" not in payload and "area" in payload
    assert decode_rows(payload) == rows


def test_crowd_regions_under_nested_classifications_keep_their_places() -> None:
    red = Annotation("car/color/red", Answer("car/color", "red"))
    rows = [
        ("r", [Annotation("car", Box(0, 0, 1, 1), None, (red,)), Annotation("car", Box(1, 1, 1, 1), None, (red,), True, 1.0)])
    ]
    assert decode_rows(encode_rows(rows)) == rows


def test_payloads_without_the_new_columns_decode_as_before() -> None:
    # A payload written before crowd regions existed has neither column: no crowd, no area.
    rows = [("r", [Annotation("car", Box(0, 0, 1, 1), 0.5)])]
    payload = encode_rows(rows)
    assert "crowd" not in payload and "area" not in payload
    [(_, [a])] = decode_rows(payload)
    assert a.iscrowd is False and a.area is None


def test_a_negative_area_cannot_be_stored() -> None:
    with pytest.raises(ValueError, match="area of 'car' must be >= 0"):
        encode_rows([("r", [Annotation("car", Box(0, 0, 1, 1), area=-1.0)])])
