"""Crowd regions (docs/metrics.md §9) through the server: uploaded with the data rows, kept apart
from annotations, and the predictions they cover ignored in every figure at (c, t)."""

from __future__ import annotations

from typing import Any

from tests.server.live import LiveServer
from tests.server.operations import box, evaluated_run

ONTOLOGY = {"tools": [{"name": "car", "tool": "BBOX"}], "classifications": []}
FIGURES = """
query($id: ID!, $iou: Float!) {
  modelRun(id: $id) {
    metrics(confidence: 0.5, iou: $iou) { features { feature tp fp fn } }
    confusionMatrix(confidence: 0.5, iou: $iou) { labels counts }
    precisionRecallCurve(iou: $iou, feature: "car") { confidence precision recall }
    annotationDistribution { nodes { feature objects crowdRegions dataRows filter } }
  }
}"""
DETAIL = """
query($id: ID!, $row: ID!, $iou: Float!) {
  modelRun(id: $id) {
    dataRowDetail(id: $row, confidence: 0.5, iou: $iou) {
      annotations { index outcome } predictions { index outcome partner }
    }
  }
}"""
ROWS = """
query($id: ID!, $filter: DataRowFilter) {
  modelRun(id: $id) { dataRows(filter: $filter, confidence: 0.5, iou: 0.5) { totalCount nodes { globalKey } } }
}"""


def _car(key: str | None = None, confidence: float | None = None, **geometry: float) -> dict[str, Any]:
    line: dict[str, Any] = {"name": "car", "bbox": box(**geometry)}
    if key is not None:
        line |= {"dataRow": {"globalKey": key}, "confidence": confidence}
    return line


def _evaluated_run(live: LiveServer) -> str:
    crowd = {"name": "car", "bbox": box(left=100, top=100, width=80, height=80), "iscrowd": True}
    rows = [
        # A car, and a crowd of cars on the right: the second prediction lies inside it.
        {"globalKey": "cr-0", "rowData": "https://assets.example/cr-0.jpg", "width": 200, "height": 200,
         "labels": [_car(), crowd]},
        # Only a crowd region: no annotation of car, so no FN; its prediction is ignored.
        {"globalKey": "cr-1", "rowData": "https://assets.example/cr-1.jpg", "width": 200, "height": 200,
         "labels": [crowd]},
    ]  # fmt: skip
    predictions = [
        _car("cr-0", 0.9),
        _car("cr-0", 0.8, left=110, top=110, width=20, height=20),  # inside the crowd: share 1
        _car("cr-1", 0.7, left=170, top=100, width=20, height=20),  # half inside: share 0.5
    ]
    return evaluated_run(live.writer, "crowd", ONTOLOGY, rows, predictions)


def test_predictions_a_crowd_region_covers_are_ignored(live: LiveServer) -> None:
    run_id = _evaluated_run(live)
    # At t = 0.4 both covered predictions (shares 1 and 0.5) are ignored: no FP anywhere.
    run = live.reader.data(FIGURES, id=run_id, iou=0.4)["modelRun"]
    assert run["metrics"]["features"] == [{"feature": "car", "tp": 1, "fp": 0, "fn": 0}]
    assert run["confusionMatrix"]["labels"] == ["car", None]
    assert run["confusionMatrix"]["counts"] == [[1, 0], [0, 0]]
    at_half = {p["confidence"]: p["precision"] for p in run["precisionRecallCurve"]}[0.5]
    assert at_half == 1.0
    # At t = 0.5 the half-covered one counts again (its share is not > t).
    run = live.reader.data(FIGURES, id=run_id, iou=0.5)["modelRun"]
    assert run["metrics"]["features"] == [{"feature": "car", "tp": 1, "fp": 1, "fn": 0}]
    assert run["confusionMatrix"]["counts"] == [[1, 0], [1, 0]]
    # Crowd regions are counted apart from the annotations, and the bar's filter selects
    # the rows it counts.
    (bar,) = run["annotationDistribution"]["nodes"]
    assert (bar["feature"], bar["objects"], bar["crowdRegions"], bar["dataRows"]) == ("car", 1, 2, 1)
    selected = live.reader.data(ROWS, id=run_id, filter=bar["filter"])["modelRun"]["dataRows"]
    assert [row["globalKey"] for row in selected["nodes"]] == ["cr-0"]


def test_the_row_detail_names_crowd_regions_and_ignored_predictions(live: LiveServer) -> None:
    run_id = _evaluated_run(live)
    row_ids = live.reader.data(
        "query($id: ID!) { modelRun(id: $id) { dataRows(first: 10) { nodes { id globalKey } } } }", id=run_id
    )["modelRun"]["dataRows"]["nodes"]
    row = {r["globalKey"]: r["id"] for r in row_ids}
    detail = live.reader.data(DETAIL, id=run_id, row=row["cr-0"], iou=0.4)["modelRun"]["dataRowDetail"]
    assert [a["outcome"] for a in detail["annotations"]] == ["TP", "CROWD"]
    assert [(p["outcome"], p["partner"]) for p in detail["predictions"]] == [("TP", 0), ("IGNORED", None)]
    detail = live.reader.data(DETAIL, id=run_id, row=row["cr-1"], iou=0.5)["modelRun"]["dataRowDetail"]
    assert [p["outcome"] for p in detail["predictions"]] == ["FP"]
