"""The metrics view over GraphQL on a live server with its in-process workers: status,
figures at a grid point, confusion matrix, curve, distributions, histograms, comparison,
retry, and the metricsStatus subscription over a real websocket."""

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

STATUS = "query($id: ID!) { modelRun(id: $id) { metricsStatus { state pendingDataRows progress error changedAt } } }"
METRICS = """
query($id: ID!, $c: Float!, $t: Float!, $filter: DataRowFilter) {
  modelRun(id: $id) {
    metrics(confidence: $c, iou: $t, filter: $filter) {
      dataRows pendingDataRows
      features { feature tp fp fn tn precision recall f1 iou annotations predictions }
      all { feature tp fp fn tn precision recall f1 iou }
      macro { precision recall f1 iou }
      custom { name feature aggregation value dataRows }
    }
  }
}"""
CONFUSION = """
query($id: ID!, $c: Float!, $t: Float!) {
  modelRun(id: $id) {
    confusionMatrix(confidence: $c, iou: $t) { labels counts cells { groundTruth prediction count dataRows filter } }
    precisionRecallCurve(iou: $t) { confidence precision recall }
    annotationDistribution(first: 1) { totalCount pageInfo { hasNextPage endCursor } nodes { feature objects dataRows filter } }
    metricHistogram(metric: "precision", confidence: $c, iou: $t, feature: "car") { nulls outside bins { min max dataRows filter sort } }
  }
}"""
CELL_ROWS = """
query($id: ID!, $filter: DataRowFilter) {
  modelRun(id: $id) { confusionCellDataRows(confidence: 0.5, iou: 0.5, groundTruth: "car", prediction: null, filter: $filter) {
    totalCount nodes { id globalKey } } }
}"""


def _predict(live: LiveServer, run_id: str, lines: list[dict[str, Any]]) -> None:
    answer = live.writer.upload(f"/upload/model-runs/{run_id}/predictions", lines)
    assert answer.status_code == 200, answer.text


def _wait(live: LiveServer, run_id: str, state: str) -> dict[str, Any]:
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        status = live.reader.data(STATUS, id=run_id)["modelRun"]["metricsStatus"]
        if status["state"] == state:
            return status
        assert status["state"] != "FAILED" or state == "FAILED", status
        assert time.monotonic() < deadline, f"gave up waiting for {state}: {status}"
        time.sleep(0.1)


@pytest.fixture(scope="module")
def scenario(live: LiveServer) -> Scenario:
    s = build_scenario(live.writer, rows=6, prefix="mx")
    # Rows 0-2: a car on its label; rows 3-5: far off.
    lines = [
        {"dataRow": {"globalKey": f"mx-{i}"}, "name": "car", "bbox": box(i if i < 3 else i + 300, i), "confidence": 0.8}
        for i in range(6)
    ]
    _predict(live, s.run_id, lines)
    _wait(live, s.run_id, "IN_SYNC")
    return s


def test_metrics_at_a_grid_point(live: LiveServer, scenario: Scenario) -> None:
    run = live.reader.data(METRICS, id=scenario.run_id, c=0.5, t=0.5)["modelRun"]["metrics"]
    car = next(f for f in run["features"] if f["feature"] == "car")
    assert (car["tp"], car["fp"], car["fn"], car["precision"]) == (3, 3, 3, 0.5)
    assert run["all"]["feature"] is None and run["all"]["tp"] == 3 and run["dataRows"] == 6
    person = next(f for f in run["features"] if f["feature"] == "person")
    assert (person["tn"], person["precision"]) == (6, None)
    assert run["macro"]["precision"] == 0.5


def test_a_value_off_the_grid_is_named(live: LiveServer, scenario: Scenario) -> None:
    answer = live.reader.graphql(METRICS, id=scenario.run_id, c=0.55, t=0.5)
    assert "confidence 0.55" in answer["errors"][0]["message"]


def test_confusion_curve_distribution_histogram(live: LiveServer, scenario: Scenario) -> None:
    run = live.reader.data(CONFUSION, id=scenario.run_id, c=0.5, t=0.5)["modelRun"]
    matrix = run["confusionMatrix"]
    assert matrix["labels"][-1] is None and "car" in matrix["labels"]
    car = matrix["labels"].index("car")
    assert matrix["counts"][car][car] == 3 and matrix["counts"][car][-1] == 3
    cell = next(c for c in matrix["cells"] if c["groundTruth"] == "car" and c["prediction"] is None)
    assert cell["dataRows"] == 3
    rows = live.reader.data(CELL_ROWS, id=scenario.run_id)["modelRun"]["confusionCellDataRows"]
    assert sorted(r["globalKey"] for r in rows["nodes"]) == ["mx-3", "mx-4", "mx-5"]
    # The cell's filter selects the same rows wherever a DataRowFilter is taken.
    same = live.reader.data(METRICS, id=scenario.run_id, c=0.5, t=0.5, filter=cell["filter"])
    assert same["modelRun"]["metrics"]["dataRows"] == 3
    assert [p["confidence"] for p in run["precisionRecallCurve"]][:3] == [0.0, 0.1, 0.2]
    distribution = run["annotationDistribution"]
    assert distribution["totalCount"] == 1 and distribution["nodes"][0]["feature"] == "car"
    bins = run["metricHistogram"]["bins"]
    assert (bins[0]["dataRows"], bins[-1]["dataRows"]) == (3, 3)


def test_filter_by_split_and_rows(live: LiveServer, scenario: Scenario) -> None:
    chosen = {"all": [{"dataRows": {"globalKeys": ["mx-0", "mx-4"]}}]}
    run = live.reader.data(METRICS, id=scenario.run_id, c=0.5, t=0.5, filter=chosen)["modelRun"]["metrics"]
    assert run["dataRows"] == 2 and run["all"]["tp"] == 1
    metric = {"all": [{"metric": {"name": "f1", "min": 0.9}}]}
    assert live.reader.data(METRICS, id=scenario.run_id, c=0.5, t=0.5, filter=metric)["modelRun"]["metrics"]["dataRows"] == 3


def test_the_subscription_pushes_every_status_change(live: LiveServer, monkeypatch: pytest.MonkeyPatch) -> None:
    from domain.computations import METRICS as METRICS_KIND
    from workers import kinds

    # The run's metric chunks wait at a gate, so COMPUTING lasts until the test has seen it.
    real = kinds.handler_for(METRICS_KIND)
    assert real is not None
    gate = threading.Event()

    def held(services: Any, computation: Any, chunk: int) -> Any:
        if not gate.wait(timeout=WAIT_SECONDS):
            raise RuntimeError("the test never opened the gate")
        return real(services, computation, chunk)

    monkeypatch.setitem(kinds._HANDLERS, METRICS_KIND, held)
    s = build_scenario(live.writer, rows=3, prefix="sub")
    query = "subscription($id: ID!) { metricsStatus(runId: $id) { state pendingDataRows error changedAt } }"
    try:
        with connect(live.ws_url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
            ws.send(json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {live.read_key}"}}))
            assert json.loads(ws.recv(timeout=10))["type"] == "connection_ack"
            ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query, "variables": {"id": s.run_id}}}))
            first = _next_status(ws)
            assert first["state"] == "IN_SYNC"
            _predict(live, s.run_id, [{"dataRow": {"globalKey": f"sub-{i}"}, "name": "car", "bbox": box(i, i)} for i in range(3)])
            computing = _next_status(ws)
            assert computing == {"state": "COMPUTING", "pendingDataRows": 3, "error": None, "changedAt": computing["changedAt"]}
            assert computing["changedAt"] > first["changedAt"]
            # What was pushed is what the API reads while the chunks are held.
            read = live.reader.data(STATUS, id=s.run_id)["modelRun"]["metricsStatus"]
            assert (read["state"], read["pendingDataRows"], read["changedAt"]) == ("COMPUTING", 3, computing["changedAt"])
            gate.set()
            states = [_next_status(ws)]
            while states[-1]["state"] != "IN_SYNC":
                states.append(_next_status(ws))
            assert all(x["state"] == "COMPUTING" for x in states[:-1])
            assert states[-1]["changedAt"] > computing["changedAt"] and states[-1]["pendingDataRows"] == 0
    finally:
        gate.set()


def test_a_computation_finished_between_two_reads_shows_as_a_later_changed_at(live: LiveServer) -> None:
    s = build_scenario(live.writer, rows=2, prefix="fast")
    before = live.reader.data(STATUS, id=s.run_id)["modelRun"]["metricsStatus"]
    assert before["state"] == "IN_SYNC"
    _predict(live, s.run_id, [{"dataRow": {"globalKey": "fast-0"}, "name": "car", "bbox": box()}])
    # However soon it is read again, the computation shows: as COMPUTING, or at a later position.
    deadline = time.monotonic() + WAIT_SECONDS
    after = live.reader.data(STATUS, id=s.run_id)["modelRun"]["metricsStatus"]
    while after["state"] != "IN_SYNC" or after["changedAt"] == before["changedAt"]:
        assert after["state"] != "FAILED" and time.monotonic() < deadline, after
        time.sleep(0.05)
        after = live.reader.data(STATUS, id=s.run_id)["modelRun"]["metricsStatus"]
    assert after["changedAt"] > before["changedAt"]
    # and the results read then are the new ones: the one predicted row is evaluated.
    assert live.reader.data(METRICS, id=s.run_id, c=0.5, t=0.5, filter=None)["modelRun"]["metrics"]["dataRows"] == 1


def _next_status(ws: Any) -> dict[str, Any]:
    while True:
        message = json.loads(ws.recv(timeout=WAIT_SECONDS))
        if message["type"] == "next":
            return message["payload"]["data"]["metricsStatus"]  # type: ignore[no-any-return]
        assert message["type"] == "ping", message


def test_retry_metrics_without_a_failure_is_refused(live: LiveServer, scenario: Scenario) -> None:
    query = "mutation($id: ID!) { retryMetrics(runId: $id) { __typename ... on UserError { code message } } }"
    answer = live.writer.data(query, id=scenario.run_id)["retryMetrics"]
    assert answer["__typename"] == "ValidationError" and "no failed metric computation" in answer["message"]


def test_compare_two_runs(live: LiveServer, scenario: Scenario) -> None:
    created = live.writer.data(
        """mutation($input: CreateModelRunInput!) { createModelRun(input: $input) { ... on CreateModelRunPayload { modelRun { id } } } }""",
        input={"modelId": scenario.model_id, "name": "second", "datasetId": scenario.dataset_id},
    )
    second = created["createModelRun"]["modelRun"]["id"]
    # B misses the car of mx-1 and mx-2 (a box far off): worse there than A.
    lines = [{"dataRow": {"globalKey": f"mx-{i}"}, "name": "car", "bbox": box(i if i not in (1, 2) else 400, i), "confidence": 0.8} for i in range(4)]
    _predict(live, second, lines)
    _wait(live, second, "IN_SYNC")
    query = """query($a: ID!, $b: ID!) { compareModelRuns(runA: $a, runB: $b, confidence: 0.5, iou: 0.5, metric: "f1", feature: "car") {
      commonDataRows a { dataRows all { tp } } b { dataRows all { tp } }
      worseDataRows { totalCount nodes { dataRow { globalKey } a b by } } } }"""
    found = live.reader.data(query, a=scenario.run_id, b=second)["compareModelRuns"]
    assert found["commonDataRows"] == 4
    assert (found["a"]["all"]["tp"], found["b"]["all"]["tp"]) == (3, 2)
    # Equally worse rows come in row id order, which global keys do not follow.
    assert sorted(r["dataRow"]["globalKey"] for r in found["worseDataRows"]["nodes"]) == ["mx-1", "mx-2"]
    in_order = [r["dataRow"]["globalKey"] for r in found["worseDataRows"]["nodes"]]
    assert [(r["a"], r["b"], r["by"]) for r in found["worseDataRows"]["nodes"]] == [(1.0, 0.0, 1.0)] * 2

    # worseDataRows pages itself, a row at a time here.
    paged = """query($a: ID!, $b: ID!, $after: String) { compareModelRuns(runA: $a, runB: $b, confidence: 0.5, iou: 0.5) {
      worseDataRows(first: 1, after: $after) { totalCount pageInfo { hasNextPage endCursor } nodes { dataRow { globalKey } } } } }"""
    first = live.reader.data(paged, a=scenario.run_id, b=second, after=None)["compareModelRuns"]["worseDataRows"]
    assert (first["totalCount"], first["pageInfo"]["hasNextPage"]) == (2, True)
    assert [r["dataRow"]["globalKey"] for r in first["nodes"]] == in_order[:1]
    cursor = first["pageInfo"]["endCursor"]
    rest = live.reader.data(paged, a=scenario.run_id, b=second, after=cursor)["compareModelRuns"]["worseDataRows"]
    assert [r["dataRow"]["globalKey"] for r in rest["nodes"]] == in_order[1:] and not rest["pageInfo"]["hasNextPage"]
    # compareModelRuns' own first and after (deprecated) are its defaults.
    parent = """query($a: ID!, $b: ID!, $after: String) { compareModelRuns(runA: $a, runB: $b, confidence: 0.5, iou: 0.5, first: 1, after: $after) {
      worseDataRows { nodes { dataRow { globalKey } } } } }"""
    again = live.reader.data(parent, a=scenario.run_id, b=second, after=cursor)["compareModelRuns"]["worseDataRows"]
    assert [r["dataRow"]["globalKey"] for r in again["nodes"]] == in_order[1:]


def test_a_failing_computation_is_pushed_as_failed_and_retry_metrics_resumes_it(
    live: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from domain.computations import METRICS as METRICS_KIND
    from workers import kinds

    def fail(services: Any, computation: Any, chunk: int) -> Any:
        raise RuntimeError("injected failure")

    monkeypatch.setitem(kinds._HANDLERS, METRICS_KIND, fail)
    s = build_scenario(live.writer, rows=2, prefix="fail")
    query = "subscription($id: ID!) { metricsStatus(runId: $id) { state pendingDataRows error } }"
    with connect(live.ws_url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        ws.send(json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {live.read_key}"}}))
        assert json.loads(ws.recv(timeout=10))["type"] == "connection_ack"
        ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query, "variables": {"id": s.run_id}}}))
        assert _next_status(ws)["state"] == "IN_SYNC"
        _predict(live, s.run_id, [{"dataRow": {"globalKey": "fail-0"}, "name": "car", "bbox": box()}])
        status = _next_status(ws)
        while status["state"] != "FAILED":
            status = _next_status(ws)
        assert "injected failure" in status["error"] and status["pendingDataRows"] == 1

        monkeypatch.undo()
        retry = "mutation($id: ID!) { retryMetrics(runId: $id) { __typename ... on RetryMetricsPayload { retried } } }"
        assert live.writer.data(retry, id=s.run_id)["retryMetrics"] == {"__typename": "RetryMetricsPayload", "retried": 1}
        while status["state"] != "IN_SYNC":
            status = _next_status(ws)
        assert status["error"] is None
