"""Read-model tests run the real application on a real PostgreSQL, one fresh schema each.

`database` (tests/conftest.py) gives a fresh schema on the embedded server and on the
machine's server in turn; `ledger` is a running ModelLedger with its read models attached,
as the server opens it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from runtime import Runtime, open_runtime
from storage.database import Database


@pytest.fixture
def ledger(database: Database) -> Iterator[Runtime]:
    """The application with its read models running, on a fresh schema."""
    runtime = open_runtime(database)
    try:
        yield runtime
    finally:
        runtime.close()
