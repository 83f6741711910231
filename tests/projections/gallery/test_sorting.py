"""Sorting and keyset paging of gallery rows against a plain reference sort."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from projections.gallery import sorting
from projections.gallery.sorting import SortKey

VALUES = st.one_of(st.none(), st.sampled_from([0.0, 0.25, 0.5, 1.0, -3.0]))
WORDS = st.sampled_from(["", "a", "b", "ab", "z"])


def _ids(n: int) -> np.ndarray:
    return np.asarray([i.to_bytes(16, "big") for i in range(1, n + 1)], dtype="S16")


def _reference(rows: list[int], numbers: list[float | None], words: list[str], keys: list[SortKey], ids_descending: bool) -> list[int]:
    def value(row: int, key: SortKey) -> tuple[int, object]:
        raw = numbers[row] if key.field == "METRIC" else words[row]
        if raw is None or raw == "":
            return (1, 0)
        if isinstance(raw, str):
            return (0, raw)
        return (0, -raw if key.descending else raw)

    def order_key(row: int) -> tuple[object, ...]:
        parts: list[object] = []
        for key in keys:
            null, raw = value(row, key)
            if isinstance(raw, str) and key.descending:
                # Descending strings: compare reversed through a rank of all values.
                raw = -sorted({w for w in words if w}).index(raw)
            parts.append((null, raw))
        parts.append(-row if ids_descending else row)
        return tuple(parts)

    return sorted(rows, key=order_key)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(VALUES, WORDS), min_size=1, max_size=40),
    st.lists(st.tuples(st.sampled_from(["METRIC", "GLOBAL_KEY"]), st.booleans()), min_size=1, max_size=2),
    st.booleans(),
    st.integers(min_value=1, max_value=7),
)
def test_pages_walk_the_reference_order(rows_data, key_specs, ids_descending, size) -> None:  # type: ignore[no-untyped-def]
    numbers = [v for v, _ in rows_data]
    words = [w for _, w in rows_data]
    keys = [SortKey(field, descending, metric="f1" if field == "METRIC" else None) for field, descending in key_specs]
    n = len(rows_data)
    number_column = np.asarray([math.nan if v is None else v for v in numbers])
    word_column = np.asarray(words, dtype=np.str_)
    columns = [number_column if k.field == "METRIC" else word_column for k in keys]
    ids = _ids(n)
    ranks = lambda c: np.unique(c, return_inverse=True)[1].reshape(-1)  # noqa: E731
    comparables = [sorting.comparable(c, k, ranks) for c, k in zip(columns, keys, strict=True)]
    expected = _reference(list(range(n)), numbers, words, keys, ids_descending)
    seen: list[int] = []
    rows = np.arange(n)
    while True:
        page = sorting.first_page(rows, comparables, size, ids_descending)
        chosen = page[:size].tolist()
        seen += chosen
        if page.size <= size:
            break
        cursor = sorting.parse_cursor(sorting.cursor_of(chosen[-1], columns, ids), keys)
        rows = np.arange(n)[sorting.after(np.arange(n), columns, keys, ids, cursor, ids_descending)]
    assert seen == expected
