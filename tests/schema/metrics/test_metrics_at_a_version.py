"""A run read at an older version answers its derived fields as they were at that version:
its metrics from the results of that version's inputs and settings, or a clear refusal,
never the latest figures."""

from __future__ import annotations

import time
from typing import Any

from tests.server.live import LiveServer
from tests.server.operations import box, build_scenario

WAIT_SECONDS = 120.0
STATUS = "query($id: ID!) { modelRun(id: $id) { version metricsStatus { state } } }"
FIGURES = """
query($id: ID!, $version: Int, $c: Float!, $t: Float!) {
  modelRun(id: $id, version: $version) {
    version
    metrics(confidence: $c, iou: $t) { dataRows pendingDataRows all { tp fp fn } }
    confusionMatrix(confidence: $c, iou: $t) { labels counts }
    precisionRecallCurve(iou: $t) { confidence precision recall }
    metricHistogram(metric: "f1", confidence: $c, iou: $t) { bins { dataRows } }
  }
}"""
SETTINGS = """
mutation($id: ID!) { setMetricSettings(input: {runId: $id, confidenceThresholds: [0.5, 0.9]}) {
  ... on SetMetricSettingsPayload { version } } }"""
GALLERY = """
query($id: ID!, $version: Int, $c: Float!) {
  modelRun(id: $id, version: $version) {
    autoSlices(confidence: $c, iou: 0.5) { name count }
    dataRows(filter: {all: [{metric: {name: "f1", min: 1}}]}, sort: [{field: CONFIDENCE_MAX}], confidence: $c, iou: 0.5) {
      totalCount nodes { id globalKey predictions }
    }
  }
}"""
DETAIL = """
query($id: ID!, $version: Int, $row: ID!) {
  modelRun(id: $id, version: $version) { dataRowDetail(id: $row, confidence: 0.5, iou: 0.5) { predictions { outcome } } }
}"""


def _gallery(live: LiveServer, run_id: str, version: int | None, c: float = 0.5) -> dict[str, Any]:
    run = live.reader.data(GALLERY, id=run_id, version=version, c=c)["modelRun"]
    return {"tp": next(s["count"] for s in run["autoSlices"] if s["name"] == "True positive"), "rows": run["dataRows"]}


def _in_sync(live: LiveServer, run_id: str) -> int:
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        run = live.reader.data(STATUS, id=run_id)["modelRun"]
        if run["metricsStatus"]["state"] == "IN_SYNC":
            return int(run["version"])
        assert time.monotonic() < deadline, run
        time.sleep(0.1)


def _figures(live: LiveServer, run_id: str, version: int | None, c: float = 0.5, t: float = 0.5) -> dict[str, Any]:
    return live.reader.data(FIGURES, id=run_id, version=version, c=c, t=t)["modelRun"]  # type: ignore[no-any-return]


def _predict(live: LiveServer, run_id: str, offset: float) -> None:
    lines = [{"dataRow": {"globalKey": f"va-{i}"}, "name": "car", "bbox": box(i + offset, i), "confidence": 0.8} for i in range(4)]
    assert live.writer.upload(f"/upload/model-runs/{run_id}/predictions", lines).status_code == 200


def test_each_version_reads_its_own_metrics(live: LiveServer) -> None:
    s = build_scenario(live.writer, rows=4, prefix="va")
    before = _in_sync(live, s.run_id)
    _predict(live, s.run_id, 0)  # every car found
    good = _in_sync(live, s.run_id)
    at_good = _figures(live, s.run_id, None)
    assert at_good["metrics"]["all"]["tp"] == 4
    _predict(live, s.run_id, 300)  # every car missed
    missed = _in_sync(live, s.run_id)
    assert _figures(live, s.run_id, None)["metrics"]["all"]["tp"] == 0

    # The version before any prediction has no evaluated row; the good one its own figures.
    empty = _figures(live, s.run_id, before)
    assert empty["version"] == before
    assert empty["metrics"]["dataRows"] == 0 and empty["metrics"]["all"]["tp"] == 0
    assert sum(b["dataRows"] for b in empty["metricHistogram"]["bins"]) == 0
    shown = _figures(live, s.run_id, good)
    assert shown == at_good | {"version": good}
    assert _figures(live, s.run_id, missed)["metrics"]["all"]["tp"] == 0

    # New thresholds: a threshold valid at an older version is still accepted there.
    assert live.writer.data(SETTINGS, id=s.run_id)["setMetricSettings"]["version"] == missed + 1
    _in_sync(live, s.run_id)
    older = _figures(live, s.run_id, good, c=0.3)
    assert older["metrics"]["all"]["tp"] == 4
    refused = live.reader.graphql(FIGURES, id=s.run_id, version=None, c=0.3, t=0.5)["errors"]
    assert "0.3 is not a confidence threshold" in refused[0]["message"]

    # The gallery answers as of the version too: slices, filters on metrics, sorts, details.
    assert _gallery(live, s.run_id, None, c=0.5)["tp"] == 0
    at_good = _gallery(live, s.run_id, good, c=0.3)
    assert at_good["tp"] == 4 and at_good["rows"]["totalCount"] == 4
    assert all(n["predictions"][0]["bbox"]["left"] < 300 for n in at_good["rows"]["nodes"])
    row = at_good["rows"]["nodes"][0]["id"]
    detail = live.reader.data(DETAIL, id=s.run_id, version=good, row=row)["modelRun"]["dataRowDetail"]
    assert [p["outcome"] for p in detail["predictions"]] == ["TP"]
    latest = live.reader.data(DETAIL, id=s.run_id, version=None, row=row)["modelRun"]["dataRowDetail"]
    assert [p["outcome"] for p in latest["predictions"]] == ["FP"]


CUSTOM = """
query($id: ID!, $version: Int) {
  modelRun(id: $id, version: $version) { metrics(confidence: 0.5, iou: 0.5) { custom { name value } } }
}"""


def test_custom_metrics_read_at_a_version_are_those_uploaded_up_to_it(live: LiveServer) -> None:
    s = build_scenario(live.writer, rows=4, prefix="vc")
    lines = [{"dataRow": {"globalKey": f"vc-{i}"}, "name": "car", "bbox": box(i, i), "confidence": 0.8} for i in range(4)]
    assert live.writer.upload(f"/upload/model-runs/{s.run_id}/predictions", lines).status_code == 200
    predicted = _in_sync(live, s.run_id)
    uploaded = []
    for value in (0.5, 0.9):
        custom = [{"dataRow": {"globalKey": f"vc-{i}"}, "metricName": "blur", "metricValue": value} for i in range(4)]
        assert live.writer.upload(f"/upload/model-runs/{s.run_id}/custom-metrics", custom).status_code == 200
        uploaded.append(_in_sync(live, s.run_id))

    def custom_at(version: int | None) -> list[dict[str, Any]]:
        return live.reader.data(CUSTOM, id=s.run_id, version=version)["modelRun"]["metrics"]["custom"]  # type: ignore[no-any-return]

    assert custom_at(predicted) == []
    assert custom_at(uploaded[0]) == [{"name": "blur", "value": 0.5}]
    assert custom_at(uploaded[1]) == custom_at(None) == [{"name": "blur", "value": 0.9}]


KEYED = """
query($id: ID!, $version: Int, $keys: [String!]!) {
  modelRun(id: $id, version: $version) {
    metrics(confidence: 0.5, iou: 0.5, filter: {all: [{dataRows: {globalKeys: $keys}}]}) { dataRows all { tp } }
    metricDataRows: confusionCellDataRows(confidence: 0.5, iou: 0.5, groundTruth: "car", prediction: "car") {
      nodes { globalKey }
    }
  }
}"""
REMOVE = """
mutation($id: ID!, $rows: [String!]!) { removeModelRunRows(input: {runId: $id, dataRows: $rows}) {
  ... on RemoveModelRunRowsPayload { version } } }"""


def test_global_keys_resolve_against_the_rows_of_the_version_read(live: LiveServer) -> None:
    s = build_scenario(live.writer, rows=4, prefix="vk")
    lines = [{"dataRow": {"globalKey": f"vk-{i}"}, "name": "car", "bbox": box(i, i), "confidence": 0.8} for i in range(4)]
    assert live.writer.upload(f"/upload/model-runs/{s.run_id}/predictions", lines).status_code == 200
    predicted = _in_sync(live, s.run_id)
    assert live.writer.data(REMOVE, id=s.run_id, rows=["vk-0"])["removeModelRunRows"]["version"] == predicted + 1
    _in_sync(live, s.run_id)
    # At the version before the removal the row is in the run: its key selects it, and the
    # rows listed name it.
    then = live.reader.data(KEYED, id=s.run_id, version=predicted, keys=["vk-0", "vk-1"])["modelRun"]
    assert then["metrics"]["dataRows"] == 2 and then["metrics"]["all"]["tp"] == 2
    assert sorted(n["globalKey"] for n in then["metricDataRows"]["nodes"]) == [f"vk-{i}" for i in range(4)]
    now = live.reader.data(KEYED, id=s.run_id, version=None, keys=["vk-0", "vk-1"])["modelRun"]
    assert now["metrics"]["dataRows"] == 1 and now["metrics"]["all"]["tp"] == 1
    assert sorted(n["globalKey"] for n in now["metricDataRows"]["nodes"]) == [f"vk-{i}" for i in range(1, 4)]
