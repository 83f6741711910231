"""The fuzz tests run one live server per module, on the machine's PostgreSQL only: the
embedded server is covered by tests/server, and one server keeps the budget fixed."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from storage.database import Database
from tests.conftest import fresh_schema
from tests.fuzz.seed import Seeded, seed
from tests.server.live import LiveServer, live, server_settings

__all__ = ["live", "module_database", "server_settings"]


@pytest.fixture(scope="module")
def module_database(external_server: Database) -> Iterator[Database]:
    with fresh_schema(external_server, "t_fuzz_") as scoped:
        yield scoped


@pytest.fixture(scope="module")
def seeded(live: LiveServer) -> Seeded:
    return seed(live)


@pytest.fixture(scope="module")
def writer(live: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=live.url, headers={"Authorization": f"Bearer {live.write_key}"}, timeout=60
    ) as client:
        yield client
