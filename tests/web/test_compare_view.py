"""Comparing two runs in real Chromium against a live server: the seeded run (A) against its
model's second run (B), given predictions here that find every car. Every delta and interval
the view shows is the API's, and the rows where B is worse open in B's gallery."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.server.live import LiveServer
from tests.web.conftest import SCREENSHOTS, BrowserWatch
from tests.web.seed import IMAGE_ROWS, SeededRun, _car
from tests.web.test_run_config import sign_in
from tests.web.test_web_app import wait_for_count

RUNS = "query($id: ID!) { model(id: $id) { modelRuns { nodes { id name } } } }"
STATUS = "query($id: ID!) { modelRun(id: $id) { metricsStatus { state } } }"
COMPARE = """query($a: ID!, $b: ID!, $metric: String!) { compareModelRuns(runA: $a, runB: $b, confidence: 0.5, iou: 0.5, metric: $metric) {
  commonDataRows deltas { feature metric delta low high significant } worseDataRows { totalCount nodes { dataRow { globalKey } } } } }"""


@pytest.fixture(scope="module")
def run_b(live: LiveServer, seeded: SeededRun) -> str:
    """The model's second run, with a car on every car label (and nothing else)."""
    runs = {r["name"]: r["id"] for r in live.reader.data(RUNS, id=seeded.model_id)["model"]["modelRuns"]["nodes"]}
    run_id = runs["night-augmented"]
    lines = [{"dataRow": {"globalKey": f"street-{i:02d}"}, "name": "car", "bbox": _car(i), "confidence": 0.9} for i in range(IMAGE_ROWS)]
    answer = live.writer.upload(f"/upload/model-runs/{run_id}/predictions", lines)
    assert answer.status_code == 200, answer.text
    deadline = time.monotonic() + 120
    while live.reader.data(STATUS, id=run_id)["modelRun"]["metricsStatus"]["state"] != "IN_SYNC":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    return run_id  # type: ignore[no-any-return]


def shown_deltas(page: Any) -> list[list[Any]]:
    return page.get_by_test_id("compare-delta").evaluate_all(  # type: ignore[no-any-return]
        "rows => rows.map(r => [r.dataset.feature || null, r.dataset.metric,"
        " ...['delta', 'low', 'high'].map(k => r.dataset[k] === '' ? null : +r.dataset[k])])"
    )


def test_the_deltas_and_intervals_are_the_api_s(page: Any, live: LiveServer, seeded: SeededRun, run_b: str) -> None:
    sign_in(page, live.read_key)
    page.goto(f"/runs/{seeded.run_id}/gallery")
    page.get_by_test_id("compare-with").select_option(run_b)
    page.wait_for_url(f"**/compare/{seeded.run_id}/{run_b}**")
    page.get_by_test_id("compare-delta").first.wait_for()
    answer = live.reader.data(COMPARE, a=seeded.run_id, b=run_b, metric="f1")["compareModelRuns"]
    assert answer["commonDataRows"] == IMAGE_ROWS
    expected = [[d["feature"], d["metric"], d["delta"], d["low"], d["high"]] for d in answer["deltas"]]
    assert shown_deltas(page) == expected
    car = {d["metric"]: d for d in answer["deltas"] if d["feature"] == "car"}
    assert car["recall"]["delta"] == pytest.approx(10 / 10 - 7 / 10)  # B finds the 3 cars A missed
    assert car["recall"]["low"] <= car["recall"]["delta"] <= car["recall"]["high"]
    page.screenshot(path=str(SCREENSHOTS / "compare.png"), full_page=True)


def test_rows_where_b_is_worse_open_in_b_s_gallery(page: Any, live: LiveServer, seeded: SeededRun, run_b: str) -> None:
    # B predicts no person: worse than A on recall wherever A found the person.
    page.get_by_test_id("compare-metric").select_option("recall")
    answer = live.reader.data(COMPARE, a=seeded.run_id, b=run_b, metric="recall")["compareModelRuns"]["worseDataRows"]
    assert answer["totalCount"] > 0
    page.wait_for_function("n => document.querySelectorAll('[data-testid=\"compare-worse-row\"]').length === n", arg=len(answer["nodes"]))
    page.get_by_test_id("compare-worse-gallery").click()
    page.wait_for_url(f"**/runs/{run_b}/gallery?**")
    wait_for_count(page, len(answer["nodes"]))


def test_no_console_errors_and_no_request_to_another_host(watch: BrowserWatch) -> None:
    assert watch.console_errors == []
    assert watch.foreign_requests == []


@pytest.fixture(autouse=True, scope="module")
def _screenshots_folder() -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
