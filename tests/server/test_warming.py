"""The server warms a run once its metrics are in sync (projections/warming.py): its gallery
index and metric results are in memory before anyone reads the run."""

from __future__ import annotations

import threading
import time
from typing import Any
from uuid import UUID

import pytest

from projections.warming import RunWarming
from tests.server.live import LiveServer
from tests.server.operations import (
    CREATE_DATASET,
    ONTOLOGY,
    data_row_lines,
    evaluated_run,
    payload,
    prediction_lines,
)

DELETE_RUN = """mutation($id: ID!) { deleteModelRun(input: {runId: $id}) {
  __typename ... on DeleteModelRunPayload { modelRun { id } } ... on UserError { message } } }"""


def wait_until(condition: object, what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"{what} after {timeout} s"
        time.sleep(0.05)


def test_a_run_is_in_memory_once_in_sync_without_a_read(live: LiveServer) -> None:
    read_models = live.runtime.read_models
    run_id = evaluated_run(live.writer, "warm", ONTOLOGY, data_row_lines(6, "warm"), prediction_lines(6, "warm"))
    # Nothing read the run's gallery or results: only its status was asked for.
    wait_until(lambda: UUID(run_id) in read_models.gallery.runs_in_memory(), "the gallery index is not in memory")
    wait_until(lambda: UUID(run_id) in read_models.metrics.runs_in_memory(), "the results are not in memory")
    index = read_models.gallery.index(run_id)
    assert index.n_rows == 6 and index.predictions.rows.size == 6


def test_a_deleted_run_is_left_out(live: LiveServer) -> None:
    run_id = evaluated_run(live.writer, "gone", ONTOLOGY, data_row_lines(3, "gone"), prediction_lines(3, "gone"))
    warming = RunWarming(live.runtime.read_models)
    assert UUID(run_id) in warming.warm()
    payload(live.writer.data(DELETE_RUN, id=run_id), "deleteModelRun")
    live.runtime.read_models.wait_until_current()
    assert UUID(run_id) not in warming.warm()


def _build_then(warming: RunWarming, record: object) -> None:
    """Makes the warm-up record something right after it built, before it checks the log."""
    build = warming._build

    def build_while_recording() -> list[UUID]:
        built = build()
        record()  # type: ignore[operator]
        return built

    warming._build = build_while_recording  # type: ignore[method-assign]


def test_what_was_built_while_the_run_changed_is_dropped(live: LiveServer) -> None:
    """A warm-up that overlaps a change of the run keeps nothing of it: its stamp and its rows
    may come from read models at different points of the log."""
    read_models = live.runtime.read_models
    run_id = evaluated_run(live.writer, "moving", ONTOLOGY, data_row_lines(3, "moving"), prediction_lines(3, "moving"))
    warming = RunWarming(read_models)
    assert UUID(run_id) in warming.warm()  # a quiet log: kept
    assert read_models.gallery.is_current(UUID(run_id)) and read_models.metrics.is_current(UUID(run_id))

    def new_predictions() -> None:
        answer = live.writer.upload(f"/upload/model-runs/{run_id}/predictions", prediction_lines(3, "moving", confidence=0.7))
        assert answer.status_code == 200, answer.text

    _build_then(warming, new_predictions)
    assert UUID(run_id) not in warming.warm()
    assert UUID(run_id) not in read_models.gallery.runs_in_memory()
    assert UUID(run_id) not in read_models.metrics.runs_in_memory()


def test_what_an_unrelated_change_left_alone_is_kept(live: LiveServer) -> None:
    """An event that does not touch the run (another dataset) leaves what was built current."""
    read_models = live.runtime.read_models
    run_id = evaluated_run(live.writer, "still", ONTOLOGY, data_row_lines(3, "still"), prediction_lines(3, "still"))
    now = [0.0]
    warming = RunWarming(read_models, quiet_seconds=5.0, clock=lambda: now[0])
    warming.warm()
    _build_then(warming, lambda: payload(live.writer.data(CREATE_DATASET, name="recorded meanwhile"), "createDataset"))
    assert UUID(run_id) in warming.warm()
    assert read_models.gallery.is_current(UUID(run_id)) and read_models.metrics.is_current(UUID(run_id))
    assert UUID(run_id) in read_models.gallery.runs_in_memory()


def test_the_gallery_index_is_warmed_while_the_metrics_compute(live: LiveServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """The index does not depend on results: it is built while the computation runs, once the
    run's rows have stayed as they are for the quiet period (an upload in progress changes
    them every few seconds)."""
    from domain.computations import METRICS
    from workers import kinds

    # The run's metric chunks wait at a gate, so the computation lasts until the test is done.
    real = kinds.handler_for(METRICS)
    assert real is not None
    gate = threading.Event()

    def held(services: Any, computation: Any, chunk: int) -> Any:
        if not gate.wait(timeout=60):
            raise RuntimeError("the test never opened the gate")
        return real(services, computation, chunk)

    read_models = live.runtime.read_models
    run_id = evaluated_run(live.writer, "busy", ONTOLOGY, data_row_lines(4, "busy"), prediction_lines(4, "busy"))
    now = [0.0]
    warming = RunWarming(read_models, quiet_seconds=5.0, clock=lambda: now[0])
    warming.warm()
    monkeypatch.setitem(kinds._HANDLERS, METRICS, held)
    try:
        answer = live.writer.upload(f"/upload/model-runs/{run_id}/predictions", prediction_lines(4, "busy", confidence=0.7))
        assert answer.status_code == 200, answer.text
        read_models.wait_until_current()
        assert read_models.metrics.status(UUID(run_id)).state == "COMPUTING"
        assert not read_models.gallery.is_current(UUID(run_id))  # the new predictions
        assert UUID(run_id) not in warming.warm()  # the rows just changed
        now[0] += 4.0
        assert UUID(run_id) not in warming.warm()
        assert not read_models.gallery.is_current(UUID(run_id))
        # Another upload changes the rows again: the quiet period starts over.
        answer = live.writer.upload(f"/upload/model-runs/{run_id}/predictions", prediction_lines(4, "busy", confidence=0.6))
        assert answer.status_code == 200, answer.text
        read_models.wait_until_current()
        now[0] += 4.0
        assert UUID(run_id) not in warming.warm()
        now[0] += 4.0
        assert UUID(run_id) not in warming.warm()
        now[0] += 1.0
        assert UUID(run_id) in warming.warm()
        assert read_models.gallery.is_current(UUID(run_id))
        assert not read_models.metrics.is_current(UUID(run_id))  # left for when it is IN_SYNC
    finally:
        gate.set()
