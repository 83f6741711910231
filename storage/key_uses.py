"""When each API key was last used. Not an event: a use changes nothing and would flood the
log; a row per key in the event log's database, written on an authentication that was not
answered from a server's memory (so at most once every few seconds per key and server).

Without PostgreSQL (an in-memory event store, in tests) the uses are kept in memory.
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime
from uuid import UUID

import psycopg
from eventsourcing.persistence import ApplicationRecorder
from eventsourcing.postgres import PostgresDatastore

log = logging.getLogger(__name__)
TABLE = "api_key_uses"


def create_table(conn: psycopg.Connection[object], schema: str) -> None:
    """Run by the process that sets the schema up (storage.database.preparing)."""
    conn.execute(
        f'CREATE TABLE IF NOT EXISTS "{schema}".{TABLE} '
        "(key_id uuid PRIMARY KEY, last_used_at timestamptz NOT NULL)"
    )


class KeyUses:
    def __init__(self, recorder: ApplicationRecorder) -> None:
        datastore = getattr(recorder, "datastore", None)
        self._datastore = datastore if isinstance(datastore, PostgresDatastore) else None
        self._in_memory: dict[UUID, datetime] = {}
        self._lock = threading.Lock()

    def record(self, key_id: UUID, at: datetime | None = None) -> None:
        """The key was used at `at` (now): kept if later than what is known. A failure is
        logged, never raised: a use that goes unrecorded must not refuse the request."""
        when = at or datetime.now(UTC)
        if self._datastore is None:
            with self._lock:
                self._in_memory[key_id] = max(when, self._in_memory.get(key_id, when))
            return
        try:
            with self._datastore.get_connection() as conn:
                conn.execute(
                    f'INSERT INTO "{self._datastore.schema}".{TABLE} (key_id, last_used_at) VALUES (%s, %s) '
                    "ON CONFLICT (key_id) DO UPDATE SET last_used_at = GREATEST("
                    f"{TABLE}.last_used_at, EXCLUDED.last_used_at)",
                    (key_id, when),
                )
        except Exception:  # noqa: BLE001 (see the docstring)
            log.warning("the use of API key %s could not be recorded", key_id, exc_info=True)

    def last_uses(self) -> dict[UUID, datetime]:
        if self._datastore is None:
            with self._lock:
                return dict(self._in_memory)
        with self._datastore.get_connection() as conn:
            rows = conn.execute(f'SELECT key_id, last_used_at FROM "{self._datastore.schema}".{TABLE}').fetchall()
        return {UUID(str(row["key_id"])): row["last_used_at"] for row in rows}  # the pool's rows are dicts
