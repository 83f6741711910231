"""Uploads sent with an `Idempotency-Key`: a repeat (a retry after a lost answer) gets the
first answer back and records nothing; a key is its caller's, on one route; a key reused for
another body, or malformed, is refused by name."""

from __future__ import annotations

import gzip
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import orjson

from tests.server.live import LiveServer
from tests.server.operations import (
    CREATE_DATASET,
    build_scenario,
    data_row_lines,
    payload,
    prediction_lines,
)

RUN = "query($id: ID!) { modelRun(id: $id) { version history { nodes { version type } } } }"
DATASET = "query($id: ID!) { dataset(id: $id) { version rowCount } }"


def _post(live: LiveServer, path: str, body: bytes, key: str | None, api_key: str | None = None, **headers: str) -> httpx.Response:
    sent = {"Content-Type": "application/x-ndjson", "Authorization": f"Bearer {api_key or live.write_key}", **headers}
    if key is not None:
        sent["Idempotency-Key"] = key
    return httpx.post(live.url + path, content=body, headers=sent, timeout=60)


def _ndjson(lines: list[dict[str, Any]]) -> bytes:
    return b"\n".join(orjson.dumps(line) for line in lines) + b"\n"


def _run(live: LiveServer, run_id: str) -> dict[str, Any]:
    return live.reader.data(RUN, id=run_id)["modelRun"]  # type: ignore[no-any-return]


def test_a_repeated_prediction_upload_is_answered_as_the_first_and_recorded_once(live: LiveServer) -> None:
    s = build_scenario(live.writer, rows=3, prefix="ia")
    path = f"/upload/model-runs/{s.run_id}/predictions"
    body = _ndjson(prediction_lines(3, "ia"))
    first = _post(live, path, body, "upload-0001")
    assert first.status_code == 200, first.text
    assert "Idempotent-Replayed" not in first.headers
    after_first = _run(live, s.run_id)

    again = _post(live, path, body, "upload-0001")
    assert again.status_code == 200 and again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    # Sent gzipped this time: the same request, whatever its encoding.
    zipped = _post(live, path, gzip.compress(body), "upload-0001", **{"Content-Encoding": "gzip"})
    assert zipped.status_code == 200 and zipped.json() == first.json()
    assert _run(live, s.run_id) == after_first  # no new version, no new history entry

    # Without a key, or with a new one, the same body is a new upload.
    assert _post(live, path, body, None).json()["version"] == first.json()["version"] + 1
    assert _post(live, path, body, "upload-0002").json()["version"] == first.json()["version"] + 2


def test_a_key_reused_for_another_body_is_refused_and_records_nothing(live: LiveServer) -> None:
    s = build_scenario(live.writer, rows=3, prefix="ib")
    path = f"/upload/model-runs/{s.run_id}/predictions"
    assert _post(live, path, _ndjson(prediction_lines(3, "ib")), "reused").status_code == 200
    before = _run(live, s.run_id)
    other = _post(live, path, _ndjson(prediction_lines(2, "ib", confidence=0.4)), "reused")
    assert other.status_code == 422
    message = other.json()["errors"][0]["message"]
    assert "'reused'" in message and "another request body" in message
    assert _run(live, s.run_id) == before


def test_a_key_belongs_to_its_caller_and_route(live: LiveServer) -> None:
    s = build_scenario(live.writer, rows=2, prefix="ic")
    _, other_key = live.runtime.app.create_api_key("second writer", read_only=False, actor="test set-up")
    predictions = f"/upload/model-runs/{s.run_id}/predictions"
    body = _ndjson(prediction_lines(2, "ic"))
    first = _post(live, predictions, body, "shared")
    by_other = _post(live, predictions, body, "shared", api_key=other_key)
    assert by_other.status_code == 200 and by_other.json()["version"] == first.json()["version"] + 1
    assert "Idempotent-Replayed" not in by_other.headers
    custom = _ndjson([{"dataRow": {"globalKey": "ic-0"}, "metricName": "blur", "metricValue": 0.5}])
    on_other_route = _post(live, f"/upload/model-runs/{s.run_id}/custom-metrics", custom, "shared")
    assert on_other_route.status_code == 200 and "Idempotent-Replayed" not in on_other_route.headers


def test_malformed_keys_are_refused_by_name(live: LiveServer) -> None:
    s = build_scenario(live.writer, rows=1, prefix="id")
    path = f"/upload/model-runs/{s.run_id}/predictions"
    before = _run(live, s.run_id)
    for bad in ("two words", "x" * 256, ""):
        refused = _post(live, path, _ndjson(prediction_lines(1, "id")), bad)
        assert refused.status_code == 400, (bad, refused.text)
        assert "Idempotency-Key" in refused.json()["errors"][0]["message"]
    assert _run(live, s.run_id) == before


def test_a_data_row_upload_repeated_at_once_lands_once(live: LiveServer) -> None:
    """Eight copies of one request at the same moment: one write, eight equal answers (a row
    upload repeated without a key would be refused as 'already exists')."""
    dataset = payload(live.writer.data(CREATE_DATASET, name="ie dataset"), "createDataset")["dataset"]["id"]
    path = f"/upload/datasets/{dataset}/data-rows"
    body = _ndjson(data_row_lines(20, "ie"))
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: _post(live, path, body, "rows-batch-1"), range(8)))
    assert [a.status_code for a in answers] == [200] * 8, [a.text for a in answers]
    assert len({a.content for a in answers}) == 1
    assert sum(a.headers.get("Idempotent-Replayed") == "true" for a in answers) == 7
    shown = live.reader.data(DATASET, id=dataset)["dataset"]
    assert shown == {"version": answers[0].json()["version"], "rowCount": 20}
    without_key = _post(live, path, body, None)
    assert without_key.status_code == 422 and "already" in without_key.text


def test_a_repeated_key_with_a_broken_gzip_body_is_refused_by_name(live: LiveServer) -> None:
    """The body of a request whose key was answered before is read to the end (for its
    digest) before any line is; a gzip body that does not inflate is refused there too,
    with the reason, and changes nothing. (It was answered 500.)"""
    s = build_scenario(live.writer, rows=2, prefix="ig")
    path = f"/upload/model-runs/{s.run_id}/predictions"
    body = _ndjson(prediction_lines(2, "ig"))
    assert _post(live, path, body, "upload-gz").status_code == 200
    before = _run(live, s.run_id)

    for broken, reason in ((body, "not valid gzip"), (gzip.compress(body)[:15], "ends before its end")):
        refused = _post(live, path, broken, "upload-gz", **{"Content-Encoding": "gzip"})
        assert refused.status_code == 422, refused.text
        assert reason in refused.json()["errors"][0]["message"]
    assert _run(live, s.run_id) == before
