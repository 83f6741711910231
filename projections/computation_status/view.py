"""The computation status read model: one record per computation, kept as its events say.

A run's metrics status is derived from its records (queries.py). A failed computation is
superseded once a later computation of every row of its owner completes: the rows it
missed have been computed since, so its failure no longer says anything about them.
"""

from __future__ import annotations

from uuid import UUID

from eventsourcing.persistence import Tracking

from projections.postgres_view import PostgresView


class ComputationStatusView(PostgresView):
    tables = (
        (
            "computations",
            "CREATE TABLE IF NOT EXISTS {s}.computations ("
            " id uuid PRIMARY KEY, kind text NOT NULL, owner_id uuid NOT NULL,"
            " owner_version integer NOT NULL, scope text NOT NULL, chunks integer NOT NULL,"
            " chunks_done integer NOT NULL, rows_planned integer NOT NULL,"
            " rows_done integer NOT NULL, state text NOT NULL, reason text,"
            " attempt integer NOT NULL, requested_at bigint NOT NULL, changed_at bigint NOT NULL)",
        ),
    )
    indexes = (
        "CREATE INDEX IF NOT EXISTS computations_owner ON {s}.computations (owner_id, kind, state)",
    )

    def requested(
        self,
        computation_id: UUID,
        kind: str,
        owner: tuple[UUID, int],
        scope: str,
        chunks: int,
        rows: int,
        tracking: Tracking,
    ) -> None:
        with self.tracked(tracking) as curs:
            curs.execute(
                self.sql(
                    "INSERT INTO {s}.computations (id, kind, owner_id, owner_version, scope, chunks,"
                    " chunks_done, rows_planned, rows_done, state, reason, attempt, requested_at,"
                    " changed_at) VALUES (%s, %s, %s, %s, %s, %s, 0, %s, 0, 'REQUESTED', NULL, 1, %s, %s)"
                ),
                (computation_id, kind, owner[0], owner[1], scope, chunks, rows, tracking.notification_id, tracking.notification_id),
            )

    def chunk_completed(self, computation_id: UUID, rows: int, tracking: Tracking) -> None:
        with self.tracked(tracking) as curs:
            curs.execute(
                self.sql(
                    "UPDATE {s}.computations SET chunks_done = chunks_done + 1,"
                    " rows_done = rows_done + %s, changed_at = %s WHERE id = %s"
                ),
                (rows, tracking.notification_id, computation_id),
            )

    def set_state(self, computation_id: UUID, state: str, reason: str | None, tracking: Tracking) -> None:
        with self.tracked(tracking) as curs:
            curs.execute(
                self.sql(
                    "UPDATE {s}.computations SET state = %s, reason = %s, changed_at = %s,"
                    " attempt = attempt + CASE WHEN state = 'FAILED' AND %s = 'REQUESTED' THEN 1 ELSE 0 END"
                    " WHERE id = %s RETURNING kind, owner_id, owner_version, scope"
                ),
                (state, reason, tracking.notification_id, state, computation_id),
            )
            row = curs.fetchone()
            if state == "COMPLETED" and row is not None and row["scope"] == "all":
                curs.execute(
                    self.sql(
                        "UPDATE {s}.computations SET state = 'SUPERSEDED', changed_at = %s"
                        " WHERE owner_id = %s AND kind = %s AND state = 'FAILED' AND owner_version < %s"
                    ),
                    (tracking.notification_id, row["owner_id"], row["kind"], row["owner_version"]),
                )
