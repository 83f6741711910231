"""The server warms a run once its metrics are in sync (projections/warming.py): its gallery
index and metric results are in memory before anyone reads the run."""

from __future__ import annotations

import time
from uuid import UUID

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


def test_what_was_built_while_the_log_moved_is_dropped(live: LiveServer) -> None:
    """A warm-up that overlaps a new event keeps nothing it built: its stamp and its rows may
    come from read models at different points of the log."""
    run_id = evaluated_run(live.writer, "moving", ONTOLOGY, data_row_lines(3, "moving"), prediction_lines(3, "moving"))
    warming = RunWarming(live.runtime.read_models)
    assert UUID(run_id) in warming.warm()  # a quiet log: kept
    build = warming._build

    def build_while_recording() -> list[UUID]:
        built = build()
        payload(live.writer.data(CREATE_DATASET, name="recorded meanwhile"), "createDataset")
        return built

    warming._build = build_while_recording  # type: ignore[method-assign]
    assert warming.warm() == []
