"""Ordering a selection of gallery rows and paging through it by keyset.

Each sort key gives a column over the index's rows: float64 (NaN = null) or str ('' = null).
Nulls sort last in either direction and the data row id breaks ties, so the order is total.
A cursor holds the last row's sort values and id: the next page is the rows strictly after
that tuple in the order, so a page never repeats or skips a row that stayed put while rows
before it came or went.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from uuid import UUID

import numpy as np
import orjson

from domain.errors import ValidationFailed
from projections.row_keys import id_of

SORT_FIELDS = ("ID", "GLOBAL_KEY", "METRIC", "CONFIDENCE_MAX", "CONFIDENCE_MIN", "METADATA")


@dataclass(frozen=True, slots=True)
class SortKey:
    field: str
    descending: bool = False
    metric: str | None = None  # METRIC
    feature: str | None = None  # METRIC, CONFIDENCE_MAX / MIN: scoped to one feature
    key: str | None = None  # METADATA

    def __post_init__(self) -> None:
        if self.field not in SORT_FIELDS:
            raise ValidationFailed(f"unknown sort field {self.field!r}; expected one of {list(SORT_FIELDS)}")
        if self.field == "METRIC" and not self.metric:
            raise ValidationFailed("a METRIC sort needs the metric's name")
        if self.field == "METADATA" and not self.key:
            raise ValidationFailed("a METADATA sort needs the metadata key")


def _nulls(column: np.ndarray) -> np.ndarray:
    return np.isnan(column) if column.dtype.kind == "f" else column == ""


def split_id(keys: Sequence[SortKey]) -> tuple[list[SortKey], bool]:
    """The keys that need a column, and whether ids (the final tie-break) go descending.
    An ID key ends the sort: nothing after it can break a tie."""
    columns: list[SortKey] = []
    for key in keys:
        if key.field == "ID":
            return columns, key.descending
        columns.append(key)
    return columns, False


def comparable(column: np.ndarray, key: SortKey, ranks: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """A float64 per row that sorts ascending in the key's order, nulls last (+inf).
    Strings sort by their rank among the column's values (`ranks` may cache it)."""
    nulls = _nulls(column)
    values = column if column.dtype.kind == "f" else ranks(column).astype(np.float64)
    return np.where(nulls, np.inf, -values if key.descending else values)


def first_page(rows: np.ndarray, comparables: Sequence[np.ndarray], size: int, ids_descending: bool = False) -> np.ndarray:
    """The first `size` of `rows` (ascending, so by id) in the sort's order, and whether more
    follow. Only the rows that can be on the page are sorted: those whose first key is at
    most the page's last value of it (a partition finds that value)."""
    base = rows[::-1] if ids_descending else rows
    if not comparables:
        return base[: size + 1]
    primary = comparables[0][base]
    if base.size > size + 1:
        bound = np.partition(primary, size)[size]
        candidates = np.flatnonzero(primary <= bound)
    else:
        candidates = np.arange(base.size)
    # np.lexsort: the last key is the primary one; the position in `base` breaks ties.
    keys = [candidates] + [c[base[candidates]] for c in reversed(comparables)]
    return base[candidates[np.lexsort(keys)]][: size + 1]


def after(
    rows: np.ndarray,
    columns: Sequence[np.ndarray],
    keys: Sequence[SortKey],
    ids: np.ndarray,
    cursor: list[object],
    ids_descending: bool = False,
) -> np.ndarray:
    """Which of `rows` come strictly after the cursor's tuple in the sort's order."""
    later = np.zeros(rows.size, dtype=bool)
    tie = np.ones(rows.size, dtype=bool)
    for column, key, value in zip(columns, keys, cursor[:-1], strict=True):
        values = column[rows]
        nulls = _nulls(values)
        if value is None:
            greater, equal = np.zeros(rows.size, dtype=bool), nulls
        else:
            beyond = values < value if key.descending else values > value
            greater, equal = nulls | (~nulls & beyond), ~nulls & (values == value)
        later |= tie & greater
        tie &= equal
    last_id = np.frombuffer(UUID(str(cursor[-1])).bytes, dtype="S16")[0]
    beyond_id = ids[rows] < last_id if ids_descending else ids[rows] > last_id
    return later | (tie & beyond_id)


def cursor_of(row: int, columns: Sequence[np.ndarray], ids: np.ndarray) -> str:
    values: list[object] = []
    for column in columns:
        value = column[row]
        null = bool(np.isnan(value)) if column.dtype.kind == "f" else value == ""
        values.append(None if null else value.item() if hasattr(value, "item") else str(value))
    values.append(id_of(ids[row]))
    return base64.urlsafe_b64encode(orjson.dumps(["gallery", values])).decode()


def parse_cursor(cursor: str, keys: Sequence[SortKey]) -> list[object]:
    try:
        kind, values = orjson.loads(base64.urlsafe_b64decode(cursor.encode()))
        if kind != "gallery" or not isinstance(values, list) or len(values) != len(keys) + 1:
            raise ValueError
        UUID(str(values[-1]))
    except (ValueError, TypeError, binascii.Error, orjson.JSONDecodeError):
        raise ValidationFailed(f"invalid cursor {cursor!r} for this gallery query and sort") from None
    return values
