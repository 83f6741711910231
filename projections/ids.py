"""Ids as users send them (strings) and as the views store them (uuid columns)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from uuid import UUID

from domain.data_rows import RowInfo


def as_uuid(value: str | UUID) -> UUID | None:
    if isinstance(value, UUID):
        return value
    try:
        return UUID(value)
    except (ValueError, AttributeError, TypeError):
        return None


def as_uuids(values: Iterable[str | UUID]) -> list[UUID]:
    """The values that are UUIDs; anything else names no stored row, so it is dropped."""
    out = []
    for value in values:
        parsed = as_uuid(value)
        if parsed is not None:
            out.append(parsed)
    return out


def keyed_as_asked(
    rows: list[RowInfo], ids: Sequence[str], global_keys: Sequence[str]
) -> dict[str, RowInfo]:
    """Found rows keyed by the exact strings the caller asked with (ids, then keys)."""
    by_id = {row.id: row for row in rows}
    by_key = {row.global_key: row for row in rows}
    found: dict[str, RowInfo] = {}
    for asked in ids:
        parsed = as_uuid(asked)
        row = by_id.get(str(parsed)) if parsed is not None else None
        if row is not None:
            found[asked] = row
    for key in global_keys:
        row = by_key.get(key)
        if row is not None:
            found[key] = row
    return found
