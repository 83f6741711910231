"""Bulk NDJSON uploads: streamed, validated whole, all or nothing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from routes.uploads import UploadLimits
from server import Settings
from tests.server.live import LiveServer
from tests.server.operations import (
    HISTORY,
    RUN,
    Scenario,
    box,
    build_scenario,
    data_row_lines,
    prediction_lines,
)

LIMIT = 64 * 1024


@pytest.fixture(scope="module")
def server_settings() -> Settings:
    return Settings(uploads=UploadLimits(max_body_bytes=LIMIT, max_line_bytes=16 * 1024))


@pytest.fixture(scope="module")
def scenario(live: LiveServer) -> Scenario:
    return build_scenario(live.writer, rows=3, prefix="up")


def state(live: LiveServer, scenario: Scenario) -> dict[str, Any]:
    """Everything a bad upload must leave as it was."""
    api = live.reader
    run = api.data(RUN, id=scenario.run_id)["modelRun"]
    history = api.data(HISTORY, id=scenario.run_id)["modelRun"]["history"]
    dataset = api.data(
        "query($id: ID!) { dataset(id: $id) { version rowCount } }", id=scenario.dataset_id
    )["dataset"]
    return {"run": run["version"], "events": [e["node"] for e in history["edges"]], "dataset": dataset}


def predictions_path(scenario: Scenario) -> str:
    return f"/upload/model-runs/{scenario.run_id}/predictions"


def rows_path(scenario: Scenario) -> str:
    return f"/upload/datasets/{scenario.dataset_id}/data-rows"


def rejected(response: httpx.Response, status: int = 422) -> list[dict[str, Any]]:
    assert response.status_code == status, response.text
    errors: list[dict[str, Any]] = response.json()["errors"]
    assert errors
    return errors


GOOD = {"dataRow": {"globalKey": "up-0"}, "name": "car", "bbox": box(), "confidence": 0.5}


@pytest.mark.parametrize(
    ("lines", "line", "words"),
    [
        ([GOOD, {"dataRow": {"globalKey": "up-1"}, "name": "bicycle", "bbox": box()}], 2, ["bicycle"]),
        ([GOOD, {"dataRow": {"globalKey": "nope"}, "name": "car", "bbox": box()}], 2, ["nope"]),
        ([{**GOOD, "confidence": 1.5}], 1, ["1.5"]),
        ([{**GOOD, "confidence": -0.1}], 1, ["-0.1"]),
        ([{**GOOD, "bbox": box(width=0)}], 1, ["car"]),
        ([{"dataRow": {"globalKey": "up-1"}, "name": "car", "point": {"x": 1, "y": 2}}], 1, ["car"]),
    ],
    ids=["unknown feature", "unknown data row", "confidence above 1", "negative confidence", "zero-area box", "wrong tool"],
)
def test_bad_predictions_record_nothing(
    live: LiveServer, scenario: Scenario, lines: list[dict[str, Any]], line: int, words: list[str]
) -> None:
    before = state(live, scenario)
    errors = rejected(live.writer.upload(predictions_path(scenario), lines))
    assert errors[0]["line"] == line
    assert all(word in errors[0]["message"] for word in words), errors
    assert state(live, scenario) == before


@pytest.mark.parametrize(
    "body",
    [
        b'{"dataRow": {"globalKey": "up-0"}, "name": "car", "bbox": {"top": 1, "left": 1, "height": 2, "width": 2}, "confidence": NaN}\n',
        b'{"dataRow": {"globalKey": "up-0"}, "name": "car", "bbox": {"top": 1e999, "left": 1, "height": 2, "width": 2}}\n',
        b'{"dataRow": {"globalKey": "up-0"}, "name": "car", "bbox": {"top": 1, "left": 1\n',
    ],
    ids=["NaN", "infinite", "broken JSON"],
)
def test_non_json_numbers_and_broken_lines_are_rejected(live: LiveServer, scenario: Scenario, body: bytes) -> None:
    before = state(live, scenario)
    errors = rejected(live.writer.upload(predictions_path(scenario), body))
    assert errors[0]["line"] == 1
    assert state(live, scenario) == before


def test_every_bad_line_is_listed(live: LiveServer, scenario: Scenario) -> None:
    lines = [GOOD, {**GOOD, "confidence": 2}, GOOD, {**GOOD, "name": "tree"}]
    errors = rejected(live.writer.upload(predictions_path(scenario), lines))
    assert [e["line"] for e in errors] == [2, 4]


def test_duplicate_global_keys_record_nothing(live: LiveServer, scenario: Scenario) -> None:
    before = state(live, scenario)
    fresh = data_row_lines(2, "dup")
    errors = rejected(live.writer.upload(rows_path(scenario), [*fresh, fresh[0]]))
    assert errors[0]["line"] == 3 and "dup-0" in errors[0]["message"]
    errors = rejected(live.writer.upload(rows_path(scenario), data_row_lines(1, "up")))
    assert "up-0" in errors[0]["message"]
    assert state(live, scenario) == before


def test_oversize_bodies_get_413_and_record_nothing(live: LiveServer, scenario: Scenario) -> None:
    before = state(live, scenario)
    big = prediction_lines(1, "up") * (LIMIT // 100)
    response = live.writer.upload(predictions_path(scenario), big)
    assert response.status_code == 413 and "bytes" in response.json()["errors"][0]["message"]

    def chunked() -> Iterator[bytes]:
        # No Content-Length: the limit is enforced while streaming.
        line = b'{"dataRow": {"globalKey": "up-0"}, "name": "car", "bbox": {"top": 1, "left": 1, "height": 2, "width": 2}}\n'
        for _ in range(LIMIT // len(line) + 10):
            yield line

    response = live.writer.client.post(predictions_path(scenario), content=chunked())
    assert response.status_code == 413, response.text
    response = live.writer.upload(predictions_path(scenario), b'{"dataRow": {"globalKey": "' + b"x" * 20_000 + b'"}}\n')
    assert rejected(response)[0]["line"] == 1
    assert state(live, scenario) == before


def test_unknown_targets_and_keys(live: LiveServer, scenario: Scenario) -> None:
    lines = prediction_lines(1, "up")
    missing = "00000000-0000-4000-8000-000000000000"
    assert live.writer.upload(f"/upload/model-runs/{missing}/predictions", lines).status_code == 404
    assert live.writer.upload("/upload/model-runs/not-a-run/predictions", lines).status_code == 404
    assert live.writer.upload(f"/upload/datasets/{missing}/data-rows", data_row_lines(1)).status_code == 404
    assert live.api().upload(predictions_path(scenario), lines).status_code == 401
    assert live.api("mlk_wrong").upload(predictions_path(scenario), lines).status_code == 401
    before = state(live, scenario)
    response = live.reader.upload(predictions_path(scenario), lines)
    assert response.status_code == 403 and "read-only" in response.json()["errors"][0]["message"]
    assert live.writer.upload(predictions_path(scenario), b"\n\n").status_code == 422
    assert state(live, scenario) == before


def test_a_good_upload_replaces_each_rows_predictions(live: LiveServer, scenario: Scenario) -> None:
    before = state(live, scenario)
    first = live.writer.upload(predictions_path(scenario), [*prediction_lines(2, "up"), {"dataRow": {"globalKey": "up-2"}}])
    assert first.status_code == 200, first.text
    assert first.json() == {"accepted": 3, "version": before["run"] + 1}
    again = live.writer.upload(predictions_path(scenario), prediction_lines(1, "up", confidence=0.25))
    assert again.json() == {"accepted": 1, "version": before["run"] + 2}
    rows = live.reader.data(
        "query($id: ID!) { modelRun(id: $id) { dataRows { nodes { globalKey covered predictions } } } }",
        id=scenario.run_id,
    )["modelRun"]["dataRows"]["nodes"]
    by_key = {row["globalKey"]: row for row in rows}
    assert [p["confidence"] for p in by_key["up-0"]["predictions"]] == [0.25]
    assert len(by_key["up-1"]["predictions"]) == 1
    assert by_key["up-2"]["covered"] is True and by_key["up-2"]["predictions"] == []
    events = state(live, scenario)["events"]
    assert [e["type"] for e in events[-2:]] == ["PredictionsUploaded", "PredictionsUploaded"]
    assert events[-1]["actor"] == "writer"


def test_metadata_labels_and_custom_metrics_are_uploaded_too(live: LiveServer) -> None:
    s = build_scenario(live.writer, rows=2, prefix="mx")
    rows_query = "query($id: ID!) { dataset(id: $id) { version dataRows { nodes { globalKey metadata labels } } } }"
    before = live.reader.data(rows_query, id=s.dataset_id)["dataset"]["version"]
    metadata = live.writer.upload(
        f"/upload/datasets/{s.dataset_id}/metadata",
        [{"dataRow": {"globalKey": "mx-0"}, "metadata": {"camera": None, "city": "Oslo"}}],
    )
    # A new key ("city") is declared on the way: a version of its own.
    assert metadata.json() == {"accepted": 1, "version": before + 2}, metadata.text
    labels = live.writer.upload(
        f"/upload/datasets/{s.dataset_id}/labels", [{"dataRow": {"globalKey": "mx-1"}, "labels": []}]
    )
    assert labels.json() == {"accepted": 1, "version": before + 3}, labels.text
    nodes = live.reader.data(rows_query, id=s.dataset_id)["dataset"]["dataRows"]["nodes"]
    by_key = {n["globalKey"]: n for n in nodes}
    assert by_key["mx-0"]["metadata"] == {"city": "Oslo"} and by_key["mx-1"]["labels"] == []
    bad = live.writer.upload(
        f"/upload/datasets/{s.dataset_id}/metadata", [{"dataRow": {"globalKey": "nope"}, "metadata": {"city": "Rome"}}]
    )
    assert "nope" in rejected(bad)[0]["message"]

    path = f"/upload/model-runs/{s.run_id}/custom-metrics"
    good = {"dataRow": {"globalKey": "mx-0"}, "metricName": "blur", "metricValue": 0.25}
    assert rejected(live.writer.upload(path, [good, {**good, "metricValue": "high"}]))[0]["line"] == 2
    accepted = live.writer.upload(path, [good])
    assert accepted.status_code == 200 and accepted.json()["accepted"] == 1, accepted.text
    events = live.reader.data(HISTORY, id=s.run_id)["modelRun"]["history"]["edges"]
    assert events[-1]["node"]["type"] == "CustomMetricsUploaded"
