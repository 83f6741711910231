"""Distributions list the top-level features, each with its count of sub-features; the
nested answers of one feature are listed under it, and each bar's filter selects its rows."""

from __future__ import annotations

from typing import Any

from tests.server.live import LiveServer
from tests.server.operations import box, evaluated_run

ONTOLOGY = {
    "tools": [{"name": "car", "tool": "BBOX",
               "classifications": [{"name": "color", "kind": "RADIO", "answers": ["red", "blue"]}]}],
    "classifications": [],
}  # fmt: skip
BARS = """
query($id: ID!, $under: String) {
  modelRun(id: $id) {
    annotationDistribution(under: $under) { nodes { feature parent subFeatures objects dataRows filter } }
    predictionDistribution(under: $under, confidence: 0.5) { nodes { feature parent subFeatures objects dataRows filter } }
  }
}"""
ROWS = """
query($id: ID!, $filter: DataRowFilter) {
  modelRun(id: $id) { dataRows(filter: $filter, confidence: 0.5, iou: 0.5) { totalCount } }
}"""


def _car(key: str, color: str, confidence: float | None = None) -> dict[str, Any]:
    line: dict[str, Any] = {"name": "car", "bbox": box(), "classifications": [{"name": "color", "answer": {"name": color}}]}
    if confidence is not None:
        line |= {"dataRow": {"globalKey": key}, "confidence": confidence}
    return line


def test_sub_features_are_listed_under_their_parent(live: LiveServer) -> None:
    colors = ["red", "red", "blue"]
    rows = [{"globalKey": f"n-{i}", "rowData": f"https://assets.example/n-{i}.jpg", "width": 64, "height": 64,
             "labels": [_car(f"n-{i}", c)]} for i, c in enumerate(colors)]  # fmt: skip
    predictions = [_car("n-0", "red", 0.9), _car("n-1", "blue", 0.9), _car("n-2", "blue", 0.2)]
    run_id = evaluated_run(live.writer, "nested", ONTOLOGY, rows, predictions)

    top = live.reader.data(BARS, id=run_id, under=None)["modelRun"]
    assert [(b["feature"], b["parent"], b["subFeatures"], b["objects"]) for b in top["annotationDistribution"]["nodes"]] == [
        ("car", None, 2, 3)
    ]
    # At confidence 0.5 the third car and its answer are not active.
    assert [(b["feature"], b["subFeatures"], b["objects"]) for b in top["predictionDistribution"]["nodes"]] == [("car", 2, 2)]
    under = live.reader.data(BARS, id=run_id, under="car")["modelRun"]
    annotated = [(b["feature"], b["parent"], b["objects"]) for b in under["annotationDistribution"]["nodes"]]
    assert annotated == [("car/color/red", "car", 2), ("car/color/blue", "car", 1)]
    predicted = [(b["feature"], b["objects"]) for b in under["predictionDistribution"]["nodes"]]
    assert predicted == [("car/color/blue", 1), ("car/color/red", 1)]
    # A nested answer is active with its parent: its bar's confidence filter follows that.
    for bar in under["annotationDistribution"]["nodes"] + under["predictionDistribution"]["nodes"]:
        selected = live.reader.data(ROWS, id=run_id, filter=bar["filter"])["modelRun"]["dataRows"]["totalCount"]
        assert selected == bar["dataRows"], bar
