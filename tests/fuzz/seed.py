"""A small seeded server for the fuzzers: a dataset with labelled rows, a model whose ontology
has every kind of feature, a run with predictions, custom metrics, an embedding space, a
projection and a saved slice; and the ids and names of all of it, for the fuzzers to aim at."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import httpx

from tests.server.live import Api, LiveServer
from tests.server.operations import CREATE_DATASET, CREATE_MODEL, CREATE_RUN, payload, wait_in_sync

ONTOLOGY: dict[str, Any] = {
    "tools": [
        {
            "name": "car",
            "tool": "BBOX",
            "classifications": [{"name": "color", "kind": "RADIO", "answers": ["red", "blue"]}],
        },
        {"name": "person", "tool": "POLYGON"},
        {"name": "lane", "tool": "POLYLINE"},
        {"name": "wheel", "tool": "POINT"},
        {"name": "road", "tool": "MASK"},
        {"name": "place", "tool": "NER"},
    ],
    "classifications": [
        {"name": "weather", "kind": "RADIO", "answers": ["sunny", "rainy"]},
        {"name": "tags", "kind": "CHECKLIST", "answers": ["night", "blurry"]},
        {"name": "caption", "kind": "TEXT"},
    ],
}

SPACE = "clip"


def _box(left: float, top: float, width: float = 40, height: float = 30) -> dict[str, float]:
    return {"left": left, "top": top, "width": width, "height": height}


def row_lines(count: int) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for i in range(count):
        rows.append(
            {
                "globalKey": f"cam/{i}.jpg",
                "rowData": f"https://assets.example/cam/{i}.jpg",
                "width": 4,
                "height": 3,
                "metadata": {"camera": "front" if i % 2 else "rear", "speed": i * 10},
                "labels": [
                    {
                        "name": "car",
                        "bbox": _box(0, 0, 2, 2),
                        "classifications": [{"name": "color", "answer": {"name": "red"}}],
                    },
                    {
                        "name": "person",
                        "polygon": [{"x": 0, "y": 0}, {"x": 3, "y": 0}, {"x": 2, "y": 2}],
                    },
                    {"name": "lane", "line": [{"x": 0, "y": 2}, {"x": 4, "y": 2}]},
                    {"name": "wheel", "point": {"x": 1, "y": 1}},
                    {"name": "road", "mask": {"rle": {"size": [3, 4], "counts": [2, 4, 6]}}},
                    {"name": "weather", "answer": {"name": "sunny" if i % 2 else "rainy"}},
                    {"name": "tags", "answer": [{"name": "night"}]},
                    {"name": "caption", "answer": f"row {i}"},
                ],
            }
        )
    rows.append(
        {
            "globalKey": "doc/0.txt",
            "rowData": "https://assets.example/doc/0.txt",
            "mediaType": "TEXT",
            "labels": [{"name": "place", "location": {"start": 0, "end": 4}}],
        }
    )
    return rows


def prediction_lines(count: int) -> list[dict[str, Any]]:
    lines: list[dict[str, Any]] = []
    for i in range(count):
        row = {"globalKey": f"cam/{i}.jpg"}
        lines += [
            {
                "dataRow": row,
                "name": "car",
                "bbox": _box(0, 0, 2, 2),
                "confidence": 0.9,
                "classifications": [
                    {"name": "color", "answer": {"name": "blue", "confidence": 0.6}}
                ],
            },
            {
                "dataRow": row,
                "name": "person",
                "polygon": [{"x": 0, "y": 0}, {"x": 3, "y": 0}, {"x": 2, "y": 2}],
                "confidence": 0.4,
            },
            {"dataRow": row, "name": "wheel", "point": {"x": 2, "y": 1}, "confidence": 0.7},
            {
                "dataRow": row,
                "name": "road",
                "mask": {"rle": {"size": [3, 4], "counts": [3, 3, 6]}},
                "confidence": 0.8,
            },
            {"dataRow": row, "name": "weather", "answer": {"name": "sunny"}, "confidence": 0.66},
        ]
    lines.append(
        {
            "dataRow": {"globalKey": "doc/0.txt"},
            "name": "place",
            "location": {"start": 1, "end": 4},
            "confidence": 0.5,
        }
    )
    return lines


@dataclass
class Seeded:
    dataset_id: str
    model_id: str
    run_id: str
    spare_key_id: str
    root_ids: list[str]
    """The dataset, model, run, projection and slice."""
    ids: list[str]
    """Every id the server handed out: dataset, model, run, rows, features, slice, projection."""
    names: list[str]
    """Global keys, feature names and paths, metadata keys, the embedding space."""
    row_ids: list[str]
    feature_ids: list[str]


def _ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def seed(live: LiveServer, rows: int = 6) -> Seeded:
    api: Api = live.writer
    dataset_id = payload(api.data(CREATE_DATASET, name="fuzzed dataset"), "createDataset")[
        "dataset"
    ]["id"]
    _ok(api.upload(f"/upload/datasets/{dataset_id}/data-rows", row_lines(rows)))
    model = payload(api.data(CREATE_MODEL, name="fuzzed model", ontology=ONTOLOGY), "createModel")[
        "model"
    ]
    created = api.data(
        CREATE_RUN,
        input={
            "modelId": model["id"],
            "name": "fuzzed run",
            "datasetId": dataset_id,
            "splits": {"train": 0.5, "validate": 0.25, "test": 0.25, "seed": 7},
        },
    )
    run_id = payload(created, "createModelRun")["modelRun"]["id"]
    _ok(api.upload(f"/upload/model-runs/{run_id}/predictions", prediction_lines(rows)))
    _ok(
        api.upload(
            f"/upload/model-runs/{run_id}/custom-metrics",
            [
                {
                    "dataRow": {"globalKey": f"cam/{i}.jpg"},
                    "metricName": "blur",
                    "metricValue": i / rows,
                }
                for i in range(rows)
            ],
        )
    )
    _ok(
        api.upload(
            f"/upload/datasets/{dataset_id}/embeddings/{SPACE}",
            [{"globalKey": f"cam/{i}.jpg", "vector": [i, 1.0 - i, 0.5 * i]} for i in range(rows)],
        )
    )
    wait_in_sync(api, run_id)
    projection = api.data(
        """mutation($runId: ID!, $space: String!) { requestProjection(input: {runId: $runId, space: $space}) {
             __typename ... on ProjectionPayload { projection { id } } } }""",
        runId=run_id,
        space=SPACE,
    )["requestProjection"]
    slice_ = api.data(
        """mutation($modelId: ID!, $filter: DataRowFilter!) { createSlice(input: {modelId: $modelId, name: "rainy", filter: $filter}) {
             __typename ... on CreateSlicePayload { slice { id } } } }""",
        modelId=model["id"],
        filter={"all": [{"split": ["TRAINING"]}]},
    )["createSlice"]
    spare_key, _ = live.runtime.app.create_api_key("spare", read_only=True, actor="test set-up")
    spare_key_id = str(spare_key.id)
    data_rows = api.data(
        "query($id: ID!) { modelRun(id: $id) { dataRows(first: 100) { nodes { id globalKey } } } }",
        id=run_id,
    )["modelRun"]["dataRows"]["nodes"]
    features = model["ontology"]["features"]
    assert "projection" in projection and "slice" in slice_, (projection, slice_)
    root_ids = [
        dataset_id,
        model["id"],
        run_id,
        projection["projection"]["id"],
        slice_["slice"]["id"],
    ]
    ids = [
        *root_ids,
        spare_key_id,
        *(row["id"] for row in data_rows),
        *(feature["id"] for feature in features),
    ]
    names = [row["globalKey"] for row in data_rows] + [feature["name"] for feature in features]
    names += ["camera", "speed", "blur", SPACE, "f1", "precision", "TRAINING"]
    return Seeded(
        dataset_id,
        model["id"],
        run_id,
        spare_key_id,
        root_ids,
        ids,
        names,
        row_ids=[row["id"] for row in data_rows],
        feature_ids=[feature["id"] for feature in features],
    )


def wait_ready(live: LiveServer, timeout: float = 30.0) -> httpx.Response:
    """GET /ready, asked again while the read models are only catching up (not stopped)."""
    deadline = time.monotonic() + timeout
    while True:
        response = httpx.get(f"{live.url}/ready", timeout=10)
        if response.status_code == 200 or time.monotonic() > deadline:
            return response
        if response.json().get("status") == "read models stopped":
            return response
        time.sleep(0.1)
