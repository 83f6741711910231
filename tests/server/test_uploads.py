"""Bulk NDJSON uploads: streamed, validated whole, all or nothing."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
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


@pytest.mark.parametrize(
    ("route", "field", "value"),
    [("labels", "labels", [{"name": "car", "bbox": box()}]), ("metadata", "metadata", {"camera": "side"})],
)
def test_a_row_given_twice_in_an_update_records_nothing(
    live: LiveServer, scenario: Scenario, route: str, field: str, value: Any
) -> None:
    """A labels update replaces each row's set and a metadata update merges into it: a row
    twice would silently lose or reorder one of them, so it is refused by line."""
    before = state(live, scenario)
    lines = [{"dataRow": {"globalKey": key}, field: value} for key in ("up-0", "up-1", "up-0")]
    errors = rejected(live.writer.upload(f"/upload/datasets/{scenario.dataset_id}/{route}", lines))
    assert errors == [{"line": 3, "message": f"data row 'up-0' repeats line 1; give each row's {field} once"}]
    assert state(live, scenario) == before


def ndjson(lines: list[Any]) -> bytes:
    return b"".join(orjson.dumps(line) + b"\n" for line in lines)


def test_a_gzip_body_is_read_as_its_lines(live: LiveServer, scenario: Scenario) -> None:
    body = gzip.compress(ndjson(prediction_lines(3, "up")))
    response = live.writer.client.post(predictions_path(scenario), content=body, headers={"Content-Encoding": "gzip"})
    assert response.status_code == 200, response.text
    assert response.json()["accepted"] == 3


@pytest.mark.parametrize(
    ("headers", "body", "status", "words"),
    [
        ({"Content-Encoding": "br"}, b"{}", 415, ["'br' is not supported"]),
        ({"Content-Type": "multipart/form-data; boundary=x"}, b"--x--", 415, ["not as a form"]),
        ({"Content-Encoding": "gzip"}, b"not gzip at all", 422, ["not valid gzip"]),
        ({"Content-Encoding": "gzip"}, gzip.compress(b"{}\n")[:-6], 422, ["gzip"]),
        ({"Content-Encoding": "gzip"}, gzip.compress(b"\n" * (LIMIT * 20)), 413, [str(LIMIT)]),
    ],
    ids=["brotli", "form", "not gzip", "cut short", "expands past the limit"],
)
def test_bodies_that_cannot_be_read_record_nothing(
    live: LiveServer, scenario: Scenario, headers: dict[str, str], body: bytes, status: int, words: list[str]
) -> None:
    before = state(live, scenario)
    response = live.writer.client.post(predictions_path(scenario), content=body, headers=headers)
    assert response.status_code == status, response.text
    message = response.json()["errors"][0]["message"]
    assert all(word in message for word in words), message
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


# --- input that used to be silently wrong (issue 11) -----------------------------------

EXPECTED_ROW = '{"dataRow": {"globalKey": "..."} | {"id": "..."}'


def only_error(response: httpx.Response) -> tuple[int, str]:
    [error] = rejected(response)
    return error["line"], error["message"]


def row_line(key: str, **fields: Any) -> dict[str, Any]:
    return {"globalKey": key, "rowData": f"https://assets.example/{key}.jpg", "width": 64, "height": 48, **fields}


@pytest.mark.parametrize(
    ("lines", "line", "message"),
    [
        (
            [row_line("ik-0"), row_line("ik-1", annotations=[{"name": "car", "bbox": box()}])],
            2,
            'unknown key "annotations"; did you mean "labels"?',
        ),
        ([row_line("ik-0", media_type="IMAGE")], 1, 'unknown key "media_type"; did you mean "mediaType"?'),
        (
            [row_line("ik-0", labels=[{"name": "car", "bbox": box()}, {"name": "car", "bbox": {**box(), "hieght": 3}}])],
            1,
            "label 2 of 'ik-0': unknown key \"hieght\" in bbox of 'car'; did you mean \"height\"?",
        ),
        (
            [row_line("ik-0", labels=[{"dataRow": {"globalKey": "ik-9"}, "name": "car", "bbox": box()}])],
            1,
            "label 1 of 'ik-0': a label belongs to the row of its line and takes no \"dataRow\"",
        ),
    ],
    ids=["annotations for labels", "snake case key", "nested label key", "label with its own row"],
)
def test_data_row_lines_with_unknown_keys_record_nothing(
    live: LiveServer, scenario: Scenario, lines: list[dict[str, Any]], line: int, message: str
) -> None:
    before = state(live, scenario)
    assert only_error(live.writer.upload(rows_path(scenario), lines)) == (line, message)
    assert state(live, scenario) == before


def test_a_misspelt_confidence_is_refused_not_dropped(live: LiveServer, scenario: Scenario) -> None:
    before = state(live, scenario)
    line = {"dataRow": {"globalKey": "up-0"}, "name": "car", "bbox": box(), "confidance": 0.9}
    response = live.writer.upload(predictions_path(scenario), [GOOD, line])
    assert only_error(response) == (2, 'unknown key "confidance"; did you mean "confidence"?')
    assert state(live, scenario) == before


@pytest.mark.parametrize(
    ("label", "media", "message"),
    [
        (
            {"name": "car", "bbox": box()},
            {"mediaType": "TEXT"},
            "label 1 of 'mk-0': bbox of 'car' does not fit the data row's mediaType TEXT; a bbox needs "
            "mediaType IMAGE, VIDEO, DICOM, GEOSPATIAL_TILE or DOCUMENT",
        ),
        (
            {"name": "person", "location": {"start": 0, "end": 4}},
            {},
            "label 1 of 'mk-0': location of 'person' does not fit the data row's mediaType IMAGE; a location "
            "needs mediaType TEXT, HTML, CONVERSATION, JSON or DOCUMENT",
        ),
        (
            {"name": "eye", "point": {"x": 1000, "y": -50}},
            {},
            "label 1 of 'mk-0': point of 'eye' (x 1000, y -50) lies outside the data row's image (x 0 to 64, y 0 to 48)",
        ),
        (
            {"name": "car", "bbox": {"top": 100, "left": 2.5, "height": 3, "width": 4}},
            {},
            "label 2 of 'mk-0': bbox of 'car' (x 2.5 to 6.5, y 100 to 103) lies entirely outside the data row's "
            "image (x 0 to 64, y 0 to 48)",
        ),
    ],
    ids=["box on text", "span on image", "point far outside", "box entirely outside"],
)
def test_labels_that_do_not_fit_their_row_record_nothing(
    live: LiveServer, scenario: Scenario, label: dict[str, Any], media: dict[str, Any], message: str
) -> None:
    before = state(live, scenario)
    # After a label that fits, when the one that does not is a box.
    labels = [{"name": "car", "bbox": box()}, label] if "bbox" in label and not media else [label]
    response = live.writer.upload(rows_path(scenario), [row_line("mk-0", labels=labels, **media)])
    assert only_error(response) == (1, message)
    assert state(live, scenario) == before


def test_a_box_partly_outside_its_image_is_fine(live: LiveServer) -> None:
    # COCO data has those: only what lies entirely outside is refused.
    s = build_scenario(live.writer, rows=1, prefix="po")
    lines = [row_line("po-x", labels=[{"name": "car", "bbox": box(left=-5, top=40, width=20, height=20)}])]
    assert live.writer.upload(f"/upload/datasets/{s.dataset_id}/data-rows", lines).status_code == 200


def test_metadata_labels_and_custom_metric_lines_say_what_is_missing(live: LiveServer, scenario: Scenario) -> None:
    before = state(live, scenario)
    metadata = f"/upload/datasets/{scenario.dataset_id}/metadata"
    labels = f"/upload/datasets/{scenario.dataset_id}/labels"
    metrics = f"/upload/model-runs/{scenario.run_id}/custom-metrics"
    row = {"dataRow": {"globalKey": "up-0"}}
    cases = [
        (metadata, [row | {"metadata": {"city": "Oslo"}}, {"metadata": {"city": "Oslo"}}], 2,
         f'missing "dataRow"; expected {EXPECTED_ROW}, "metadata": {{key: value}}}}'),
        (metadata, [row], 1, f'missing "metadata"; expected {EXPECTED_ROW}, "metadata": {{key: value}}}}'),
        (metadata, [row | {"meta": {"city": "Oslo"}}], 1, 'unknown key "meta"; did you mean "metadata"?'),
        (metadata, [{"dataRow": {"global_key": "up-0"}, "metadata": {"city": "Oslo"}}], 1,
         'unknown key "global_key" in dataRow; did you mean "globalKey"?'),
        (metadata, [{"dataRow": {"globalKey": "nope"}, "metadata": {"city": "Oslo"}}], 1,
         f"data row with globalKey 'nope' is not in dataset {scenario.dataset_id}"),
        (labels, [{"labels": []}], 1, f'missing "dataRow"; expected {EXPECTED_ROW}, "labels": [label, ...]}}'),
        (labels, [row | {"annotations": []}], 1, 'unknown key "annotations"; did you mean "labels"?'),
        (labels, [row | {"labels": [{"name": "car", "bbox": box(), "confidance": 1}]}], 1,
         "label 1 of 'up-0': unknown key \"confidance\"; did you mean \"confidence\"?"),
        (metrics, [{"metricName": "blur", "metricValue": 0.5}], 1,
         f'missing "dataRow"; expected {EXPECTED_ROW}, "metricName": "...", "metricValue": number | '
         '{confidence: number}, "featureName"?: "...", "aggregation"?: "ARITHMETIC_MEAN" | "GEOMETRIC_MEAN" | '
         '"HARMONIC_MEAN" | "SUM"}'),
        (metrics, [row | {"metricName": "blur", "metricValu": 0.5}], 1, 'unknown key "metricValu"; did you mean "metricValue"?'),
    ]
    for path, lines, line, message in cases:
        assert only_error(live.writer.upload(path, lines)) == (line, message), (path, lines)
    assert state(live, scenario) == before


def test_a_line_error_does_not_repeat_its_line_number(live: LiveServer, scenario: Scenario) -> None:
    # The line travels in its own field; the message is what is wrong with it.
    response = live.writer.upload(rows_path(scenario), [row_line("up-0")])
    assert only_error(response) == (1, f"globalKey 'up-0' already exists in dataset {scenario.dataset_id}")


def test_predictions_entirely_outside_their_image_record_nothing(live: LiveServer, scenario: Scenario) -> None:
    # The rows are 640x480. The plain box takes the columns' fast path, the same box with a
    # "uuid" the general parser: both are refused, in the same words.
    before = state(live, scenario)
    far = {"dataRow": {"globalKey": "up-1"}, "name": "car", "bbox": box(left=1000, top=1000)}
    response = live.writer.upload(predictions_path(scenario), [GOOD, far, {**far, "uuid": "a1"}])
    message = "bbox of 'car' (x 1000 to 1020, y 1000 to 1020) lies entirely outside the data row's image (x 0 to 640, y 0 to 480)"
    assert rejected(response) == [{"line": 2, "message": message}, {"line": 3, "message": message}]
    assert state(live, scenario) == before


def test_crowd_regions_are_refused_on_predictions(live: LiveServer, scenario: Scenario) -> None:
    # A crowd region is ground truth (docs/metrics.md §9); on a prediction it means nothing.
    before = state(live, scenario)
    line = {"dataRow": {"globalKey": "up-1"}, "name": "car", "bbox": box(), "iscrowd": True}
    response = live.writer.upload(predictions_path(scenario), [GOOD, line])
    assert rejected(response)[0]["line"] == 2 and "iscrowd" in rejected(response)[0]["message"]
    assert state(live, scenario) == before
