"""The gallery over GraphQL on a live server: dataRows with a filter, a sort and keyset
pages; the automatic slices; a filter's error naming its clause."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest
from websockets.sync.client import connect

from tests.server.live import LiveServer
from tests.server.operations import Scenario, box, build_scenario

WAIT_SECONDS = 120.0
STATUS = "query($id: ID!) { modelRun(id: $id) { metricsStatus { state } } }"
ROWS = """
query($id: ID!, $filter: DataRowFilter, $sort: [DataRowSort!], $after: String, $first: Int) {
  modelRun(id: $id) {
    dataRows(filter: $filter, sort: $sort, confidence: 0.5, iou: 0.5, first: $first, after: $after) {
      totalCount pageInfo { hasNextPage endCursor }
      nodes { globalKey rowData mediaType metadata split labels predictions }
    }
  }
}"""
AUTO = "query($id: ID!) { modelRun(id: $id) { autoSlices(confidence: 0.5, iou: 0.5) { id name count } } }"


@pytest.fixture(scope="module")
def scenario(live: LiveServer) -> Scenario:
    return _prepared(live, "gx")


def _prepared(live: LiveServer, prefix: str) -> Scenario:
    s = build_scenario(live.writer, rows=6, prefix=prefix)
    # Rows 0-2: a car on its label; rows 3-5: far off. Confidence 0.5 + i/10.
    lines = [
        {"dataRow": {"globalKey": f"{prefix}-{i}"}, "name": "car", "bbox": box(i if i < 3 else i + 300, i), "confidence": 0.5 + i / 10}
        for i in range(6)
    ]
    answer = live.writer.upload(f"/upload/model-runs/{s.run_id}/predictions", lines)
    assert answer.status_code == 200, answer.text
    deadline = time.monotonic() + WAIT_SECONDS
    while live.reader.data(STATUS, id=s.run_id)["modelRun"]["metricsStatus"]["state"] != "IN_SYNC":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    return s


def _rows(live: LiveServer, run_id: str, **variables: Any) -> dict[str, Any]:
    return live.reader.data(ROWS, id=run_id, **variables)["modelRun"]["dataRows"]  # type: ignore[no-any-return]


def test_a_filter_and_a_sort_page_by_keyset(live: LiveServer, scenario: Scenario) -> None:
    wrong = {"all": [{"metric": {"name": "precision", "feature": "car", "max": 0.5}}, {"metadata": {"key": "camera", "in": ["front", "rear"]}}]}
    sort = [{"field": "CONFIDENCE_MAX", "descending": True}]
    first = _rows(live, scenario.run_id, filter=wrong, sort=sort, first=2)
    assert first["totalCount"] == 3 and first["pageInfo"]["hasNextPage"]
    rest = _rows(live, scenario.run_id, filter=wrong, sort=sort, first=2, after=first["pageInfo"]["endCursor"])
    keys = [n["globalKey"] for n in first["nodes"] + rest["nodes"]]
    assert keys == ["gx-5", "gx-4", "gx-3"] and not rest["pageInfo"]["hasNextPage"]
    node = first["nodes"][0]
    assert node["rowData"] == "https://assets.example/gx-5.jpg" and node["mediaType"] == "IMAGE"
    assert node["metadata"] == {"camera": "front"} and node["predictions"][0]["confidence"] == 1.0
    assert node["labels"][0]["name"] == "car"


def test_metadata_and_split_clauses(live: LiveServer, scenario: Scenario) -> None:
    front = _rows(live, scenario.run_id, filter={"all": [{"metadata": {"key": "camera", "equals": "front"}}]})
    assert sorted(n["globalKey"] for n in front["nodes"]) == ["gx-1", "gx-3", "gx-5"]
    by_key = _rows(live, scenario.run_id, sort=[{"field": "METADATA", "key": "camera"}, {"field": "GLOBAL_KEY", "descending": True}])
    assert [n["globalKey"] for n in by_key["nodes"]] == ["gx-5", "gx-3", "gx-1", "gx-4", "gx-2", "gx-0"]


def test_automatic_slices_are_counted(live: LiveServer, scenario: Scenario) -> None:
    counts = {s["name"]: s["count"] for s in live.reader.data(AUTO, id=scenario.run_id)["modelRun"]["autoSlices"]}
    assert (counts["True positive"], counts["False positive"], counts["False negative"]) == (3, 3, 3)
    chosen = _rows(live, scenario.run_id, filter={"all": [{"autoSlice": "False positive"}]})
    assert sorted(n["globalKey"] for n in chosen["nodes"]) == ["gx-3", "gx-4", "gx-5"]


def test_a_bad_clause_is_named(live: LiveServer, scenario: Scenario) -> None:
    answer = live.reader.graphql(ROWS, id=scenario.run_id, filter={"all": [{"split": ["TEST"]}, {"annotation": {"features": ["dog"]}}]})
    assert "clause 2 (annotation): unknown feature 'dog'" in answer["errors"][0]["message"]
    answer = live.reader.graphql(ROWS, id=scenario.run_id, after="garbage")
    assert "invalid cursor" in answer["errors"][0]["message"]


def _next(ws: Any) -> dict[str, Any]:
    message = json.loads(ws.recv(timeout=WAIT_SECONDS))
    assert message["type"] == "next", message
    return message["payload"]["data"]["sliceMembership"]  # type: ignore[no-any-return]


def test_membership_changes_are_pushed(live: LiveServer) -> None:
    scenario = _prepared(live, "gs")
    query = """subscription($id: ID!) {
      sliceMembership(runId: $id, autoSlice: "False positive", confidence: 0.5, iou: 0.5) { name count runVersion } }"""
    with connect(live.ws_url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        ws.send(json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {live.read_key}"}}))
        assert json.loads(ws.recv(timeout=10))["type"] == "connection_ack"
        ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query, "variables": {"id": scenario.run_id}}}))
        first = _next(ws)
        assert (first["name"], first["count"]) == ("False positive", 3)
        # gs-0's prediction moves far off its label: one more false positive once recomputed.
        moved = [{"dataRow": {"globalKey": "gs-0"}, "name": "car", "bbox": box(400, 0), "confidence": 0.9}]
        answer = live.writer.upload(f"/upload/model-runs/{scenario.run_id}/predictions", moved)
        assert answer.status_code == 200, answer.text
        second = _next(ws)
        assert second["count"] == 4 and second["runVersion"] > first["runVersion"]


def test_a_saved_slice_s_stored_members_are_pushed(live: LiveServer) -> None:
    scenario = _prepared(live, "gm")
    created = live.writer.data(
        """mutation($id: ID!) { createSlice(input: {modelId: $id, name: "Front camera",
             filter: {all: [{metadata: {key: "camera", equals: "front"}}]}}) {
             ... on CreateSlicePayload { slice { id } } } }""",
        id=scenario.model_id,
    )
    slice_id = created["createSlice"]["slice"]["id"]
    query = """subscription($run: ID!, $slice: ID!) {
      sliceMembership(runId: $run, sliceId: $slice) { name count runVersion } }"""
    with connect(live.ws_url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        ws.send(json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {live.read_key}"}}))
        assert json.loads(ws.recv(timeout=10))["type"] == "connection_ack"
        variables = {"run": scenario.run_id, "slice": slice_id}
        ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query, "variables": variables}}))
        first = _next(ws)
        assert (first["name"], first["count"]) == ("Front camera", 3)  # gm-1, gm-3, gm-5
        update = [{"dataRow": {"globalKey": "gm-0"}, "metadata": {"camera": "front"}}]
        answer = live.writer.upload(f"/upload/datasets/{scenario.dataset_id}/metadata", update)
        assert answer.status_code == 200, answer.text
        assert _next(ws)["count"] == 4


ROW_METRICS = """query($id: ID!, $c: Float, $t: Float) { modelRun(id: $id) {
  dataRows(confidence: $c, iou: $t, sort: [{field: GLOBAL_KEY}]) { nodes { globalKey metrics { tp fp fn tn precision recall f1 iou } } } } }"""


def test_each_row_carries_its_metrics_at_the_grid_point_asked(live: LiveServer, scenario: Scenario) -> None:
    nodes = live.reader.data(ROW_METRICS, id=scenario.run_id, c=0.5, t=0.5)["modelRun"]["dataRows"]["nodes"]
    by_key = {n["globalKey"]: n["metrics"] for n in nodes}
    # Rows 0-2: the car on its label (TP); rows 3-5: far off (a FP and a FN). The three other
    # features of the ontology are on no row: a TN each.
    assert by_key["gx-0"] == {"tp": 1, "fp": 0, "fn": 0, "tn": 3, "precision": 1.0, "recall": 1.0, "f1": 1.0, "iou": 1.0}
    assert by_key["gx-4"] == {"tp": 0, "fp": 1, "fn": 1, "tn": 3, "precision": 0.0, "recall": 0.0, "f1": 0.0, "iou": 0.0}
    # At confidence 0.8 the predictions of rows 0-2 (0.5, 0.6, 0.7) are not counted: a miss each.
    higher = live.reader.data(ROW_METRICS, id=scenario.run_id, c=0.8, t=0.5)["modelRun"]["dataRows"]["nodes"]
    assert {n["globalKey"]: (n["metrics"]["tp"], n["metrics"]["fn"]) for n in higher}["gx-1"] == (0, 1)
    # Without a grid point there are no figures to give.
    plain = live.reader.data(ROW_METRICS, id=scenario.run_id, c=None, t=None)["modelRun"]["dataRows"]["nodes"]
    assert all(n["metrics"] is None for n in plain)


def test_a_saved_slice_on_metrics_waits_out_a_computation(live: LiveServer, monkeypatch: pytest.MonkeyPatch) -> None:
    from domain.computations import METRICS
    from workers import kinds

    scenario = _prepared(live, "gw")
    created = live.writer.data(
        """mutation($id: ID!) { createSlice(input: {modelId: $id, name: "Has a false positive",
             filter: {all: [{metric: {name: "fp", min: 1}}]}}) { ... on CreateSlicePayload { slice { id } } } }""",
        id=scenario.model_id,
    )
    slice_id = created["createSlice"]["slice"]["id"]
    real = kinds.handler_for(METRICS)
    assert real is not None
    gate = threading.Event()

    def held(services: Any, computation: Any, chunk: int) -> Any:
        if not gate.wait(timeout=WAIT_SECONDS):
            raise RuntimeError("the test never opened the gate")
        return real(services, computation, chunk)

    monkeypatch.setitem(kinds._HANDLERS, METRICS, held)
    query = """subscription($run: ID!, $slice: ID!) {
      sliceMembership(runId: $run, sliceId: $slice, confidence: 0.5, iou: 0.5) { name count runVersion } }"""
    try:
        with connect(live.ws_url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
            ws.send(json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {live.read_key}"}}))
            assert json.loads(ws.recv(timeout=10))["type"] == "connection_ack"
            variables = {"run": scenario.run_id, "slice": slice_id}
            ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query, "variables": variables}}))
            first = _next(ws)
            assert first["count"] == 3  # gw-3, gw-4, gw-5
            moved = [{"dataRow": {"globalKey": "gw-0"}, "name": "car", "bbox": box(400, 0), "confidence": 0.9}]
            answer = live.writer.upload(f"/upload/model-runs/{scenario.run_id}/predictions", moved)
            assert answer.status_code == 200, answer.text
            # While the chunks are held nothing is sent (neither an error nor a stale count).
            with pytest.raises(TimeoutError):
                ws.recv(timeout=1.0)
            gate.set()
            second = _next(ws)
            assert second["count"] == 4 and second["runVersion"] > first["runVersion"]
    finally:
        gate.set()
