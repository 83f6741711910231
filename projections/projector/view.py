"""The projector's tables: projections with their status, and their points in parts.

A projection's coordinates arrive as the parts of its computation's one result, each part
ids (16 bytes per data row) and x, y (float32 little-endian) of up to 8,192 points, kept
as they are: a query joins a few parts instead of reading 100,000 rows.

Its computation's events come in one save with the result's parts, but each is projected
in its own transaction; so READY is derived where it is read (completed, and every part
there), and a reader can never see READY without all the coordinates.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import orjson
from eventsourcing.persistence import Tracking
from psycopg.rows import DictRow

from projections.postgres_view import PostgresView


class ProjectorView(PostgresView):
    tables = (
        (
            "projector_projections",
            "CREATE TABLE IF NOT EXISTS {s}.projector_projections ("
            " id uuid PRIMARY KEY, run_id uuid NOT NULL, seq bigint NOT NULL,"
            " run_version integer NOT NULL, space text NOT NULL, spaces jsonb NOT NULL,"
            " method text NOT NULL, sphereize boolean NOT NULL, point_count integer NOT NULL,"
            " selected boolean NOT NULL, source_projection_id uuid, computation_id uuid NOT NULL,"
            " actor text NOT NULL, requested_at timestamptz NOT NULL, updated_at timestamptz NOT NULL,"
            " progress real NOT NULL, stage text NOT NULL, completed boolean NOT NULL,"
            " error text, attempt integer NOT NULL, parts_expected integer)",
        ),
        (
            "projector_points",
            "CREATE TABLE IF NOT EXISTS {s}.projector_points ("
            " projection_id uuid NOT NULL, part integer NOT NULL,"
            " row_ids bytea NOT NULL, xy bytea NOT NULL, PRIMARY KEY (projection_id, part))",
        ),
    )
    indexes = (
        "CREATE INDEX IF NOT EXISTS projector_projections_run ON {s}.projector_projections (run_id, seq)",
        "CREATE INDEX IF NOT EXISTS projector_projections_computation"
        " ON {s}.projector_projections (computation_id)",
    )

    def request(self, projection_id: UUID, fields: dict[str, Any], at: datetime, tracking: Tracking) -> None:
        with self.tracked(tracking) as curs:
            curs.execute(
                self.sql(
                    "INSERT INTO {s}.projector_projections (id, run_id, seq, run_version, space,"
                    " spaces, method, sphereize, point_count, selected, source_projection_id,"
                    " computation_id, actor, requested_at, updated_at, progress, stage, completed,"
                    " error, attempt, parts_expected) VALUES (%(id)s, %(run_id)s, %(seq)s,"
                    " %(run_version)s, %(space)s, %(spaces)s, %(method)s, %(sphereize)s, %(points)s,"
                    " %(selected)s, %(source)s, %(computation_id)s, %(actor)s, %(at)s, %(at)s, 0,"
                    " 'requested', false, NULL, 1, NULL)"
                ),
                {
                    **fields,
                    "id": projection_id,
                    "seq": tracking.notification_id,
                    "spaces": orjson.dumps(fields["spaces"]).decode(),
                    "at": at,
                },
            )

    def note_progress(self, projection_id: UUID, fraction: float, stage: str, at: datetime, tracking: Tracking) -> None:
        with self.tracked(tracking) as curs:
            curs.execute(
                self.sql(
                    "UPDATE {s}.projector_projections SET progress = %s, stage = %s, updated_at = %s"
                    " WHERE id = %s AND NOT completed AND error IS NULL"
                ),
                (fraction, stage, at, projection_id),
            )

    def change_computation(
        self, computation_id: UUID, at: datetime, tracking: Tracking, *, completed: bool = False,
        error: str | None = None, retried: bool = False,
    ) -> None:
        """A change of a computation; only a projection's computation changes a row here."""
        with self.tracked(tracking) as curs:
            curs.execute(
                self.sql(
                    "UPDATE {s}.projector_projections SET updated_at = %(at)s,"
                    " completed = completed OR %(completed)s,"
                    " progress = CASE WHEN %(completed)s THEN 1 WHEN %(retried)s THEN 0 ELSE progress END,"
                    " stage = CASE WHEN %(completed)s THEN 'done' WHEN %(retried)s THEN 'retried'"
                    "  WHEN %(error)s::text IS NOT NULL THEN 'failed' ELSE stage END,"
                    " error = CASE WHEN %(retried)s THEN NULL ELSE coalesce(%(error)s, error) END,"
                    " attempt = attempt + CASE WHEN %(retried)s THEN 1 ELSE 0 END"
                    " WHERE computation_id = %(computation)s"
                ),
                {"at": at, "completed": completed, "error": error, "retried": retried, "computation": computation_id},
            )

    def expect_parts(self, projection_id: UUID, parts: int, tracking: Tracking) -> None:
        with self.tracked(tracking) as curs:
            curs.execute(
                self.sql("UPDATE {s}.projector_projections SET parts_expected = %s WHERE id = %s"),
                (parts, projection_id),
            )

    def add_points(self, projection_id: UUID, part: int, row_ids: bytes, xy: bytes, tracking: Tracking) -> None:
        with self.tracked(tracking) as curs:
            curs.execute(
                self.sql(
                    "INSERT INTO {s}.projector_points (projection_id, part, row_ids, xy)"
                    " VALUES (%s, %s, %s, %s)"
                ),
                (projection_id, part, row_ids, xy),
            )

    def projection_row(self, projection_id: UUID) -> DictRow | None:
        return self.fetch_one(
            "SELECT p.*, (SELECT count(*) FROM {s}.projector_points x WHERE x.projection_id = p.id)"
            " AS parts_received FROM {s}.projector_projections p WHERE p.id = %s",
            (projection_id,),
        )
