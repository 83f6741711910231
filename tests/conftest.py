"""Databases for the integration tests: the embedded PostgreSQL and the machine's server.

Every integration test runs against both. Each test gets a fresh schema of its own, dropped
afterwards. Outside CI a database that cannot be reached is skipped, and the skip says so;
in CI (CI=true) it fails.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest

from storage.database import Database, drop_schema, embedded_database, ensure_schema
from tests.embedded_dirs import embedded_data_dir, use_one_runtime_dir

use_one_runtime_dir()

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

EXTERNAL = Database(
    {
        "POSTGRES_DBNAME": os.environ.get("TEST_POSTGRES_DBNAME", "test"),
        "POSTGRES_HOST": os.environ.get("TEST_POSTGRES_HOST", "127.0.0.1"),
        "POSTGRES_PORT": os.environ.get("TEST_POSTGRES_PORT", "5432"),
        "POSTGRES_USER": os.environ.get("TEST_POSTGRES_USER", "postgres"),
        "POSTGRES_PASSWORD": os.environ.get("TEST_POSTGRES_PASSWORD", ""),
    }
)


def _unavailable(what: str, reason: object) -> None:
    message = f"{what} is not reachable ({reason})"
    if IN_CI:
        pytest.fail(message + "; CI must run against it")
    pytest.skip(message + "; skipped outside CI only")


# The system catalogs every test schema's tables pass through. A run of the suite creates
# and drops some thousands of tables, which leaves their catalog rows dead; a server without
# autovacuum keeps them, and every later run slows down (seen: the fresh-clone suite from 17
# to 21 minutes over a session's runs, pg_attribute at 165 MB with 797,571 dead rows, 44 MB
# once vacuumed).
_CHURNED_CATALOGS = ("pg_attribute", "pg_class", "pg_depend", "pg_type", "pg_index", "pg_constraint", "pg_attrdef")


@pytest.fixture(scope="session")
def external_server() -> Database:
    try:
        with psycopg.connect(EXTERNAL.conninfo(), connect_timeout=3, autocommit=True) as conn:
            autovacuum = conn.execute("SHOW autovacuum").fetchone()
            if autovacuum is not None and autovacuum[0] == "off":
                conn.execute("VACUUM " + ", ".join(f"pg_catalog.{name}" for name in _CHURNED_CATALOGS))
    except psycopg.OperationalError as exc:
        _unavailable("PostgreSQL on 127.0.0.1:5432", exc)
    return EXTERNAL


@pytest.fixture(scope="session")
def embedded_server() -> Iterator[Database]:
    with embedded_data_dir() as data_dir:
        try:
            server = embedded_database(data_dir)
        except Exception as exc:  # noqa: BLE001 (any start failure is reported the same way)
            _unavailable("the embedded PostgreSQL", exc)
            raise
        yield server


@contextmanager
def fresh_schema(server: Database, prefix: str) -> Iterator[Database]:
    """A schema of its own on the server (its name starts with `prefix`), dropped after."""
    scoped = server.with_schema(f"{prefix}{uuid.uuid4().hex[:10]}")
    ensure_schema(scoped)
    try:
        yield scoped
    finally:
        drop_schema(scoped)


@pytest.fixture(params=["embedded", "external"])
def database(request: pytest.FixtureRequest) -> Iterator[Database]:
    """A fresh schema on one of the two servers."""
    with fresh_schema(request.getfixturevalue(f"{request.param}_server"), "t_") as scoped:
        yield scoped
