"""The slices' table: one row per slice, deleted ones kept and marked."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import orjson
from eventsourcing.persistence import Tracking

from projections.postgres_view import PostgresView


class SlicesView(PostgresView):
    tables = (
        (
            "saved_slices",
            "CREATE TABLE IF NOT EXISTS {s}.saved_slices ("
            " id uuid PRIMARY KEY, model_id uuid NOT NULL, name text NOT NULL,"
            " filter jsonb NOT NULL, version integer NOT NULL,"
            " created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL,"
            " deleted boolean NOT NULL)",
        ),
    )
    # Not unique: the log keeps live names unique (domain.slices.SliceName), and a read
    # model that refused an event would stop following the log altogether.
    indexes = (
        "CREATE INDEX IF NOT EXISTS saved_slices_model_name ON {s}.saved_slices (model_id, name)"
        " WHERE NOT deleted",
    )

    def create_slice(
        self,
        slice_id: UUID,
        model_id: UUID,
        name: str,
        filter_json: dict[str, Any],
        at: datetime,
        tracking: Tracking,
    ) -> None:
        with self.tracked(tracking) as curs:
            curs.execute(
                self.sql(
                    "INSERT INTO {s}.saved_slices (id, model_id, name, filter, version,"
                    " created_at, updated_at, deleted) VALUES (%s, %s, %s, %s, 1, %s, %s, false)"
                ),
                (slice_id, model_id, name, orjson.dumps(filter_json).decode(), at, at),
            )

    def update_slice(
        self,
        slice_id: UUID,
        version: int,
        at: datetime,
        tracking: Tracking,
        *,
        name: str | None = None,
        filter_json: dict[str, Any] | None = None,
        deleted: bool = False,
    ) -> None:
        with self.tracked(tracking) as curs:
            curs.execute(
                self.sql(
                    "UPDATE {s}.saved_slices SET version = %s, updated_at = %s,"
                    " name = coalesce(%s, name), filter = coalesce(%s::jsonb, filter),"
                    " deleted = deleted OR %s WHERE id = %s"
                ),
                (
                    version,
                    at,
                    name,
                    None if filter_json is None else orjson.dumps(filter_json).decode(),
                    deleted,
                    slice_id,
                ),
            )
