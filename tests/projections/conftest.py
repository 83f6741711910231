"""Read-model tests run the real application on a real PostgreSQL, one fresh schema each.

The server is the machine's PostgreSQL (127.0.0.1:5432, database "test"); each test gets
its own schema, dropped afterwards. `ledger` is a running ModelLedger with its read models
attached, as the server opens it.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import psycopg
import pytest

from runtime import Runtime, open_runtime
from storage.database import Database, drop_schema, ensure_schema

SERVER = Database(
    {
        "POSTGRES_DBNAME": os.environ.get("TEST_POSTGRES_DBNAME", "test"),
        "POSTGRES_HOST": os.environ.get("TEST_POSTGRES_HOST", "127.0.0.1"),
        "POSTGRES_PORT": os.environ.get("TEST_POSTGRES_PORT", "5432"),
        "POSTGRES_USER": os.environ.get("TEST_POSTGRES_USER", "postgres"),
        "POSTGRES_PASSWORD": os.environ.get("TEST_POSTGRES_PASSWORD", ""),
    }
)


@pytest.fixture(scope="session")
def pg_server() -> Database:
    try:
        with psycopg.connect(SERVER.conninfo(), connect_timeout=3):
            pass
    except psycopg.OperationalError as exc:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"PostgreSQL is not reachable ({exc}); CI must run against it")
        pytest.skip(f"PostgreSQL is not reachable ({exc})")
    return SERVER


@pytest.fixture
def pg_database(pg_server: Database) -> Iterator[Database]:
    """A fresh schema of its own on the PostgreSQL server, dropped afterwards."""
    scoped = pg_server.with_schema(f"p_{uuid.uuid4().hex[:12]}")
    ensure_schema(scoped)
    try:
        yield scoped
    finally:
        drop_schema(scoped)


@pytest.fixture
def ledger(pg_database: Database) -> Iterator[Runtime]:
    """The application with its read models running, on a fresh schema."""
    runtime = open_runtime(pg_database)
    try:
        yield runtime
    finally:
        runtime.close()
