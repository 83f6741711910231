"""A small model run for the browser tests: image rows with every kind of object drawn over
them (boxes, polygons, masks, points, polylines, classifications) and text rows with named
entities, labelled and predicted so that each outcome (TP, FP, FN) occurs."""

from __future__ import annotations

import base64
import io
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image, ImageDraw
from pycocotools import mask as coco_mask

from tests.server.live import Api
from tests.server.operations import CREATE_DATASET, CREATE_MODEL, CREATE_RUN, payload

WIDTH, HEIGHT = 320, 240
IMAGE_ROWS = 10
TEXTS = [
    "Ada Lovelace wrote the first program in London.",
    "Grace Hopper built a compiler at Remington Rand.",
]
ONTOLOGY = {
    "tools": [
        {"name": "car", "tool": "BBOX"},
        {"name": "person", "tool": "POLYGON"},
        {"name": "puddle", "tool": "MASK"},
        {"name": "wheel", "tool": "POINT"},
        {"name": "lane", "tool": "POLYLINE"},
        {"name": "entity", "tool": "NER"},
    ],
    "classifications": [{"name": "weather", "kind": "RADIO", "answers": ["sunny", "rainy"]}],
}
STATUS = "query($id: ID!) { modelRun(id: $id) { metricsStatus { state } } }"


@dataclass
class SeededRun:
    dataset_id: str
    model_id: str
    run_id: str
    model_name: str
    run_name: str


def _car(i: int) -> dict[str, float]:
    return {"left": 30.0 + 12 * i, "top": 120.0, "width": 90.0, "height": 60.0}


def _person(i: int) -> list[dict[str, float]]:
    x = 200.0 + 4 * i
    return [{"x": x, "y": 40.0}, {"x": x + 30, "y": 40.0}, {"x": x + 36, "y": 130.0}, {"x": x - 6, "y": 130.0}]


def _puddle(i: int, shift: int = 0) -> dict[str, Any]:
    pixels = np.zeros((HEIGHT, WIDTH), dtype=np.uint8)
    pixels[200:225, 150 + shift : 230 + shift] = 1
    pixels[205:215, 175 + shift : 190 + shift] = 0  # a hole
    encoded = coco_mask.encode(np.asfortranarray(pixels))
    return {"rle": {"size": [HEIGHT, WIDTH], "counts": encoded["counts"].decode("ascii")}}


def _image(i: int) -> str:
    """A drawn street scene as a data: URL (no request leaves the machine)."""
    image = Image.new("RGB", (WIDTH, HEIGHT))
    draw = ImageDraw.Draw(image)
    for y in range(HEIGHT):
        shade = 40 + y // 4
        draw.line([(0, y), (WIDTH, y)], fill=(shade // 2, shade // 2 + 10, shade + 20))
    draw.rectangle([0, 160, WIDTH, HEIGHT], fill=(58, 60, 66))
    car = _car(i)
    draw.rounded_rectangle(
        [car["left"], car["top"], car["left"] + car["width"], car["top"] + car["height"]], radius=10,
        fill=(180 - 10 * i, 60 + 12 * i, 70),
    )
    draw.polygon([(p["x"], p["y"]) for p in _person(i)], fill=(210, 180, 150))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def data_rows() -> list[dict[str, Any]]:
    rows = []
    for i in range(IMAGE_ROWS):
        labels: list[dict[str, Any]] = [
            {"name": "car", "bbox": _car(i)},
            {"name": "person", "polygon": _person(i)},
            {"name": "weather", "answer": {"name": "sunny" if i % 3 else "rainy"}},
        ]
        if i % 2 == 0:
            labels.append({"name": "puddle", "mask": _puddle(i)})
        if i % 3 == 0:
            labels.append({"name": "wheel", "point": {"x": 60.0 + 12 * i, "y": 180.0}})
            labels.append({"name": "lane", "line": [{"x": 0.0, "y": 235.0}, {"x": 160.0, "y": 170.0}, {"x": 320.0, "y": 235.0}]})
        rows.append({
            "globalKey": f"street-{i:02d}",
            "rowData": _image(i),
            "width": WIDTH,
            "height": HEIGHT,
            "metadata": {"camera": "front" if i % 2 else "rear", "speed": 10 * i},
            "labels": labels,
        })
    for j, text in enumerate(TEXTS):
        first_space = text.index(" ", text.index(" ") + 1)
        rows.append({
            "globalKey": f"note-{j}",
            "rowData": text,
            "mediaType": "TEXT",
            "metadata": {"camera": "none", "speed": 0},
            "labels": [{"name": "entity", "location": {"start": 0, "end": first_space}}],
        })
    return rows


def predictions() -> list[dict[str, Any]]:
    lines: list[dict[str, Any]] = []
    for i in range(IMAGE_ROWS):
        key = {"globalKey": f"street-{i:02d}"}
        car = _car(i)
        if i >= 7:  # far off its label: a false positive and a false negative
            car = {**car, "left": 5.0, "top": 5.0, "width": 40.0, "height": 30.0}
        lines.append({"dataRow": key, "name": "car", "bbox": car, "confidence": round(0.55 + 0.04 * i, 2)})
        lines.append({"dataRow": key, "name": "person", "polygon": _person(i), "confidence": 0.3 if i % 4 == 0 else 0.8})
        lines.append({"dataRow": key, "name": "weather", "answer": {"name": "sunny"}, "confidence": 0.9})
        if i % 2 == 0:
            lines.append({"dataRow": key, "name": "puddle", "mask": _puddle(i, shift=4), "confidence": 0.7})
    for j, text in enumerate(TEXTS):
        first_space = text.index(" ", text.index(" ") + 1)
        lines.append({"dataRow": {"globalKey": f"note-{j}"}, "name": "entity", "location": {"start": 0, "end": first_space}, "confidence": 0.95})
    return lines


def seed(api: Api, wait_seconds: float = 120.0) -> SeededRun:
    dataset = payload(api.data(CREATE_DATASET, name="Street scenes"), "createDataset")["dataset"]["id"]
    uploaded = api.upload(f"/upload/datasets/{dataset}/data-rows", data_rows())
    assert uploaded.status_code == 200, uploaded.text
    model = payload(api.data(CREATE_MODEL, name="Street detector", ontology=ONTOLOGY), "createModel")["model"]["id"]
    run = payload(
        api.data(CREATE_RUN, input={
            "modelId": model, "name": "baseline", "datasetId": dataset,
            "splits": {"train": 0.6, "validate": 0.2, "test": 0.2, "seed": 3},
        }),
        "createModelRun",
    )["modelRun"]["id"]
    answer = api.upload(f"/upload/model-runs/{run}/predictions", predictions())
    assert answer.status_code == 200, answer.text
    # A second run, on the image rows only and still without predictions.
    payload(
        api.data(CREATE_RUN, input={
            "modelId": model, "name": "night-augmented", "datasetId": dataset,
            "globalKeys": [f"street-{i:02d}" for i in range(IMAGE_ROWS)],
        }),
        "createModelRun",
    )
    deadline = time.monotonic() + wait_seconds
    while api.data(STATUS, id=run)["modelRun"]["metricsStatus"]["state"] != "IN_SYNC":
        assert time.monotonic() < deadline, "the seeded run's metrics were not computed in time"
        time.sleep(0.1)
    return SeededRun(dataset, model, run, "Street detector", "baseline")
