"""The read models' shared pool is sized by the documented settings."""

from __future__ import annotations

import pytest

from projections.runners import views_datastore
from storage.database import Database


def _sizes(database: Database) -> tuple[int, int]:
    datastore = views_datastore(database.application_env())
    try:
        return datastore.pool.min_size, datastore.pool.max_size
    finally:
        datastore.close()


def test_the_pool_takes_its_size_from_the_environment(external_server: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("READ_MODELS_POSTGRES_POOL_SIZE", raising=False)
    monkeypatch.delenv("READ_MODELS_POSTGRES_MAX_OVERFLOW", raising=False)
    assert _sizes(external_server) == (2, 40)
    monkeypatch.setenv("READ_MODELS_POSTGRES_POOL_SIZE", "1")
    monkeypatch.setenv("READ_MODELS_POSTGRES_MAX_OVERFLOW", "3")
    assert _sizes(external_server) == (1, 4)
