"""The run's Export menu in real Chromium against a live server: the file downloaded is the
one `GET /export/runs/{runId}` answers for the version and grid point on screen."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

from tests.server.live import LiveServer
from tests.web.conftest import BrowserWatch
from tests.web.seed import SeededRun
from tests.web.test_run_config import sign_in

ROWS = "query($id: ID!, $v: Int) { modelRun(id: $id, version: $v) { version dataRows(first: 1) { totalCount } } }"


def download(page: Any, export_format: str, target: Path) -> tuple[str, bytes]:
    with page.expect_download() as started:
        page.get_by_test_id("export-run").select_option(export_format)
    done = started.value
    path = target / done.suggested_filename
    done.save_as(str(path))
    return done.suggested_filename, path.read_bytes()


def route_answer(live: LiveServer, run_id: str, **query: Any) -> bytes:
    response = live.reader.client.get(f"/export/runs/{run_id}", params=query)
    assert response.status_code == 200, response.text
    return response.content


def test_ndjson_at_the_grid_point_shown(page: Any, live: LiveServer, seeded: SeededRun, tmp_path: Path) -> None:
    sign_in(page, live.read_key)
    page.goto(f"/runs/{seeded.run_id}/gallery?confidence=0.8")
    page.get_by_test_id("export-run").wait_for()
    name, body = download(page, "ndjson", tmp_path)
    run = live.reader.data(ROWS, id=seeded.run_id)["modelRun"]
    assert name == f"baseline-v{run['version']}.ndjson"
    assert body == route_answer(live, seeded.run_id, format="ndjson", confidence=0.8, iou=0.5)
    lines = [json.loads(line) for line in body.splitlines()]
    assert len(lines) == run["dataRows"]["totalCount"]
    assert {line["metrics"]["confidence"] for line in lines} == {0.8}
    assert any(line["predictions"] for line in lines)


def test_an_older_version_exports_that_version(page: Any, live: LiveServer, seeded: SeededRun, tmp_path: Path) -> None:
    page.goto(f"/runs/{seeded.run_id}/gallery?version=1")
    page.get_by_test_id("version-marker").wait_for()
    name, body = download(page, "ndjson", tmp_path)
    assert name == "baseline-v1.ndjson"
    lines = [json.loads(line) for line in body.splitlines()]
    at_one = live.reader.data(ROWS, id=seeded.run_id, v=1)["modelRun"]["dataRows"]["totalCount"]
    assert len(lines) == at_one
    # Version 1 is the run before its predictions.
    assert not any(line["predictions"] for line in lines)


def test_coco_is_a_zip_of_ground_truth_and_results(page: Any, live: LiveServer, seeded: SeededRun, tmp_path: Path) -> None:
    page.goto(f"/runs/{seeded.run_id}/metrics")
    page.get_by_test_id("export-run").wait_for()
    name, body = download(page, "coco", tmp_path)
    assert name.endswith(".coco.zip")
    with zipfile.ZipFile(io.BytesIO(body)) as files:
        names = set(files.namelist())
        assert {"instances.json", "results.json"} <= names
        results = json.loads(files.read("results.json"))
    assert results and all("score" in r for r in results)


def test_no_console_errors_and_no_request_to_another_host(watch: BrowserWatch) -> None:
    assert watch.console_errors == []
    assert watch.foreign_requests == []
