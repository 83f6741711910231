"""Parsing and packing embedding upload lines (domain/embeddings.py)."""

from __future__ import annotations

import base64
import math
import uuid

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.embeddings import (
    CHUNK_VECTOR_BYTES,
    MAX_DIMENSION,
    pack_row_ids,
    parse_embedding_line,
    rows_per_chunk,
    unpack_row_ids,
    unpack_vectors,
    vector_chunks,
)
from domain.errors import AnnotationLineError


def test_a_line_names_its_row_by_id_or_global_key_in_either_place() -> None:
    assert parse_embedding_line({"dataRow": {"globalKey": "a"}, "vector": [1, 2]}, 1, 2).row.global_key == "a"
    assert parse_embedding_line({"dataRow": {"id": "b"}, "vector": [1, 2]}, 1, 2).row.id == "b"
    assert parse_embedding_line({"id": "c", "vector": [1, 2]}, 1, None).row.id == "c"
    with pytest.raises(AnnotationLineError, match="dataRow gives both id .b. and globalKey .a."):
        parse_embedding_line({"dataRow": {"id": "b", "globalKey": "a"}, "vector": [1]}, 1, None)


@pytest.mark.parametrize(
    ("obj", "message"),
    [
        ({"dataRow": {"globalKey": "a"}, "vectors": [1, 2]}, 'unknown key "vectors"; did you mean "vector"?'),
        ({"dataRow": {"globalKey": "a"}, "embedding": [1, 2]}, 'unknown key "embedding"; did you mean "vector"?'),
        ({"global_key": "a", "vector": [1, 2]}, 'unknown key "global_key"; did you mean "globalKey"?'),
        ({"dataRow": {"globalkey": "a"}, "vector": [1, 2]}, 'unknown key "globalkey" in dataRow; did you mean "globalKey"?'),
        (
            {"dataRow": {"globalKey": "a"}, "id": "b", "vector": [1, 2]},
            'the data row is named both by "dataRow" and by "id"; give one',
        ),
        (
            {"vector": [1, 2]},
            'missing "dataRow"; expected {"dataRow": {"globalKey": "..."} | {"id": "..."}, "vector": [number, ...]}',
        ),
        ({"dataRow": {"globalKey": "a"}}, "data row 'a' has no vector"),
    ],
)
def test_unknown_keys_and_missing_ones_are_named(obj: dict[str, object], message: str) -> None:
    # A typo ("vectors") used to read as a line without a vector, or a row without a name.
    with pytest.raises(AnnotationLineError) as caught:
        parse_embedding_line(obj, 3, 2)
    assert caught.value.reason == message
    assert str(caught.value) == f"line 3: {message}"


def test_the_vector_becomes_float32() -> None:
    line = parse_embedding_line({"id": "c", "vector": [1, 2.5, -3]}, 4, 3)
    assert line.vector.dtype == np.float32 and line.vector.tolist() == [1.0, 2.5, -3.0] and line.line == 4


@given(
    st.lists(st.floats(allow_nan=True, allow_infinity=True, width=64), min_size=1, max_size=40),
)
def test_exactly_the_vectors_with_a_non_finite_float32_value_are_refused(values: list[float]) -> None:
    with np.errstate(over="ignore"):
        finite = all(math.isfinite(v) and math.isfinite(float(np.float32(v))) for v in values)
    if finite:
        assert parse_embedding_line({"id": "r", "vector": values}, 9, len(values)).vector.shape == (len(values),)
    else:
        with pytest.raises(AnnotationLineError) as caught:
            parse_embedding_line({"id": "r", "vector": values}, 9, len(values))
        assert caught.value.line == 9 and "position" in caught.value.reason


@given(st.integers(min_value=0, max_value=MAX_DIMENSION + 5), st.integers(min_value=1, max_value=8))
def test_a_length_other_than_the_dimension_is_refused(length: int, dimension: int) -> None:
    values = [0.5] * length
    if length == dimension:
        parse_embedding_line({"id": "r", "vector": values}, 2, dimension)
    else:
        with pytest.raises(AnnotationLineError, match=f"has {length} values"):
            parse_embedding_line({"id": "r", "vector": values}, 2, dimension)


def test_chunks_are_bounded_and_round_trip() -> None:
    ids = [str(uuid.uuid4()) for _ in range(300)]
    data = np.random.default_rng(0).normal(size=(300, 1000)).astype(np.float32)
    chunks = vector_chunks(ids, data)
    assert len(chunks) == -(-300 // rows_per_chunk(1000)) > 1
    assert all(len(c["vectors"]) <= CHUNK_VECTOR_BYTES for c in chunks)
    assert [i for c in chunks for i in unpack_row_ids(c["rowIds"])] == ids
    assert np.array_equal(np.concatenate([unpack_vectors(c["vectors"], 1000) for c in chunks]), data)


def test_row_ids_pack_the_same_whatever_their_form() -> None:
    ids = [uuid.uuid4() for _ in range(50)]
    packed = b"".join(i.bytes for i in ids)
    assert pack_row_ids(ids) == pack_row_ids([str(i) for i in ids]) == packed
    assert pack_row_ids([str(i).upper() for i in ids]) == packed
    assert pack_row_ids([i.hex for i in ids]) == packed  # not canonical: one by one
    assert pack_row_ids([f"{{{i}}}" for i in ids]) == packed
    assert pack_row_ids([]) == b""
    with pytest.raises(ValueError):
        pack_row_ids([str(ids[0]), "not-an-id-" + "0" * 26])


def _base64(values: list[float], dtype: str = "<f4") -> str:
    return base64.b64encode(np.asarray(values, dtype=dtype).tobytes()).decode()


@given(st.lists(st.floats(width=32, allow_nan=False, allow_infinity=False), min_size=1, max_size=40))
def test_a_vector_in_base64_is_the_same_vector_as_its_numbers(values: list[float]) -> None:
    """Little-endian float32 in base64 (the form embedding APIs answer with): the same
    float32 values as the list, at a third of the text and without parsing numbers."""
    as_list = parse_embedding_line({"id": "r", "vector": values}, 1, len(values)).vector
    as_text = parse_embedding_line({"id": "r", "vector": _base64(values)}, 1, len(values)).vector
    assert as_text.dtype == np.float32 and np.array_equal(as_list, as_text)


@pytest.mark.parametrize(
    ("vector", "dimension", "message"),
    [
        ("AAAA*AAA", 2, "the vector of data row 'r' is a string that is not base64"),
        ("AACAPwAAAEA", 2, "the vector of data row 'r' is a string that is not base64"),
        (_base64([1.0, 2.0])[:-2] + "==", 2, "the vector of data row 'r' has 7 bytes in base64; float32 values take 4 each"),
        (base64.b64encode(b"\x00" * 6).decode(), 2, "the vector of data row 'r' has 6 bytes in base64; float32 values take 4 each"),
        (_base64([1.0, 2.0, 3.0]), 2, "the vector of data row 'r' has 3 values; the space's dimension is 2"),
        ("", None, "the vector of data row 'r' has 0 values; a dimension is 1 to 4096"),
        (_base64([1.0, float("nan")]), 2, "the vector of data row 'r' holds nan at position 1, which is not finite"),
        (_base64([float("-inf"), 1.0]), 2, "the vector of data row 'r' holds -inf at position 0, which is not finite"),
    ],
)
def test_a_base64_vector_that_is_not_float32_values_is_named(vector: str, dimension: int | None, message: str) -> None:
    with pytest.raises(AnnotationLineError) as caught:
        parse_embedding_line({"id": "r", "vector": vector}, 5, dimension)
    assert caught.value.line == 5 and caught.value.reason.startswith(message), caught.value.reason
