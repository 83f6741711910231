"""compareModelRuns reads each run as of the version asked (versionA, versionB): the figures,
deltas and worse rows of that version, equal to the run's own metrics at it, never the latest."""

from __future__ import annotations

from typing import Any

from tests.server.live import LiveServer
from tests.server.operations import box, build_scenario, payload, wait_in_sync

ROWS = 4
VERSION = "query($id: ID!) { modelRun(id: $id) { version } }"
METRICS = """query($id: ID!, $version: Int) { modelRun(id: $id, version: $version) {
  metrics(confidence: 0.5, iou: 0.5) { dataRows features { feature tp fp fn precision recall f1 iou } all { tp fp fn } } } }"""
COMPARE = """query($a: ID!, $b: ID!, $va: Int, $vb: Int) {
  compareModelRuns(runA: $a, runB: $b, confidence: 0.5, iou: 0.5, metric: "f1", versionA: $va, versionB: $vb) {
    commonDataRows
    a { features { feature tp fp fn precision recall f1 iou } all { tp fp fn } }
    b { features { feature tp fp fn precision recall f1 iou } all { tp fp fn } }
    deltas { feature metric a b delta }
    worseDataRows { totalCount }
  } }"""
CREATE_RUN = """mutation($input: CreateModelRunInput!) { createModelRun(input: $input) {
  ... on CreateModelRunPayload { modelRun { id } } } }"""


def _predict(live: LiveServer, run_id: str, offset: float) -> int:
    """Cars at `offset` from their labels (0: every car found); the run's version after it, in sync."""
    lines = [{"dataRow": {"globalKey": f"vv-{i}"}, "name": "car", "bbox": box(i + offset, i), "confidence": 0.8} for i in range(ROWS)]
    answer = live.writer.upload(f"/upload/model-runs/{run_id}/predictions", lines)
    assert answer.status_code == 200, answer.text
    wait_in_sync(live.writer, run_id)
    return int(live.reader.data(VERSION, id=run_id)["modelRun"]["version"])


def _metrics(live: LiveServer, run_id: str, version: int | None) -> dict[str, Any]:
    m = live.reader.data(METRICS, id=run_id, version=version)["modelRun"]["metrics"]
    return {"features": m["features"], "all": m["all"]}


def _compare(live: LiveServer, a: str, b: str, va: int | None = None, vb: int | None = None) -> dict[str, Any]:
    return live.reader.data(COMPARE, a=a, b=b, va=va, vb=vb)["compareModelRuns"]  # type: ignore[no-any-return]


def test_each_run_is_compared_as_of_its_version(live: LiveServer) -> None:
    s = build_scenario(live.writer, rows=ROWS, prefix="vv")
    created = live.writer.data(CREATE_RUN, input={"modelId": s.model_id, "name": "b", "datasetId": s.dataset_id})
    run_b = payload(created, "createModelRun")["modelRun"]["id"]
    good_a = _predict(live, s.run_id, 0)  # A finds every car
    good_b = _predict(live, run_b, 0)  # so does B
    _predict(live, s.run_id, 300)  # then A misses every car
    _predict(live, run_b, 300)  # and so does B

    latest = _compare(live, s.run_id, run_b)
    old_a = _compare(live, s.run_id, run_b, va=good_a)
    old_b = _compare(live, s.run_id, run_b, vb=good_b)
    assert latest["commonDataRows"] == old_a["commonDataRows"] == old_b["commonDataRows"] == ROWS

    # Each side's figures are that run's own metrics at the version compared.
    assert {k: latest["a"][k] for k in ("features", "all")} == _metrics(live, s.run_id, None)
    assert {k: old_a["a"][k] for k in ("features", "all")} == _metrics(live, s.run_id, good_a)
    assert {k: old_a["b"][k] for k in ("features", "all")} == _metrics(live, run_b, None)
    assert {k: old_b["b"][k] for k in ("features", "all")} == _metrics(live, run_b, good_b)
    assert old_a["a"]["all"]["tp"] == ROWS and latest["a"]["all"]["tp"] == 0
    assert old_b["b"]["all"]["tp"] == ROWS and latest["b"]["all"]["tp"] == 0

    # The deltas follow: at the latest versions both miss alike; A at its good version is
    # better than B on recall, B at its good version better than A.
    def car(answer: dict[str, Any], metric: str) -> float | None:
        return next(d["delta"] for d in answer["deltas"] if d["feature"] == "car" and d["metric"] == metric)

    assert car(latest, "recall") == 0
    assert car(old_a, "recall") == -1.0
    assert car(old_b, "recall") == 1.0
    assert old_a["worseDataRows"]["totalCount"] == ROWS and latest["worseDataRows"]["totalCount"] == 0


def test_a_version_the_run_does_not_have_is_refused_by_name(live: LiveServer) -> None:
    s = build_scenario(live.writer, rows=2, prefix="vn")
    created = live.writer.data(CREATE_RUN, input={"modelId": s.model_id, "name": "b", "datasetId": s.dataset_id})
    run_b = payload(created, "createModelRun")["modelRun"]["id"]
    for va, vb in ((None, 99), (0, None)):
        errors = live.reader.graphql(COMPARE, a=s.run_id, b=run_b, va=va, vb=vb)["errors"]
        assert f"has no version {99 if vb else 0}" in errors[0]["message"]
