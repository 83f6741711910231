"""Splitting a streamed body into lines, whatever the chunk boundaries."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import AnnotationLineError
from routes.ndjson import Counted, split_lines

lines_strategy = st.lists(st.binary(max_size=40).map(lambda b: b.replace(b"\n", b"")), max_size=30)


def chunked(body: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(body) + 1) for c in cuts} | {0, len(body)})
    return [body[a:b] for a, b in zip(points, points[1:], strict=False)]


@given(lines=lines_strategy, cuts=st.lists(st.integers(min_value=0, max_value=2_000), max_size=20), final_newline=st.booleans())
def test_lines_survive_any_chunking(lines: list[bytes], cuts: list[int], final_newline: bool) -> None:
    body = b"\n".join(lines) + (b"\n" if final_newline and lines else b"")
    got = list(split_lines(chunked(body, cuts), max_line_bytes=1_000))
    expected = body.split(b"\n")
    if expected and expected[-1] == b"":
        expected.pop()
    assert got == expected


def test_a_line_past_the_limit_is_named() -> None:
    with pytest.raises(AnnotationLineError) as raised:
        list(split_lines([b"ok\n", b"x" * 6, b"x" * 6, b"\n"], max_line_bytes=10))
    assert raised.value.line == 2
    with pytest.raises(AnnotationLineError) as raised:
        list(split_lines([b"ok\n" + b"y" * 11 + b"\nok"], max_line_bytes=10))
    assert raised.value.line == 2


def test_counted_counts_what_passed() -> None:
    counted = Counted([(1, {}), (3, {})])
    assert list(counted) == [(1, {}), (3, {})]
    assert counted.count == 2
