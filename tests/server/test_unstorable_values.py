"""Values no read model can store (NUL in text, lone surrogates, integers beyond 64 bits), and
more objects on one data row than a read model replaces in one short transaction, are
refused where they come in, by name, and leave the server whole: nothing recorded, every
read model current, /ready 200, the next write accepted.

Before, such a write was recorded and then stopped the read model that met it, for good
(after a restart too): every later upload answered 500 and /ready 503.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

import application.dataset_commands
import application.model_run_commands
from tests.server.live import LiveServer
from tests.server.operations import (
    CREATE_DATASET,
    CREATE_MODEL,
    UPDATE_CONFIG,
    Scenario,
    box,
    build_scenario,
    data_row_lines,
    payload,
    wait_in_sync,
)

NUL = "a\u0000b"


@pytest.fixture(scope="module")
def scenario(live: LiveServer) -> Scenario:
    """A run whose background work is done, so the log grows only by what the tests send."""
    made = build_scenario(live.writer, rows=2, prefix="st")
    wait_in_sync(live.writer, made.run_id)
    return made


def assert_whole(live: LiveServer, recorded_before: int) -> None:
    """Nothing was recorded, every read model holds every event, and writes still work."""
    assert live.runtime.app.recorder.max_notification_id() == recorded_before
    live.runtime.read_models.wait_until_current(timeout=30)
    assert httpx.get(f"{live.url}/ready", timeout=10).status_code == 200
    created = live.writer.data(CREATE_DATASET, name="after a refusal")
    assert payload(created, "createDataset")["dataset"]["name"] == "after a refusal"
    live.runtime.read_models.wait_until_current(timeout=30)
    assert httpx.get(f"{live.url}/ready", timeout=10).status_code == 200


def sent_escaped(live: LiveServer, query: str, **variables: Any) -> dict[str, Any]:
    """The answer to a request whose JSON body spells every non-ASCII character as an
    escape, as a client may send a lone surrogate (which UTF-8 cannot carry)."""
    body = json.dumps({"query": query, "variables": variables})
    response = live.writer.client.post("/graphql", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


def refused(answer: dict[str, Any], field: str) -> str:
    result = answer[field]
    assert result.get("code") == "VALIDATION", result
    message: str = result["message"]
    return message


@pytest.mark.parametrize(
    ("text", "words"),
    [(NUL, ["name", "U+0000"]), ("a\ud800b", ["name", "U+D800"])],
    ids=["NUL", "lone surrogate"],
)
def test_unstorable_text_in_a_name(live: LiveServer, text: str, words: list[str]) -> None:
    before = live.runtime.app.recorder.max_notification_id()
    message = refused(sent_escaped(live, CREATE_DATASET, name=text), "createDataset")
    assert all(word in message for word in words), message
    assert_whole(live, before)


def test_unstorable_text_in_an_ontology(live: LiveServer) -> None:
    before = live.runtime.app.recorder.max_notification_id()
    ontology = {"tools": [{"name": "car", "tool": "BBOX"}], "classifications": [
        {"name": "weather", "kind": "RADIO", "answers": ["sunny", NUL]}
    ]}
    message = refused(sent_escaped(live, CREATE_MODEL, name="m", ontology=ontology), "createModel")
    assert "answer 2 of classification 'weather'" in message and "control character" in message, message
    assert_whole(live, before)


@pytest.mark.parametrize(
    ("config", "words"),
    [
        ({"x": -9223372036854775809}, ["config.x", "-9223372036854775809", "64-bit"]),
        ({"x": 2**64}, ["config.x", str(2**64), "64-bit"]),
        ({"x": NUL}, ["config.x", "U+0000"]),
        ({NUL: 1}, ["U+0000"]),
    ],
    ids=["below int64", "above uint64", "NUL value", "NUL key"],
)
def test_unstorable_config(live: LiveServer, scenario: Scenario, config: dict[str, Any], words: list[str]) -> None:
    before = live.runtime.app.recorder.max_notification_id()
    answer = sent_escaped(live, UPDATE_CONFIG, runId=scenario.run_id, config=config)
    message = refused(answer, "updateModelRunConfig")
    assert all(word in message for word in words), message
    assert_whole(live, before)


def test_the_largest_64_bit_integers_are_kept(live: LiveServer, scenario: Scenario) -> None:
    config = {"low": -(2**63), "high": 2**63 - 1}
    answer = live.writer.data(UPDATE_CONFIG, runId=scenario.run_id, config=config)
    assert payload(answer, "updateModelRunConfig")["modelRun"]["config"] == config
    live.runtime.read_models.wait_until_current(timeout=30)


ROW_METADATA = """query($id: ID!) { dataset(id: $id) { dataRows(first: 100) { nodes { globalKey metadata } } } }"""


def test_metadata_shaped_like_the_logs_own_tags_is_kept(live: LiveServer, scenario: Scenario) -> None:
    """Metadata with exactly the keys "_type_" and "_data_" is how the event log tags a
    value it transcodes (a UUID, bytes). Before, such a row was recorded and then read back
    as a tag: an unknown name stopped the catalog read model for good."""
    metadata = {"_type_": "nope", "_data_": "front"}
    response = live.writer.upload(f"/upload/datasets/{scenario.dataset_id}/data-rows", [row_with(globalKey="tagged", metadata=metadata)])
    assert response.status_code == 200, response.text
    live.runtime.read_models.wait_until_current(timeout=30)
    assert httpx.get(f"{live.url}/ready", timeout=10).status_code == 200
    rows = live.writer.data(ROW_METADATA, id=scenario.dataset_id)["dataset"]["dataRows"]["nodes"]
    assert {row["globalKey"]: row["metadata"] for row in rows}["tagged"] == metadata


def row_with(**changes: Any) -> dict[str, Any]:
    return {**data_row_lines(1, "fresh")[0], **changes}


@pytest.mark.parametrize(
    ("line", "words"),
    [
        (row_with(globalKey=NUL), ["globalKey", "U+0000"]),
        (row_with(metadata={"camera": NUL}), ["metadata.camera", "U+0000"]),
        (row_with(metadata={NUL: "front"}), ["U+0000"]),
        (row_with(metadata={"shots": 2**63}), ["metadata.shots", "64-bit"]),
        (row_with(rowData=f"https://assets.example/{NUL}.jpg"), ["rowData", "U+0000"]),
        (row_with(labels=[{"name": "car", "bbox": box(), "extra": NUL}]), ["labels[0].extra", "U+0000"]),
    ],
    ids=["global key", "metadata value", "metadata key", "metadata integer", "row data", "label"],
)
def test_unstorable_data_rows(live: LiveServer, scenario: Scenario, line: dict[str, Any], words: list[str]) -> None:
    before = live.runtime.app.recorder.max_notification_id()
    good = data_row_lines(2, "good")
    response = live.writer.upload(f"/upload/datasets/{scenario.dataset_id}/data-rows", [*good, line])
    assert response.status_code == 422, response.text
    [error] = response.json()["errors"]
    assert error["line"] == 3
    assert all(word in error["message"] for word in words), error
    assert_whole(live, before)


def test_unstorable_prediction(live: LiveServer, scenario: Scenario) -> None:
    before = live.runtime.app.recorder.max_notification_id()
    line = {"dataRow": {"globalKey": "st-0"}, "name": "car", "bbox": box(), "confidence": 0.5, "note": NUL}
    response = live.writer.upload(f"/upload/model-runs/{scenario.run_id}/predictions", [line])
    assert response.status_code == 422, response.text
    [error] = response.json()["errors"]
    assert error["line"] == 1 and "note" in error["message"] and "U+0000" in error["message"], error
    assert_whole(live, before)


@pytest.fixture
def bound(monkeypatch: pytest.MonkeyPatch) -> int:
    """The bound on one row's objects (domain.data_rows.MAX_OBJECTS_PER_ROW, 50,000), made
    1,000 here so the uploads at and past it stay small."""
    for module in (application.dataset_commands, application.model_run_commands):
        monkeypatch.setattr(module, "MAX_OBJECTS_PER_ROW", 1_000)
    return 1_000


def test_too_many_predictions_on_one_row(live: LiveServer, scenario: Scenario, bound: int) -> None:
    before = live.runtime.app.recorder.max_notification_id()
    many = [{"dataRow": {"globalKey": "st-1"}, "name": "car", "bbox": box(), "confidence": 0.5}]
    lines = [many[0] | {"dataRow": {"globalKey": "st-0"}}] + many * bound
    other = {"dataRow": {"globalKey": "st-1"}, "name": "weather", "answer": {"name": "sunny"}}
    response = live.writer.upload(f"/upload/model-runs/{scenario.run_id}/predictions", [*lines, other])
    assert response.status_code == 422, response.text[:500]
    [error] = response.json()["errors"]
    assert error["line"] == 2, error
    assert f"data row 'st-1' is given {bound + 1} predictions" in error["message"], error
    assert_whole(live, before)
    # At the bound, accepted.
    response = live.writer.upload(f"/upload/model-runs/{scenario.run_id}/predictions", lines)
    assert response.status_code == 200, response.text[:500]
    wait_in_sync(live.writer, scenario.run_id)


def test_too_many_labels_on_one_row(live: LiveServer, scenario: Scenario, bound: int) -> None:
    before = live.runtime.app.recorder.max_notification_id()
    labels = [{"name": "car", "bbox": box()}] * (bound + 1)
    response = live.writer.upload(
        f"/upload/datasets/{scenario.dataset_id}/labels", [{"dataRow": {"globalKey": "st-0"}, "labels": labels}]
    )
    assert response.status_code == 422, response.text[:500]
    [error] = response.json()["errors"]
    assert error["line"] == 1 and f"'st-0' has {bound + 1} labels" in error["message"], error
    assert_whole(live, before)
