"""Commands wait only for the read models they read (catalog, runs, embeddings, projector): a gallery
busy with an upload does not hold them up, and a read model they read that does not catch
up in time refuses the command with a retryable CONFLICT, recording nothing."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from domain.errors import Conflict
from tests.server.live import LiveServer
from tests.server.operations import data_row_lines


@contextmanager
def held(live: LiveServer, read_model: str) -> Iterator[None]:
    """The read model's projection processes nothing until the block ends."""
    projection: Any = live.runtime.read_models._runners[read_model].projection
    gate = threading.Event()
    real = projection.process_event

    def waiting(event: Any, tracking: Any) -> None:
        gate.wait(timeout=60)
        real(event, tracking)

    projection.process_event = waiting
    try:
        yield
    finally:
        del projection.process_event
        gate.set()


def add_rows(live: LiveServer, dataset_id: Any, prefix: str) -> None:
    live.runtime.app.add_data_rows(dataset_id, enumerate(data_row_lines(2, prefix), start=1), "test")


def test_a_busy_gallery_does_not_hold_up_a_command(live: LiveServer) -> None:
    app, read_models = live.runtime.app, live.runtime.read_models
    dataset = app.create_dataset("waits", "test")
    read_models.wait_until_current()
    with held(live, "gallery"):
        add_rows(live, dataset.id, "w1")  # an upload: the gallery takes it and stays behind
        with pytest.raises(TimeoutError):
            read_models.wait_until_current(timeout=0.3)
        # The next command validates against the catalog, which is current, and goes ahead.
        add_rows(live, dataset.id, "w2")
        read_models.rows.wait_until_current(timeout=10)
        assert set(read_models.rows.dataset_rows(dataset.id, global_keys=["w1-0", "w2-1"])) == {"w1-0", "w2-1"}
    read_models.wait_until_current()


def test_a_catalog_that_does_not_catch_up_refuses_the_command_and_records_nothing(live: LiveServer) -> None:
    app, read_models = live.runtime.app, live.runtime.read_models
    dataset = app.create_dataset("lagging", "test")
    read_models.wait_until_current()
    waited = read_models.rows.timeout
    read_models.rows.timeout = 0.3
    try:
        with held(live, "catalog"):
            app.rename_dataset(dataset.id, "lagging still", "test")  # the catalog stays behind
            before = app.repository.get(dataset.id).version
            with pytest.raises(Conflict, match="send the request again"):
                add_rows(live, dataset.id, "late")
            assert app.repository.get(dataset.id).version == before
    finally:
        read_models.rows.timeout = waited
    read_models.wait_until_current()
    assert read_models.rows.dataset_rows(dataset.id, global_keys=["late-0"]) == {}
