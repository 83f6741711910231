"""Stopped read models as every process on the database sees them.

A read model is written by one process (projections.leases); the others keep it on
standby. When it stops in the writing process, the others must know too: their `/ready`
names it, and their commands that wait for it are refused at once instead of after a wait.
The writing process's healer puts its stops on this board (`read_model_stops`) and takes
them off when the read model runs again; the others' healers read it.
"""

from __future__ import annotations

from collections.abc import Sequence

from eventsourcing.postgres import PostgresDatastore
from psycopg.sql import SQL, Identifier

from projections.runners import Stopped

TABLE = "read_model_stops"


class StopBoard:
    def __init__(self, datastore: PostgresDatastore) -> None:
        self._datastore = datastore
        self._table = SQL("{}.{}").format(Identifier(datastore.schema or "public"), Identifier(TABLE))

    def create_table(self) -> None:
        with self._datastore.transaction(commit=True) as curs:
            curs.execute(
                SQL(
                    "CREATE TABLE IF NOT EXISTS {} (read_model text PRIMARY KEY, notification_id bigint,"
                    " topic text, error text NOT NULL, at timestamptz NOT NULL, restarts integer NOT NULL)"
                ).format(self._table)
            )

    def post(self, stopped: Stopped) -> None:
        with self._datastore.transaction(commit=True) as curs:
            curs.execute(
                SQL(
                    "INSERT INTO {} (read_model, notification_id, topic, error, at, restarts)"
                    " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (read_model) DO UPDATE SET"
                    " notification_id = excluded.notification_id, topic = excluded.topic,"
                    " error = excluded.error, at = excluded.at, restarts = excluded.restarts"
                ).format(self._table),
                (stopped.read_model, stopped.notification_id, stopped.topic, stopped.error, stopped.at, stopped.restarts),
            )

    def take_off(self, read_models: Sequence[str]) -> None:
        with self._datastore.transaction(commit=True) as curs:
            curs.execute(SQL("DELETE FROM {} WHERE read_model = ANY(%s)").format(self._table), (list(read_models),))

    def read(self, read_models: Sequence[str]) -> dict[str, Stopped]:
        with self._datastore.transaction(commit=False) as curs:
            curs.execute(SQL("SELECT * FROM {} WHERE read_model = ANY(%s)").format(self._table), (list(read_models),))
            rows = curs.fetchall()
        return {
            row["read_model"]: Stopped(
                row["read_model"], row["notification_id"], row["topic"], row["error"], row["at"], row["restarts"]
            )
            for row in rows
        }
