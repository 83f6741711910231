"""Object ids.

Every object's id is the UUID of its aggregate (or of its data row): unique across all
kinds, so `node(id)` can find any of them, and the same id works unchanged in the bulk
upload routes and in NDJSON lines (`"dataRow": {"id": ...}`), where an encoded
"Type:uuid" id would have to be decoded by every client first.
"""

from __future__ import annotations

from uuid import UUID

from domain.errors import NotFound


def parse_id(value: str, what: str) -> UUID:
    """The UUID an id names; an id that cannot name anything is NOT_FOUND."""
    try:
        return UUID(str(value))
    except ValueError:
        raise NotFound(f"{what} {value!r} not found") from None


def try_parse_id(value: str) -> UUID | None:
    try:
        return UUID(str(value))
    except ValueError:
        return None
