"""A polygon of several rings (COCO's rings of one object) through the server: uploaded,
stored and read back as rings, evaluated as the union of its rings."""

from __future__ import annotations

from typing import Any

from tests.server.live import LiveServer
from tests.server.operations import evaluated_run

ONTOLOGY = {"tools": [{"name": "lake", "tool": "POLYGON"}], "classifications": []}
LEFT = [{"x": 0, "y": 0}, {"x": 10, "y": 0}, {"x": 10, "y": 10}, {"x": 0, "y": 10}]
RIGHT = [{"x": 30, "y": 0}, {"x": 40, "y": 0}, {"x": 40, "y": 10}, {"x": 30, "y": 10}]
QUERY = """
query($id: ID!, $iou: Float!) {
  modelRun(id: $id) {
    metrics(confidence: 0.5, iou: $iou) { features { feature tp fp fn iou } }
    dataRows(first: 5) { nodes { labels predictions } }
  }
}"""


def _lake(polygon: Any, key: str | None = None) -> dict[str, Any]:
    line: dict[str, Any] = {"name": "lake", "polygon": polygon}
    if key is not None:
        line |= {"dataRow": {"globalKey": key}, "confidence": 0.9}
    return line


def test_a_polygon_of_two_rings_is_their_union(live: LiveServer) -> None:
    rows = [
        {"globalKey": f"pr-{i}", "rowData": f"https://assets.example/pr-{i}.jpg", "width": 64, "height": 64,
         "labels": [_lake([LEFT, RIGHT])]}
        for i in range(2)
    ]  # fmt: skip
    # Row 0 predicts both rings (IoU 1); row 1 only the left one (IoU 100 / 200 = 0.5).
    predictions = [_lake([LEFT, RIGHT], "pr-0"), _lake(LEFT, "pr-1")]
    run_id = evaluated_run(live.writer, "rings", ONTOLOGY, rows, predictions)
    run = live.reader.data(QUERY, id=run_id, iou=0.4)["modelRun"]
    assert run["metrics"]["features"] == [{"feature": "lake", "tp": 2, "fp": 0, "fn": 0, "iou": 0.75}]
    assert live.reader.data(QUERY, id=run_id, iou=0.5)["modelRun"]["metrics"]["features"][0]["tp"] == 1
    # Read back as uploaded: a list of rings.
    assert [n["labels"][0]["polygon"] for n in run["dataRows"]["nodes"]] == [[LEFT, RIGHT]] * 2
    assert sorted(len(n["predictions"][0]["polygon"]) for n in run["dataRows"]["nodes"]) == [2, 4]
