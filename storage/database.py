"""Where the event store and the read models live: PostgreSQL, embedded or external.

An external server is chosen by eventsourcing's own POSTGRES_* variables, passed through
unchanged. Without them the embedded PostgreSQL of the data directory is used, started
if it is not running.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import psycopg

from storage import key_uses

DEFAULT_DATA_DIR = Path("./.modelledger")
DATABASE_NAME = "modelledger"

# Settings of the event-sourced application that hold whatever the database is.
APPLICATION_SETTINGS = {
    "PERSISTENCE_MODULE": "eventsourcing.postgres",
    # The pipelined insert is known to stall over a Unix socket for events of ~500 KB;
    # the database functions avoid it (and every event is kept far below that anyway).
    "POSTGRES_ENABLE_DB_FUNCTIONS": "y",
    # ... whose insert function must keep positions in commit order (storage/ordered_recorder.py).
    "APPLICATION_RECORDER_TOPIC": "storage.ordered_recorder:OrderedApplicationRecorder",
    "AGGREGATE_CACHE_MAXSIZE": "10000",
    # zstd level 1, reading zlib payloads of earlier versions too (storage/compression.py).
    "COMPRESSOR_TOPIC": "storage.compression:ZstdCompressor",
    # Up to 16 connections under load, 2 kept open when idle: every process holds one such
    # pool per application besides its read models' small ones, and PostgreSQL's default
    # is 100 connections in all.
    "POSTGRES_POOL_SIZE": "2",
    "POSTGRES_MAX_OVERFLOW": "14",
}


@dataclass(frozen=True)
class Database:
    """Connection settings in eventsourcing's vocabulary (POSTGRES_* names)."""

    settings: dict[str, str] = field(default_factory=dict)

    @property
    def schema(self) -> str:
        return self.settings.get("POSTGRES_SCHEMA", "") or "public"

    def application_env(self) -> dict[str, str]:
        return {**APPLICATION_SETTINGS, **self.settings}

    def conninfo(self) -> str:
        parts = {
            "dbname": self.settings.get("POSTGRES_DBNAME", ""),
            "host": self.settings.get("POSTGRES_HOST", ""),
            "port": self.settings.get("POSTGRES_PORT", ""),
            "user": self.settings.get("POSTGRES_USER", ""),
            "password": self.settings.get("POSTGRES_PASSWORD", ""),
        }
        return " ".join(f"{k}={_quote(v)}" for k, v in parts.items() if v)

    def connect(self, **kwargs: Any) -> psycopg.Connection:
        """A connection in this database's schema; `kwargs` are psycopg.connect's."""
        conn = psycopg.connect(self.conninfo(), **kwargs)
        if self.schema != "public":
            conn.execute(f'SET search_path TO "{self.schema}"')
            conn.commit()
        return conn

    def with_schema(self, schema: str) -> Database:
        return Database({**self.settings, "POSTGRES_SCHEMA": schema})

    def without_schema(self) -> Database:
        """The same server and database, on the default search path (to make or drop a schema)."""
        return Database({k: v for k, v in self.settings.items() if k != "POSTGRES_SCHEMA"})


def _quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def external_database_configured(environ: dict[str, str] | None = None) -> bool:
    env = os.environ if environ is None else environ
    return bool(env.get("POSTGRES_DBNAME") or env.get("POSTGRES_HOST"))


def database_from_environment(data_dir: Path | None = None) -> Database:
    """The external database if POSTGRES_* says so, else the embedded one of `data_dir`."""
    if external_database_configured():
        keys = [k for k in os.environ if k.startswith("POSTGRES_")]
        settings = {k: os.environ[k] for k in keys}
        settings.setdefault("POSTGRES_PORT", "5432")
        settings.setdefault("POSTGRES_USER", "postgres")
        settings.setdefault("POSTGRES_PASSWORD", "")
        return Database(settings)
    return embedded_database(data_dir or DEFAULT_DATA_DIR)


def embedded_database(data_dir: Path) -> Database:
    from storage.embedded import start_embedded_postgres

    uri = start_embedded_postgres(data_dir)
    parsed = urlparse(uri)
    socket_dir = parse_qs(parsed.query)["host"][0]
    admin = Database(
        {
            "POSTGRES_DBNAME": "postgres",
            "POSTGRES_HOST": socket_dir,
            "POSTGRES_PORT": str(parsed.port or 5432),
            "POSTGRES_USER": parsed.username or "postgres",
            "POSTGRES_PASSWORD": "",
        }
    )
    ensure_database(admin, DATABASE_NAME)
    return Database({**admin.settings, "POSTGRES_DBNAME": DATABASE_NAME})


def ensure_database(admin: Database, name: str) -> None:
    with psycopg.connect(admin.conninfo(), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def ensure_schema(database: Database) -> None:
    """Create the database schema named by POSTGRES_SCHEMA, if any."""
    if database.schema == "public":
        return
    plain = database.without_schema()
    with psycopg.connect(plain.conninfo(), autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{database.schema}"')


@contextmanager
def preparing(database: Database) -> Iterator[None]:
    """Hold the schema's set-up lock: the process that makes its schema and tables (the
    event store's and the read models', created at first use) does so alone. Processes
    started at the same moment on a fresh database otherwise race in CREATE TABLE IF NOT
    EXISTS and one fails ("tuple concurrently updated", a duplicate pg_type)."""
    plain = database.without_schema()
    lock = f"modelledger set-up {database.schema}"
    with psycopg.connect(plain.conninfo(), autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(hashtext(%s))", (lock,))
        try:
            ensure_schema(database)
            key_uses.create_table(conn, database.schema)
            yield
        finally:
            conn.execute("SELECT pg_advisory_unlock(hashtext(%s))", (lock,))


def drop_schema(database: Database) -> None:
    plain = database.without_schema()
    with psycopg.connect(plain.conninfo(), autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{database.schema}" CASCADE')
