"""The two ways of reaching PostgreSQL, and the event-store setting that avoids the
known large-event stall over a Unix socket."""

from __future__ import annotations

import os

from eventsourcing.domain import Aggregate, event

from application import ModelLedger
from storage.database import Database


class Blob(Aggregate):
    @event("Written")
    def __init__(self, payload: bytes) -> None:
        self.size = len(payload)


def test_a_schema_of_its_own(database: Database) -> None:
    with database.connect() as conn:
        conn.execute("CREATE TABLE probe (x int)")
        conn.execute("INSERT INTO probe VALUES (1)")
        conn.commit()
        found = conn.execute(
            "SELECT table_schema FROM information_schema.tables WHERE table_name = 'probe'"
        ).fetchall()
    assert found == [(database.schema,)]


def test_large_events_are_written_over_the_production_connection(database: Database) -> None:
    # The embedded server is reached over a Unix socket, as in production; an event of
    # ~600 KB is past the size at which the pipelined insert is known to stall.
    app = ModelLedger(env=database.application_env())
    try:
        blobs = [Blob(payload=os.urandom(640_000)) for _ in range(3)]
        app.save(*blobs)
        again = app.repository.get(blobs[0].id)
        assert again.size == 640_000
    finally:
        app.close()
