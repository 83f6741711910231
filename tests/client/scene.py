"""A tiny scene whose metrics are counted by hand.

30 rows, each with one ground-truth car box at (10, 10, 20 x 20). Predictions:
rows 0-19 a car on the label (confidence 0.9): true positives; rows 20-24 a car far off
(0.8): a false positive and a missed car each; rows 25-29 a person on the car (0.7): the
car is missed and the person is a false positive, a car -> person confusion.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ROWS = 30
ONTOLOGY = {
    "tools": [{"name": "car", "tool": "BBOX"}, {"name": "person", "tool": "BBOX"}],
    "classifications": [{"name": "weather", "kind": "RADIO", "answers": ["sunny", "rainy"]}],
}
LABEL = {"left": 10, "top": 10, "width": 20, "height": 20}
FAR = {"left": 400, "top": 300, "width": 20, "height": 20}


def key(prefix: str, i: int) -> str:
    return f"{prefix}-{i:02d}"


def data_rows(prefix: str, count: int = ROWS) -> list[dict[str, Any]]:
    return [
        {
            "globalKey": key(prefix, i),
            "rowData": f"https://assets.example/{prefix}/{i}.jpg",
            "width": 640,
            "height": 480,
            "metadata": {"camera": "front" if i % 2 else "rear"},
            "labels": [{"name": "car", "bbox": LABEL}],
        }
        for i in range(count)
    ]


def predictions(prefix: str) -> list[dict[str, Any]]:
    def line(i: int) -> dict[str, Any]:
        row = {"globalKey": key(prefix, i)}
        if i < 20:
            return {"dataRow": row, "name": "car", "bbox": LABEL, "confidence": 0.9}
        if i < 25:
            return {"dataRow": row, "name": "car", "bbox": FAR, "confidence": 0.8}
        return {"dataRow": row, "name": "person", "bbox": LABEL, "confidence": 0.7}

    return [line(i) for i in range(ROWS)]


def write_ndjson(path: Path, lines: list[Any], blank_after: int | None = None) -> Path:
    """One line per item; with `blank_after`, a blank line after that many lines (counted
    in the file's numbering, as the server counts it)."""
    text = [json.dumps(line) for line in lines]
    if blank_after is not None:
        text.insert(blank_after, "")
    path.write_text("\n".join(text) + "\n")
    return path
