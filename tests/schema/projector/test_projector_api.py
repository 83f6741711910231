"""The projector over HTTP: NDJSON and GraphQL uploads, projections, packed query, selection."""

from __future__ import annotations

import base64
import time
import uuid
from typing import Any

import numpy as np
import pytest
from sklearn.decomposition import PCA

from tests.schema.projector.operations import (
    SPACES,
    UPLOAD_EMBEDDINGS,
    floats,
    projection,
    request,
    uint32s,
    vector_lines,
    vectors,
    wait_for_state,
)
from tests.server.live import LiveServer
from tests.server.operations import Scenario, box, build_scenario

ROWS = 12


@pytest.fixture(scope="module")
def scenario(live: LiveServer) -> Scenario:
    return build_scenario(live.writer, rows=ROWS, prefix="pj")


@pytest.fixture(scope="module")
def data(live: LiveServer, scenario: Scenario) -> np.ndarray:
    values = vectors(ROWS, 8)
    answer = live.writer.upload(f"/upload/datasets/{scenario.dataset_id}/embeddings/clip", vector_lines("pj", values))
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"accepted": ROWS, "version": 2}
    return values


def _base64(values: Any) -> str:
    return base64.b64encode(np.asarray(values, dtype="<f4").tobytes()).decode()


def spaces(live: LiveServer, scenario: Scenario) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = live.reader.data(SPACES, id=scenario.dataset_id)["embeddingSpaces"]
    return found


def test_the_ndjson_route_records_a_space_and_its_vectors(live: LiveServer, scenario: Scenario, data: np.ndarray) -> None:
    assert spaces(live, scenario) == [{"name": "clip", "dimension": 8, "version": 2, "vectorCount": ROWS}]


@pytest.mark.parametrize(
    ("line", "words"),
    [
        ({"dataRow": {"globalKey": "pj-1"}, "vector": [1.0] * 7}, "has 7 values; the space's dimension is 8"),
        ({"dataRow": {"globalKey": "pj-1"}, "vector": [1.0] * 7 + [1e39]}, "beyond the float32 range"),
        ({"dataRow": {"globalKey": "missing"}, "vector": [1.0] * 8}, "'missing' is not in dataset"),
        ({"dataRow": {"globalKey": "pj-1"}, "vector": _base64([1.0] * 7)}, "has 7 values; the space's dimension is 8"),
        ({"dataRow": {"globalKey": "pj-1"}, "vector": "one, two"}, "is a string that is not base64"),
    ],
)
def test_a_bad_ndjson_line_is_a_422_naming_it_and_nothing_is_recorded(
    live: LiveServer, scenario: Scenario, data: np.ndarray, line: dict[str, Any], words: str
) -> None:
    good = {"dataRow": {"globalKey": "pj-0"}, "vector": [0.0] * 8}
    answer = live.writer.upload(f"/upload/datasets/{scenario.dataset_id}/embeddings/clip", [good, good | {"dataRow": {"globalKey": "pj-2"}}, line])
    assert answer.status_code == 422, answer.text
    errors = answer.json()["errors"]
    assert [e["line"] for e in errors] == [3] and words in errors[0]["message"]
    assert spaces(live, scenario)[0]["version"] == 2


def test_non_json_is_a_422_and_a_read_only_key_a_403(live: LiveServer, scenario: Scenario, data: np.ndarray) -> None:
    path = f"/upload/datasets/{scenario.dataset_id}/embeddings/clip"
    answer = live.writer.upload(path, b'{"dataRow": {"globalKey": "pj-0"}, "vector": [NaN]}\n')
    assert answer.status_code == 422 and answer.json()["errors"][0]["line"] == 1
    assert live.reader.upload(path, vector_lines("pj", data[:1])).status_code == 403
    assert spaces(live, scenario)[0]["version"] == 2


def test_the_graphql_upload_validates_the_same_way(live: LiveServer, scenario: Scenario, data: np.ndarray) -> None:
    bad = {"datasetId": scenario.dataset_id, "space": "clip", "vectors": [
        {"globalKey": "pj-0", "vector": [0.5] * 8}, {"globalKey": "pj-1", "vector": [0.5] * 3}]}
    answer = live.writer.data(UPLOAD_EMBEDDINGS, input=bad)["uploadEmbeddings"]
    assert answer["__typename"] == "ValidationError" and answer["lineErrors"][0]["line"] == 2
    other = {"datasetId": scenario.dataset_id, "space": "small", "vectors": [{"globalKey": "pj-0", "vector": [0.5, 1.5]}]}
    answer = live.writer.data(UPLOAD_EMBEDDINGS, input=other)["uploadEmbeddings"]
    assert answer["accepted"] == 1 and answer["embeddingSpace"] == {
        "id": answer["embeddingSpace"]["id"], "name": "small", "dimension": 2, "version": 2, "vectorCount": 1}


def test_a_projection_is_computed_and_read_in_both_forms(live: LiveServer, scenario: Scenario, data: np.ndarray) -> None:
    made = request(live.writer, runId=scenario.run_id, space="clip", method="PCA")
    assert made["__typename"] == "ProjectionPayload", made
    pid = made["projection"]["id"]
    again = request(live.writer, runId=scenario.run_id, space="clip", method="PCA")
    assert again["projection"]["id"] == pid and again["created"] is False
    found = wait_for_state(live.reader, scenario.run_id, pid, "READY")
    assert found["pointCount"] == ROWS and found["progress"] == 1.0

    xy = floats(found["xy"]).reshape(-1, 2)
    assert np.array_equal(xy[:, 0], np.array(found["x"], dtype=np.float32))
    assert np.array_equal(xy[:, 1], np.array(found["y"], dtype=np.float32))
    packed = base64.b64decode(found["dataRowIdsPacked"])
    assert [str(uuid.UUID(bytes=packed[i : i + 16])) for i in range(0, len(packed), 16)] == found["dataRowIds"]
    order = [int(k.split("-")[1]) for k in found["globalKeys"]]
    assert sorted(order) == list(range(ROWS))
    expected = PCA(n_components=2).fit_transform(data[order])
    assert np.allclose(np.abs(xy), np.abs(expected), atol=1e-4)

    splits = found["splits"]
    codes = np.frombuffer(base64.b64decode(splits["codes"]), dtype="<u1")
    assert len(codes) == ROWS and set(splits["legend"]) <= {"TRAINING", "VALIDATION", "TEST", "UNASSIGNED"}
    camera = found["metadata"]
    assert camera["kind"] == "CATEGORY" and set(camera["legend"]) == {"front", "rear"}
    cameras = [camera["legend"][c] for c in np.frombuffer(base64.b64decode(camera["codes"]), dtype="<u1")]
    assert cameras == ["front" if i % 2 else "rear" for i in order]
    cars = next(f for f in found["features"] if f["feature"] == "car")
    assert cars["count"] == ROWS and sorted(uint32s(cars["points"]).tolist()) == list(range(ROWS))


def test_vectors_sent_as_base64_float32_are_the_same_vectors(live: LiveServer, scenario: Scenario, data: np.ndarray) -> None:
    lines = [{"globalKey": f"pj-{i}", "vector": _base64(vector)} for i, vector in enumerate(data)]
    answer = live.writer.upload(f"/upload/datasets/{scenario.dataset_id}/embeddings/clip-base64", lines)
    assert answer.status_code == 200 and answer.json()["accepted"] == ROWS, answer.text
    pictures = []
    for space in ("clip", "clip-base64"):
        made = request(live.writer, runId=scenario.run_id, space=space, method="PCA")["projection"]["id"]
        found = wait_for_state(live.reader, scenario.run_id, made, "READY")
        pictures.append(dict(zip(found["globalKeys"], floats(found["xy"]).reshape(-1, 2).tolist(), strict=True)))
    assert pictures[0] == pictures[1]


def test_points_chosen_in_a_projection_are_projected_again_on_their_own(
    live: LiveServer, scenario: Scenario, data: np.ndarray
) -> None:
    whole = request(live.writer, runId=scenario.run_id, space="clip", method="PCA", sphereize=True)["projection"]["id"]
    found = wait_for_state(live.reader, scenario.run_id, whole, "READY")
    chosen = np.array([0, 3, 4, 7, 9], dtype="<u4")
    made = request(live.writer, runId=scenario.run_id, space="clip", method="PCA",
                   points={"projectionId": whole, "indexes": base64.b64encode(chosen.tobytes()).decode()})
    assert made["created"] and made["projection"]["selected"] and made["projection"]["sourceProjectionId"] == whole
    part = wait_for_state(live.reader, scenario.run_id, made["projection"]["id"], "READY")
    assert sorted(part["dataRowIds"]) == sorted(found["dataRowIds"][i] for i in chosen)
    by_ids = request(live.writer, runId=scenario.run_id, space="clip", method="PCA",
                     dataRowIds=[found["dataRowIds"][i] for i in chosen])
    assert by_ids["projection"]["id"] == made["projection"]["id"] and not by_ids["created"]


def test_bad_requests_are_typed_errors(live: LiveServer, scenario: Scenario, data: np.ndarray) -> None:
    unknown_space = request(live.writer, runId=scenario.run_id, space="nope", method="UMAP")
    assert unknown_space["__typename"] == "NotFoundError"
    bad_selection = request(live.writer, runId=scenario.run_id, space="clip", dataRowIds=["not-a-row"])
    assert bad_selection["__typename"] == "ValidationError" and "not-a-row" in bad_selection["message"]
    read_only = request(live.reader, runId=scenario.run_id, space="clip")
    assert read_only["__typename"] == "ForbiddenError"
    assert projection(live.reader, scenario.run_id, "00000000-0000-4000-8000-000000000000") is None


METRICS_STATUS = "query($run: ID!) { modelRun(id: $run) { metricsStatus { state } } }"
METRIC = """query($run: ID!, $id: ID!, $version: Int) { modelRun(id: $run, version: $version) { version
  projection(id: $id) { globalKeys metric(name: "tp", confidence: 0.5, iou: 0.5) { kind values } } } }"""


def wait_metrics_in_sync(live: LiveServer, run_id: str) -> None:
    deadline = time.monotonic() + 300
    while (status := live.reader.data(METRICS_STATUS, run=run_id)["modelRun"]["metricsStatus"])["state"] != "IN_SYNC":
        assert time.monotonic() < deadline and status["state"] != "FAILED", status
        time.sleep(0.2)


def tp_per_key(live: LiveServer, run_id: str, projection_id: str, version: int | None = None) -> tuple[int, dict[str, float]]:
    found = live.reader.data(METRIC, run=run_id, id=projection_id, version=version)["modelRun"]
    column = found["projection"]["metric"]
    assert column["kind"] == "NUMBER"
    return found["version"], dict(zip(found["projection"]["globalKeys"], floats(column["values"]).tolist(), strict=True))


def test_points_are_coloured_by_a_metric_at_a_grid_point(live: LiveServer, scenario: Scenario, data: np.ndarray) -> None:
    # Rows 0-5 predicted on their label (one TP each), rows 6-11 far off (none).
    lines = [
        {"dataRow": {"globalKey": f"pj-{i}"}, "name": "car", "bbox": box(i if i < 6 else i + 300, i), "confidence": 0.9}
        for i in range(ROWS)
    ]
    assert live.writer.upload(f"/upload/model-runs/{scenario.run_id}/predictions", lines).status_code == 200
    pid = request(live.writer, runId=scenario.run_id, space="clip", method="PCA")["projection"]["id"]
    wait_for_state(live.reader, scenario.run_id, pid, "READY")
    wait_metrics_in_sync(live, scenario.run_id)
    first_version, tp = tp_per_key(live, scenario.run_id, pid)
    assert tp == {f"pj-{i}": (1.0 if i < 6 else 0.0) for i in range(ROWS)}

    # New predictions, every one on its label: the latest version's colours change, the
    # earlier version's stay what they were.
    lines = [{"dataRow": {"globalKey": f"pj-{i}"}, "name": "car", "bbox": box(i, i), "confidence": 0.9} for i in range(ROWS)]
    assert live.writer.upload(f"/upload/model-runs/{scenario.run_id}/predictions", lines).status_code == 200
    wait_metrics_in_sync(live, scenario.run_id)
    latest_version, tp = tp_per_key(live, scenario.run_id, pid)
    assert latest_version > first_version
    assert tp == {f"pj-{i}": 1.0 for i in range(ROWS)}
    assert tp_per_key(live, scenario.run_id, pid, first_version)[1] == {f"pj-{i}": (1.0 if i < 6 else 0.0) for i in range(ROWS)}
