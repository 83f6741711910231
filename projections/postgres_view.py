"""What every read model's PostgreSQL view shares: its tables, and writes tracked atomically.

A view is an eventsourcing `PostgresTrackingRecorder`: the tables it declares are created
with its tracking table, and each processed event writes its rows and the tracking record
in one transaction, so a view never holds half an event nor processes one twice.
"""

from __future__ import annotations

import base64
import binascii
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresDatastore, PostgresTrackingRecorder
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Composed, Identifier

from domain.errors import ValidationFailed

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000


class PostgresView(PostgresTrackingRecorder):
    """Subclasses list their tables as (name, DDL) with `{s}` standing for the schema."""

    tables: ClassVar[tuple[tuple[str, str], ...]] = ()
    indexes: ClassVar[tuple[str, ...]] = ()
    # Tables kept by something other than the projection (from other read models): a
    # rebuild from the log alone does not reproduce them, so they are not compared.
    refreshed_tables: ClassVar[tuple[str, ...]] = ()

    def __init__(self, datastore: PostgresDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        self._statements: dict[str, Composed] = {}
        # Connections of the pool already told not to wait for the WAL flush (see tracked).
        self._unsynchronised: weakref.WeakSet[Any] = weakref.WeakSet()
        # The last event skipped and not yet tracked (see skip).
        self._skipped: Tracking | None = None
        for _, ddl in self.tables:
            self.sql_create_statements.append(self.sql(ddl))
        for ddl in self.indexes:
            self.sql_create_statements.append(self.sql(ddl))

    @property
    def schema(self) -> str:
        return self.datastore.schema

    @classmethod
    def table_names(cls) -> list[str]:
        """The tables a rebuild from the log reproduces."""
        return [name for name, _ in cls.tables if name not in cls.refreshed_tables]

    def sql(self, template: str) -> Composed:
        """A statement with its schema filled in (cached: statements are reused per event)."""
        statement = self._statements.get(template)
        if statement is None:
            statement = SQL(template).format(s=Identifier(self.datastore.schema))
            self._statements[template] = statement
        return statement

    @contextmanager
    def tracked(self, tracking: Tracking) -> Iterator[Cursor[DictRow]]:
        """One transaction holding an event's writes and its tracking record.

        The commit does not wait for the WAL flush: a crash can lose only whole recent
        transactions, each with its tracking record, and the runner then processes those
        events again from the log. Waiting for the disk per event would bound a bulk
        upload's projection by the disk's flush latency.
        """
        with self.datastore.transaction(commit=True) as curs:
            if curs.connection not in self._unsynchronised:
                curs.execute("SET synchronous_commit = off")
                self._unsynchronised.add(curs.connection)
            yield curs
            self._insert_tracking(curs, tracking)
        self._skipped = None  # tracked past it

    def skip(self, tracking: Tracking) -> None:
        """An event this read model ignores: tracked with the next event it writes for, or
        by `flush_skipped` once its runner has read every event there is (no transaction of
        its own per event: after an upload of 20,000 vectors, each read model other than the
        embeddings' skipped 313 chunk events). Lost in a crash, it is only skipped again."""
        self._skipped = tracking

    def flush_skipped(self) -> None:
        """Track the last skipped event, if no later one was tracked."""
        if self._skipped is not None:
            self.insert_tracking(self._skipped)
            self._skipped = None

    @contextmanager
    def reading(self) -> Iterator[Cursor[DictRow]]:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            yield curs

    def fetch(self, template: str, params: Any = None, binary: bool = False) -> list[DictRow]:
        """The rows; `binary`: in PostgreSQL's binary format, for large bytea values (the text
        format sends them hex-encoded, twice their size, to be decoded here)."""
        with self.reading() as curs:
            curs.execute(self.sql(template), params, binary=binary)
            return curs.fetchall()

    def fetch_one(self, template: str, params: Any = None) -> DictRow | None:
        rows = self.fetch(template, params)
        return rows[0] if rows else None


def array_literal(values: list[str]) -> str:
    """A PostgreSQL array literal of strings: adapting a Python list costs psycopg a Python
    call per element, this one join (a chunk's few hundred ids, per event)."""
    escaped = (v.replace("\\", "\\\\").replace('"', '\\"') for v in values)
    return '{"' + '","'.join(escaped) + '"}' if values else "{}"


def page_size(first: int | None) -> int:
    if first is None:
        return DEFAULT_PAGE_SIZE
    if isinstance(first, bool) or not isinstance(first, int) or not 0 <= first <= MAX_PAGE_SIZE:
        raise ValidationFailed(f"first must be an integer from 0 to {MAX_PAGE_SIZE}, got {first!r}")
    return first


def encode_cursor(kind: str, key: object) -> str:
    return base64.urlsafe_b64encode(f"{kind}:{key}".encode()).decode("ascii")


def decode_cursor(kind: str, cursor: str | None) -> str | None:
    """The key a cursor of this list holds; a cursor of another list is as bad as garbage."""
    if cursor is None:
        return None
    try:
        text = base64.urlsafe_b64decode(cursor.encode("ascii")).decode()
    except (binascii.Error, UnicodeError, ValueError):
        text = ""
    prefix = kind + ":"
    if not text.startswith(prefix) or len(text) == len(prefix):
        raise ValidationFailed(f"invalid cursor {cursor!r} for {kind}")
    return text[len(prefix) :]


def int_cursor(kind: str, cursor: str | None) -> int | None:
    key = decode_cursor(kind, cursor)
    if key is None:
        return None
    try:
        return int(key)
    except ValueError:
        raise ValidationFailed(f"invalid cursor {cursor!r} for {kind}") from None
