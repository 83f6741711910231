"""Reading saved slices: one by id, a model's by name."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg.rows import DictRow

from projections.ids import as_uuid
from projections.slices.view import SlicesView


@dataclass(frozen=True, slots=True)
class SliceRecord:
    id: str
    model_id: str
    name: str
    filter: dict[str, Any]  # a DataRowFilter as JSON, in normal form (domain.filters)
    version: int
    created_at: datetime
    updated_at: datetime


def _record(row: DictRow) -> SliceRecord:
    return SliceRecord(
        id=str(row["id"]),
        model_id=str(row["model_id"]),
        name=row["name"],
        filter=row["filter"],
        version=row["version"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


class SliceQueries:
    """Live slices only: a deleted slice is found by none of these."""

    def __init__(self, view: SlicesView) -> None:
        self.view = view

    def slice(self, slice_id: UUID | str) -> SliceRecord | None:
        parsed = as_uuid(slice_id)
        if parsed is None:
            return None
        row = self.view.fetch_one("SELECT * FROM {s}.saved_slices WHERE id = %s AND NOT deleted", (parsed,))
        return None if row is None else _record(row)

    def model_of(self, slice_id: UUID | str) -> UUID | None:
        """The model of a slice, deleted or not (None when there is no such slice)."""
        parsed = as_uuid(slice_id)
        if parsed is None:
            return None
        row = self.view.fetch_one("SELECT model_id FROM {s}.saved_slices WHERE id = %s", (parsed,))
        return None if row is None else UUID(str(row["model_id"]))

    def slices_of_model(self, model_id: UUID | str) -> list[SliceRecord]:
        """The model's slices by name."""
        parsed = as_uuid(model_id)
        if parsed is None:
            return []
        rows = self.view.fetch(
            "SELECT * FROM {s}.saved_slices WHERE model_id = %s AND NOT deleted ORDER BY lower(name), name, id",
            (parsed,),
        )
        return [_record(r) for r in rows]

    def slice_named(self, model_id: UUID | str, name: str) -> SliceRecord | None:
        """The model's slice of this exact name (names are stored stripped)."""
        parsed = as_uuid(model_id)
        if parsed is None:
            return None
        row = self.view.fetch_one(
            "SELECT * FROM {s}.saved_slices WHERE model_id = %s AND name = %s AND NOT deleted",
            (parsed, name.strip()),
        )
        return None if row is None else _record(row)


def slice_queries(runners: dict[str, Any]) -> SliceQueries:
    """The queries over the running "slices" read model."""
    view = runners["slices"].view
    assert isinstance(view, SlicesView)
    return SliceQueries(view)
