"""The two ways of reaching PostgreSQL, and the event-store setting that avoids the
known large-event stall over a Unix socket."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

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


# Two at once: each holds ~40 connections once started, and PostgreSQL allows 100.
STARTERS = 2
REPOSITORY = Path(__file__).resolve().parents[2]
START = """
import sys
from runtime import open_runtime
from storage.database import Database
open_runtime(Database(dict(arg.split("=", 1) for arg in sys.argv[1:]))).close()
"""


def test_processes_starting_at_once_on_a_fresh_schema_all_start(database: Database) -> None:
    """Each process makes the tables it needs at first use; started together on a fresh
    schema they raced in CREATE TABLE and one crashed ("tuple concurrently updated", a
    duplicate pg_type): 5 of 10 starts in pairs, measured. They take turns now."""
    args = [f"{key}={value}" for key, value in database.settings.items()]
    starters = [
        subprocess.Popen([sys.executable, "-c", START, *args], cwd=REPOSITORY, stderr=subprocess.PIPE, text=True)
        for _ in range(STARTERS)
    ]
    failures = []
    for starter in starters:
        _, stderr = starter.communicate(timeout=120)
        if starter.returncode != 0:
            failures.append(stderr[-1_000:])
    assert failures == []
