"""What a metric chunk reads: a run's labels and predictions as of one version.

They come from the model runs read model, whose records are temporal, so a chunk computes
exactly the version it was requested for even when later versions are already there. A
worker may run where no projection runs (another process or machine): it first waits until
the model runs read model has taken in everything the request depends on.
"""

from __future__ import annotations

from time import monotonic, sleep
from typing import Any
from uuid import UUID

from psycopg import Connection
from psycopg.rows import DictRow, dict_row
from psycopg.sql import SQL, Composed, Identifier
from psycopg_pool import ConnectionPool

from projections.model_runs.projection import ModelRunsProjection
from projections.model_runs.view import as_of
from projections.runners import last_relevant_notification
from storage.database import Database

# A model run's row: (row id, labels JSON list or None, predictions JSON list).
InputRow = tuple[str, bytes | None, bytes]

# Covered rows (a predictions record at v) with their labels at v. The LATERAL probes keep
# the planner on the primary keys whatever the tables' statistics say.
_SELECT = (
    "SELECT p.row_id, l.labels, p.predictions FROM {source}"
    " CROSS JOIN LATERAL (SELECT p.row_id, p.predictions FROM {s}.run_predictions p"
    "  WHERE p.run_id = %(run)s AND p.row_id = u.id AND " + as_of("p") + " OFFSET 0) p"
    " LEFT JOIN LATERAL (SELECT l.labels FROM {s}.run_labels l"
    "  WHERE l.run_id = %(run)s AND l.row_id = p.row_id AND " + as_of("l") + " OFFSET 0) l ON true"
    " ORDER BY p.row_id"
)
_BY_ID = _SELECT.replace("{source}", "unnest(%(ids)s::uuid[]) AS u(id)")
_IN_RANGE = _SELECT.replace(
    "{source}",
    "(SELECT DISTINCT r.row_id AS id FROM {s}.run_rows r WHERE r.run_id = %(run)s"
    " AND r.row_id >= %(lo)s AND (%(hi)s::uuid IS NULL OR r.row_id < %(hi)s::uuid) AND " + as_of("r") + ") AS u",
)


def row_range(chunk: int, chunks: int) -> tuple[UUID, UUID | None]:
    """Chunk k of n: the k-th of n equal ranges of row ids. Data row ids are hashes, so the
    ranges hold about equally many rows."""
    low = UUID(int=(chunk << 128) // chunks)
    high = UUID(int=((chunk + 1) << 128) // chunks) if chunk + 1 < chunks else None
    return low, high


class MetricInputs:
    def __init__(self, database: Database, max_connections: int = 4) -> None:
        self._schema = Identifier(database.schema)
        self._pool = ConnectionPool(
            database.conninfo(),
            min_size=0,
            max_size=max_connections,
            connection_class=Connection[DictRow],
            kwargs={"row_factory": dict_row},
            open=True,
        )

    def close(self) -> None:
        self._pool.close()

    def _sql(self, template: str) -> Composed:
        return SQL(template).format(s=self._schema)

    def _fetch(self, template: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        with self._pool.connection() as conn, conn.cursor() as curs:
            curs.execute(self._sql(template), params)
            return curs.fetchall()

    def wait_for(self, recorder: Any, app_name: str, notification_id: int, timeout: float) -> None:
        """Block until the model runs read model holds what the request at this position
        depends on; TimeoutError past the timeout."""
        target = last_relevant_notification(recorder, ModelRunsProjection.topics, notification_id)
        if target is None:
            return
        deadline = monotonic() + timeout
        pause = 0.01
        while True:
            row = self._fetch(
                "SELECT max(notification_id) AS n FROM {s}.model_runs_tracking WHERE application_name = %(app)s",
                {"app": app_name},
            )
            if row and row[0]["n"] is not None and row[0]["n"] >= target:
                return
            if monotonic() > deadline:
                raise TimeoutError(f"the model runs read model has not reached notification {target} yet")
            sleep(pause)
            pause = min(pause * 2, 0.5)

    def rows_by_id(self, run_id: UUID, version: int, ids: list[str]) -> list[InputRow]:
        found = self._fetch(_BY_ID, {"run": run_id, "v": version, "ids": ids})
        return [(str(r["row_id"]), _bytes(r["labels"]), bytes(r["predictions"])) for r in found]

    def rows_in_range(self, run_id: UUID, version: int, chunk: int, chunks: int) -> list[InputRow]:
        low, high = row_range(chunk, chunks)
        found = self._fetch(_IN_RANGE, {"run": run_id, "v": version, "lo": low, "hi": high})
        return [(str(r["row_id"]), _bytes(r["labels"]), bytes(r["predictions"])) for r in found]


def _bytes(value: Any) -> bytes | None:
    return None if value is None else bytes(value)
