"""The client against a real server: the API tests' live fixture (a fresh schema on the
embedded and on the external PostgreSQL, uvicorn on a free port), plus a client of it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from modelledger_client import ChunkSize, Client, RetryPolicy

from tests.server.live import LiveServer, live, module_database, server_settings

__all__ = ["live", "module_database", "server_settings"]

# Small chunks, so a 30-line file takes several requests; quick retries, so tests stay fast.
CHUNK = ChunkSize(lines=10)
RETRY = RetryPolicy(attempts=4, backoff=0.01, max_backoff=0.05)


@pytest.fixture
def client(live: LiveServer) -> Iterator[Client]:
    with Client(live.url, live.write_key, chunk_size=CHUNK, retry=RETRY) as opened:
        yield opened


@pytest.fixture
def reader(live: LiveServer) -> Iterator[Client]:
    with Client(live.url, live.read_key, chunk_size=CHUNK, retry=RETRY) as opened:
        yield opened
