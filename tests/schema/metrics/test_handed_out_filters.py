"""Every filter and sort the API hands out is accepted back verbatim by `dataRows` and selects
exactly the rows it was counted from: histogram bins, confusion cells, distributions and
slices, at grid points and base filters chosen by hypothesis over one random scene."""

from __future__ import annotations

import random
import time
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.server.live import LiveServer
from tests.server.operations import CREATE_DATASET, CREATE_MODEL, CREATE_RUN, payload

WAIT_SECONDS = 120.0
ROWS = 30
ONTOLOGY = {
    "tools": [{"name": "car", "tool": "BBOX"}, {"name": "person", "tool": "BBOX"}],
    "classifications": [{"name": "weather", "kind": "RADIO", "answers": ["sunny", "rainy"]}],
}
METRICS = ("precision", "recall", "f1", "iou")
STATUS = "query($id: ID!) { modelRun(id: $id) { metricsStatus { state } } }"
HANDED_OUT = """
query($id: ID!, $c: Float!, $t: Float!, $filter: DataRowFilter, $metric: String!, $feature: String) {
  modelRun(id: $id) {
    confusionMatrix(confidence: $c, iou: $t, filter: $filter) { cells { dataRows filter } }
    annotationDistribution(filter: $filter) { nodes { feature dataRows filter } }
    predictionDistribution(confidence: $c, filter: $filter) { nodes { feature dataRows filter } }
    metricHistogram(metric: $metric, feature: $feature, confidence: $c, iou: $t, filter: $filter) {
      bins { min max dataRows filter sort }
    }
    autoSlices(confidence: $c, iou: $t) { name count filter }
    slices(confidence: $c, iou: $t) { name count reason filter }
  }
}"""
ROWS_QUERY = """
query($id: ID!, $c: Float!, $t: Float!, $filter: DataRowFilter, $sort: [DataRowSort!]) {
  modelRun(id: $id) {
    dataRows(filter: $filter, sort: $sort, confidence: $c, iou: $t, first: 100) { totalCount nodes { globalKey } }
  }
}"""
ROW_METRIC = """
query($id: ID!, $c: Float!, $t: Float!, $keys: [String!]!) {
  modelRun(id: $id) {
    metrics(confidence: $c, iou: $t, filter: {all: [{dataRows: {globalKeys: $keys}}]}) {
      all { precision recall f1 iou }
    }
  }
}"""
CREATE_SLICE = """
mutation($modelId: ID!, $name: String!, $filter: DataRowFilter!) {
  createSlice(input: {modelId: $modelId, name: $name, filter: $filter}) { __typename }
}"""


def _box(rng: random.Random) -> dict[str, float]:
    return {"left": rng.uniform(0, 200), "top": rng.uniform(0, 200), "width": rng.uniform(5, 60), "height": rng.uniform(5, 60)}


def _jitter(box: dict[str, float], rng: random.Random) -> dict[str, float]:
    return {k: v + rng.uniform(-8, 8) if k in ("left", "top") else v * rng.uniform(0.7, 1.3) for k, v in box.items()}


@pytest.fixture(scope="module")
def run_id(live: LiveServer) -> str:
    rng = random.Random(11)
    api = live.writer
    dataset_id = payload(api.data(CREATE_DATASET, name="handed out"), "createDataset")["dataset"]["id"]
    rows, predictions = [], []
    for i in range(ROWS):
        key = f"ho-{i}"
        labels = [{"name": rng.choice(["car", "person"]), "bbox": _box(rng)} for _ in range(rng.randint(0, 3))]
        if rng.random() < 0.6:
            labels.append({"name": "weather", "answer": {"name": rng.choice(["sunny", "rainy"])}})
        rows.append({"globalKey": key, "rowData": f"https://assets.example/{key}.jpg", "width": 320, "height": 320,
                     "metadata": {"camera": rng.choice(["front", "rear"])}, "labels": labels})
        if i >= ROWS - 3:
            continue  # a few rows are never covered: they are in the gallery, not in any metric
        for label in labels:
            if "bbox" in label and rng.random() < 0.8:
                name = label["name"] if rng.random() < 0.8 else rng.choice(["car", "person"])
                predictions.append({"dataRow": {"globalKey": key}, "name": name, "bbox": _jitter(label["bbox"], rng),
                                    "confidence": round(rng.random(), 2)})
        if rng.random() < 0.4:
            predictions.append({"dataRow": {"globalKey": key}, "name": "car", "bbox": _box(rng), "confidence": round(rng.random(), 2)})
        if rng.random() < 0.5:
            predictions.append({"dataRow": {"globalKey": key}, "name": "weather",
                                "answer": {"name": rng.choice(["sunny", "rainy"])}, "confidence": round(rng.random(), 2)})
        if not any(p["dataRow"]["globalKey"] == key for p in predictions):
            predictions.append({"dataRow": {"globalKey": key}})
    assert api.upload(f"/upload/datasets/{dataset_id}/data-rows", rows).status_code == 200
    model_id = payload(api.data(CREATE_MODEL, name="handed out", ontology=ONTOLOGY), "createModel")["model"]["id"]
    run = payload(api.data(CREATE_RUN, input={"modelId": model_id, "name": "r", "datasetId": dataset_id,
                                              "splits": {"train": 0.6, "validate": 0.2, "test": 0.2, "seed": 3}}),
                  "createModelRun")["modelRun"]["id"]
    answer = api.upload(f"/upload/model-runs/{run}/predictions", predictions)
    assert answer.status_code == 200, answer.text
    for name, clause in (("front", {"metadata": {"key": "camera", "equals": "front"}}),
                         ("weak", {"metric": {"name": "f1", "max": 0.5}})):
        made = api.data(CREATE_SLICE, modelId=model_id, name=name, filter={"all": [clause]})
        assert made["createSlice"]["__typename"] == "CreateSlicePayload", made
    deadline = time.monotonic() + WAIT_SECONDS
    while live.reader.data(STATUS, id=run)["modelRun"]["metricsStatus"]["state"] != "IN_SYNC":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    return str(run)


def _rows(live: LiveServer, run_id: str, c: float, t: float, filter: Any, sort: Any = None) -> list[str]:  # noqa: A002
    answer = live.reader.data(ROWS_QUERY, id=run_id, c=c, t=t, filter=filter, sort=sort)["modelRun"]["dataRows"]
    keys = [n["globalKey"] for n in answer["nodes"]]
    assert answer["totalCount"] == len(keys)
    return keys


BASE_FILTERS: list[Any] = [
    None,
    {"all": [{"split": ["TRAINING"]}]},
    {"all": [{"metadata": {"key": "camera", "equals": "rear"}}]},
    {"all": [{"annotation": {"features": ["car"]}}]},
]
GRID = st.sampled_from([i / 10 for i in range(11)])


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(c=GRID, t=GRID, base=st.sampled_from(BASE_FILTERS), metric=st.sampled_from(METRICS),
       feature=st.sampled_from([None, "car", "person"]))
def test_every_handed_out_filter_selects_what_it_counts(
    live: LiveServer, run_id: str, c: float, t: float, base: Any, metric: str, feature: str | None
) -> None:
    run = live.reader.data(HANDED_OUT, id=run_id, c=c, t=t, filter=base, metric=metric, feature=feature)["modelRun"]
    counted: list[tuple[str, int, Any]] = []
    counted += [("confusion cell", cell["dataRows"], cell["filter"]) for cell in run["confusionMatrix"]["cells"]]
    for side in ("annotationDistribution", "predictionDistribution"):
        counted += [(f"{side} {n['feature']}", n["dataRows"], n["filter"]) for n in run[side]["nodes"]]
    if base is None:  # slices are counted over the whole run
        counted += [(f"auto slice {s['name']}", s["count"], s["filter"]) for s in run["autoSlices"]]
        counted += [(f"slice {s['name']}", s["count"], s["filter"]) for s in run["slices"]]
    for what, count, filter_json in counted:
        assert len(_rows(live, run_id, c, t, filter_json)) == count, (what, filter_json)

    bins = run["metricHistogram"]["bins"]
    in_bins: list[str] = []
    for b in bins:
        keys = _rows(live, run_id, c, t, b["filter"])
        assert len(keys) == b["dataRows"], (b["min"], b["max"], b["filter"])
        assert sorted(_rows(live, run_id, c, t, b["filter"], b["sort"])) == sorted(keys)
        in_bins += keys
    assert len(in_bins) == len(set(in_bins)), "a row counted in two bins"


def test_a_bins_sort_orders_its_rows_by_the_metric(live: LiveServer, run_id: str) -> None:
    c, t = 0.3, 0.4
    bins = live.reader.data(HANDED_OUT, id=run_id, c=c, t=t, filter=None, metric="f1", feature=None)["modelRun"][
        "metricHistogram"]["bins"]
    assert sum(b["dataRows"] for b in bins) > 5
    for b in bins:
        keys = _rows(live, run_id, c, t, b["filter"], b["sort"])
        values = [live.reader.data(ROW_METRIC, id=run_id, c=c, t=t, keys=[k])["modelRun"]["metrics"]["all"]["f1"]
                  for k in keys]
        assert all(b["min"] <= v <= b["max"] for v in values), (b, values)
        assert values == sorted(values), (b, values)


def test_a_slice_that_needs_a_grid_point_gets_a_null_count_and_a_reason(live: LiveServer, run_id: str) -> None:
    query = "query($id: ID!) { modelRun(id: $id) { id slices { name count reason } } }"
    run = live.reader.data(query, id=run_id)["modelRun"]
    assert run is not None and run["id"] == run_id
    by_name = {s["name"]: s for s in run["slices"]}
    assert by_name["front"]["count"] == len(_rows(live, run_id, 0.5, 0.5, {"all": [{"metadata": {"key": "camera", "equals": "front"}}]}))
    assert by_name["weak"]["count"] is None
    assert "confidence and iou" in by_name["weak"]["reason"]
