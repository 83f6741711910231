"""One writer per read model, whatever the number of server processes on one database.

Every server runs the read models' queries, but each read model is written by one process
only: the one holding its lease, a PostgreSQL session-level advisory lock taken on a
connection kept for that purpose. The other processes keep the read model on standby
(`StandbyRunner`): they read its tables and wait on its tracking records, and try to take the
lease at every check of the healer (projections.healing, twice a second). When the holder stops or dies, PostgreSQL ends its session and frees its
locks, and another process takes over from the last event the read model tracked.

Without leases, two servers projecting into the same tables broke each other at the first
write (each one's read models stopped on the other's rows).
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import psycopg

from projections.following import FollowedLog
from projections.postgres_view import PostgresView
from projections.runners import ReadModel, ReadModelRunner, Stopped, make_projection
from projections.upload_owners import started_events
from storage.database import Database

logger = logging.getLogger(__name__)


class Leases:
    """The leases this process holds (of read models, or of another `kind` of work done by
    one process at a time), on one connection of its own."""

    def __init__(self, database: Database, kind: str = "read model") -> None:
        self._database = database
        self._kind = kind
        self._conn: psycopg.Connection[Any] | None = None
        self._held: set[str] = set()
        self._lock = threading.Lock()

    def _key(self, name: str) -> str:
        return f"modelledger {self._kind} {self._database.schema}.{name}"

    def take(self, name: str) -> bool:
        """Whether this process holds the lease of the read model now (taking it if free);
        False as well when the database cannot be reached."""
        return name in self.take_free([name]) or name in self._held

    def take_free(self, names: list[str]) -> list[str]:
        """Those of these leases that are free, taken now, in one statement (a process on
        standby asks twice a second); [] when the database cannot be reached."""
        with self._lock:
            wanted = [name for name in names if name not in self._held]
            if not wanted:
                return []
            try:
                if self._conn is None or self._conn.closed:
                    self._held.clear()
                    self._conn = self._database.connect(autocommit=True, connect_timeout=5)
                rows = self._conn.execute(
                    "SELECT n FROM unnest(%s::text[], %s::text[]) AS w(n, k) WHERE pg_try_advisory_lock(hashtext(k))",
                    (wanted, [self._key(name) for name in wanted]),
                ).fetchall()
            except psycopg.Error:
                self._drop()
                return []
            taken = [row[0] for row in rows]
            self._held.update(taken)
            return taken

    def check(self) -> bool:
        """Whether the leases are still held: False (and none held) once their connection
        is lost, since PostgreSQL freed the locks with the session."""
        with self._lock:
            if self._conn is None:
                return not self._held
            try:
                self._conn.execute("SELECT 1")
            except psycopg.Error:
                self._drop()
                return False
            return True

    def _drop(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except psycopg.Error:
                pass
        self._conn = None
        self._held.clear()

    def close(self) -> None:
        """Give every lease up (ending the session frees the locks)."""
        with self._lock:
            self._drop()


class StandbyLog:
    """The log as read models on standby read it (for waits): made when first needed, one
    for all of them."""

    def __init__(self, env: dict[str, str]) -> None:
        self._env = env
        self._log: FollowedLog | None = None
        self._lock = threading.Lock()

    def get(self) -> FollowedLog:
        with self._lock:
            if self._log is None:
                self._log = FollowedLog(env=self._env)
            return self._log

    def close(self) -> None:
        with self._lock:
            if self._log is not None:
                self._log.close()
                self._log = None


class StandbyRunner:
    """A read model written by another process: its view, read here, and the log, to wait on
    its tracking records. Nothing is projected; `started` makes the runner that will."""

    def __init__(self, model: ReadModel, env: dict[str, str], log: FollowedLog, view: PostgresView) -> None:
        self.model = model
        self.env = env
        self.view = view
        self.app = log
        self.app_name = log.name
        self.projection = make_projection(model, view, started_events(lambda: log))  # its name and topics, for waits
        # Set while the writing process reports the read model stopped (projections.stop_board).
        self.is_interrupted = threading.Event()
        self.stopped: Stopped | None = None
        self.restarts = 0

    def report(self) -> Stopped:
        """Why the writing process's read model is stopped, as it reported it."""
        assert self.stopped is not None
        return self.stopped

    def stopped_elsewhere(self, stopped: Stopped | None) -> None:
        """What the writing process reports now: stopped, or (None) running."""
        self.stopped = stopped
        if stopped is None:
            self.is_interrupted.clear()
        else:
            self.is_interrupted.set()

    def __exit__(self, *exc_info: Any) -> None:
        """Nothing runs here to stop."""

    def started(self) -> ReadModelRunner:
        """The runner that projects this read model here, from the last event it tracked
        (this process holds its lease now)."""
        return ReadModelRunner(self.model, self.env, self.view).__enter__()
