"""Every refusal comes back as its typed error, with the caller's own line numbers."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
from modelledger_client import (
    AuthenticationError,
    Client,
    ConflictError,
    Dataset,
    ForbiddenError,
    MetricsFailedError,
    MetricsTimeoutError,
    ModelRun,
    NotFoundError,
    ValidationError,
)

from tests.client import scene
from tests.server.live import LiveServer

MISSING = "00000000-0000-4000-8000-000000000000"


@pytest.fixture(scope="module")
def run(live: LiveServer) -> ModelRun:
    with Client(live.url, live.write_key) as client:
        dataset = client.create_dataset("errors")
        dataset.upsert_data_rows(scene.data_rows("e", 4), progress=False)
        model = client.create_model("errors", scene.ONTOLOGY)
        return model.create_model_run("r", dataset=dataset)


def test_a_bad_line_in_a_later_chunk_names_its_file_line(client: Client, tmp_path: Path) -> None:
    rows = scene.data_rows("late")
    rows[23]["labels"] = [{"name": "car", "bbox": scene.LABEL, "confidance": 0.5}]
    rows[27]["width"] = 0
    # A blank line after line 5 shifts every later row down one line of the file.
    path = scene.write_ndjson(tmp_path / "rows.ndjson", rows, blank_after=5)
    dataset = client.create_dataset("late errors")
    with pytest.raises(ValidationError) as refused:
        dataset.upsert_data_rows(path, progress=False)
    assert [e.line for e in refused.value.errors] == [25, 29]
    assert "confidance" in refused.value.errors[0].message
    assert "line 25" in str(refused.value)
    # Lines 1-21 (two chunks of ten rows, the blank line between) were recorded, no more.
    assert refused.value.accepted == 20
    assert dataset.refresh().row_count == 20


def test_lines_of_an_iterable_are_numbered_from_one(client: Client, run: ModelRun) -> None:
    lines: list[dict[str, Any]] = [
        {"dataRow": {"globalKey": scene.key("e", i % 4)}, "name": "car", "bbox": scene.LABEL} for i in range(12)
    ]
    lines.sort(key=lambda line: line["dataRow"]["globalKey"])
    lines[11] = {**lines[11], "name": "truck"}
    with pytest.raises(ValidationError) as refused:
        client.get_model_run(run.id).add_predictions(lines, progress=False)
    assert [e.line for e in refused.value.errors] == [12]
    assert "truck" in refused.value.errors[0].message


def test_a_rows_predictions_split_over_chunks_are_refused_before_sending(client: Client, run: ModelRun) -> None:
    lines = [{"dataRow": {"globalKey": scene.key("e", i % 2)}, "name": "car", "bbox": scene.LABEL} for i in range(4)]
    # Alternating rows cannot be cut into chunks without splitting a row's predictions.
    with pytest.raises(ValidationError) as refused:
        client.get_model_run(run.id).add_predictions(lines * 5, progress=False)
    assert [e.line for e in refused.value.errors] == [11]
    assert refused.value.accepted == 10


def test_a_read_only_key_is_forbidden(reader: Client, run: ModelRun) -> None:
    with pytest.raises(ForbiddenError) as upload:
        reader.get_model_run(run.id).add_predictions(scene.predictions("e")[:1], progress=False)
    assert upload.value.status == 403
    with pytest.raises(ForbiddenError):
        reader.create_dataset("not allowed")
    with pytest.raises(ForbiddenError):
        reader.get_model_run(run.id).update_config({"read only": True})
    assert "read only" not in reader.get_model_run(run.id).config


def test_unknown_objects_are_not_found(client: Client) -> None:
    with pytest.raises(NotFoundError):
        client.get_model_run(MISSING)
    with pytest.raises(NotFoundError):
        client.get_dataset("not-an-id")
    with pytest.raises(NotFoundError):
        client.get_model(MISSING)

def test_a_deleted_run_is_not_found(client: Client, run: ModelRun) -> None:
    dataset_id = next(client.datasets()).id
    doomed = client.get_model(run.model_id).create_model_run("doomed", dataset=dataset_id)
    deleted = client.graphql(
        "mutation($id: ID!) { deleteModelRun(input: {runId: $id}) { __typename } }", {"id": doomed.id}
    )
    assert deleted["deleteModelRun"]["__typename"] == "DeleteModelRunPayload"
    with pytest.raises(NotFoundError) as upload:
        doomed.add_predictions(scene.predictions("e")[:1], progress=False)
    assert upload.value.status == 404
    with pytest.raises(NotFoundError):
        doomed.update_config({"epochs": 1})


def test_no_key_is_an_authentication_error(live: LiveServer, run: ModelRun) -> None:
    with Client(live.url, api_key="") as anonymous:
        with pytest.raises(AuthenticationError) as query:
            anonymous.datasets().__next__()
        assert query.value.status == 401
        ghost = Dataset(anonymous._session, MISSING, "", 1, 0, "")
        with pytest.raises(AuthenticationError):
            ghost.upsert_data_rows(scene.data_rows("anon", 1), progress=False)
        with pytest.raises(AuthenticationError):
            ModelRun(anonymous._session, run.id, "", "", 1, 1, 0, "", "").wait_until_metrics_in_sync(5, progress=False)


def test_a_stale_expected_version_is_a_conflict(client: Client, run: ModelRun) -> None:
    current = client.get_model_run(run.id)
    current.update_config({"epochs": 1}, expected_version=current.version)
    with pytest.raises(ConflictError):
        current.update_config({"epochs": 2}, expected_version=current.version)
    assert current.config == {"epochs": 1}


def test_graphql_refusals_are_validation_errors(client: Client, run: ModelRun) -> None:
    with pytest.raises(ValidationError, match="confidence 0.55"):
        client.get_model_run(run.id).metrics(confidence=0.55, iou=0.5)
    with pytest.raises(ValidationError) as refused:
        client.get_model_run(run.id).update_config({"lr": {"nested": 1}})
    assert "'lr'" in refused.value.message
    with pytest.raises(ValidationError):
        client.graphql("query { noSuchField }")
    with pytest.raises(ValidationError):
        client.create_model("bad", {"classifications": [{"name": "weather", "kind": "RADIO", "answers": []}]})


def test_failed_metrics_raise(client: Client, run: ModelRun, monkeypatch: pytest.MonkeyPatch) -> None:
    from domain.computations import METRICS
    from workers import kinds

    def fail(*args: Any) -> Any:
        raise RuntimeError("injected failure")

    current = client.get_model_run(run.id)
    # The run's first computation (its rows, at creation) ends before the failures begin:
    # only the one the predictions start must fail.
    current.wait_until_metrics_in_sync(timeout=60, progress=False)
    monkeypatch.setitem(kinds._HANDLERS, METRICS, fail)
    current.add_predictions(scene.predictions("e")[:4], progress=False)
    with pytest.raises(MetricsFailedError, match="injected failure") as failed:
        current.wait_until_metrics_in_sync(timeout=60, progress=False)
    assert failed.value.pending_data_rows == 4
    monkeypatch.undo()
    assert current.retry_metrics() == 1
    assert current.wait_until_metrics_in_sync(timeout=60, progress=False).state == "IN_SYNC"


def test_a_wait_that_runs_out_raises(client: Client, run: ModelRun, monkeypatch: pytest.MonkeyPatch) -> None:
    from domain.computations import METRICS
    from workers import kinds

    compute = kinds._HANDLERS[METRICS]
    gate = threading.Event()

    def slow(*args: Any) -> Any:
        gate.wait(timeout=60)  # held until the client has given up waiting
        return compute(*args)

    monkeypatch.setitem(kinds._HANDLERS, METRICS, slow)
    try:
        current = client.get_model_run(run.id)
        current.add_predictions(scene.predictions("e")[:2], progress=False)
        started = time.monotonic()
        with pytest.raises(MetricsTimeoutError) as late:
            current.wait_until_metrics_in_sync(timeout=0.5, progress=False)
        assert time.monotonic() - started < 2.5
        assert late.value.pending_data_rows == 2
    finally:
        gate.set()
    assert current.wait_until_metrics_in_sync(timeout=60, progress=False).state == "IN_SYNC"
