"""Comparing two runs in real Chromium against a live server: the seeded run (A) against its
model's second run (B), given predictions here that find every car. Every delta and interval
the view shows is the API's, each run's confusion matrix and objects per feature are that
run's, bars and rows open the right run's gallery, and each run is read at its version."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.server.live import LiveServer
from tests.web.conftest import SCREENSHOTS, BrowserWatch
from tests.web.seed import IMAGE_ROWS, SeededRun, _car
from tests.web.test_run_config import sign_in
from tests.web.test_web_app import query_of, wait_for_count

RUNS = "query($id: ID!) { model(id: $id) { modelRuns { nodes { id name } } } }"
STATUS = "query($id: ID!) { modelRun(id: $id) { metricsStatus { state } } }"
COMPARE = """query($a: ID!, $b: ID!, $metric: String!, $va: Int, $vb: Int) {
  compareModelRuns(runA: $a, runB: $b, confidence: 0.5, iou: 0.5, metric: $metric, versionA: $va, versionB: $vb) {
  commonDataRows deltas { feature metric delta low high significant } worseDataRows { totalCount nodes { dataRow { globalKey } } } } }"""
CHARTS = """query($id: ID!, $version: Int) { modelRun(id: $id, version: $version) { version
  confusionMatrix(confidence: 0.5, iou: 0.5) { cells { groundTruth prediction count dataRows } }
  predictionDistribution(confidence: 0.5) { nodes { feature objects dataRows } } } }"""
CELLS = "cs => cs.filter(c => c.dataset.rows !== '0').map(c => [c.dataset.gt, c.dataset.pred, +c.textContent])"


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


def _wait_in_sync(live: LiveServer, run_id: str) -> int:
    """Waits for the run's metrics; its version then."""
    deadline = time.monotonic() + 120
    while live.reader.data(STATUS, id=run_id)["modelRun"]["metricsStatus"]["state"] != "IN_SYNC":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    return int(live.reader.data(CHARTS, id=run_id, version=None)["modelRun"]["version"])


def expected_deltas(live: LiveServer, a: str, b: str, va: int | None = None, vb: int | None = None) -> list[list[Any]]:
    answer = live.reader.data(COMPARE, a=a, b=b, metric="f1", va=va, vb=vb)["compareModelRuns"]
    return [[d["feature"], d["metric"], d["delta"], d["low"], d["high"]] for d in answer["deltas"]]


SHOWS = """expected => {
  const rows = [...document.querySelectorAll('[data-testid="compare-delta"]')].map(r => [r.dataset.feature || null, r.dataset.metric,
    ...['delta', 'low', 'high'].map(k => r.dataset[k] === '' ? null : +r.dataset[k])]);
  return JSON.stringify(rows) === JSON.stringify(expected);
}"""


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
    page.locator('[data-testid="compare-confusion"][data-run="b"] [data-testid="confusion-cell"]').first.wait_for()
    page.locator('[data-testid="histogram-bar"][data-chart="predictions"][data-run="b"]').first.wait_for(state="attached")
    page.screenshot(path=str(SCREENSHOTS / "compare.png"), full_page=True)


def test_both_confusion_matrices_are_each_run_s(page: Any, live: LiveServer, seeded: SeededRun, run_b: str) -> None:
    expected = {}
    for side, run_id in (("a", seeded.run_id), ("b", run_b)):
        cells = live.reader.data(CHARTS, id=run_id, version=None)["modelRun"]["confusionMatrix"]["cells"]
        expected[side] = sorted([c["groundTruth"] or "None", c["prediction"] or "None", c["count"]] for c in cells)
        matrix = page.locator(f'[data-testid="compare-confusion"][data-run="{side}"] [data-testid="confusion-cell"]')
        assert sorted(matrix.evaluate_all(CELLS)) == expected[side]
    assert expected["a"] != expected["b"]
    # A missed 3 cars (street-07, 08, 09); B none.
    missed = '[data-testid="compare-confusion"][data-run="{}"] [data-testid="confusion-cell"][data-gt="car"][data-pred="None"]'
    assert page.locator(missed.format("a")).inner_text() == "3"
    assert page.locator(missed.format("b")).inner_text() == "0"


def test_a_distribution_bar_of_b_opens_b_s_gallery_on_its_rows(page: Any, live: LiveServer, seeded: SeededRun, run_b: str) -> None:
    entries = live.reader.data(CHARTS, id=run_b, version=None)["modelRun"]["predictionDistribution"]["nodes"]
    car = next(e for e in entries if e["feature"] == "car")
    assert car["objects"] == car["dataRows"] == IMAGE_ROWS  # a car on every street row
    bar = page.locator('[data-testid="histogram-bar"][data-chart="predictions"][data-run="b"][data-label="car"]')
    assert bar.get_attribute("data-count") == str(car["objects"])
    assert bar.get_attribute("data-rows") == str(car["dataRows"])
    bar.click()
    page.wait_for_url(f"**/runs/{run_b}/gallery?**")
    wait_for_count(page, car["dataRows"])
    page.go_back()
    page.get_by_test_id("compare-delta").first.wait_for()


def test_rows_where_b_is_worse_open_in_b_s_gallery(page: Any, live: LiveServer, seeded: SeededRun, run_b: str) -> None:
    # B predicts no person: worse than A on recall wherever A found the person.
    page.get_by_test_id("compare-metric").select_option("recall")
    answer = live.reader.data(COMPARE, a=seeded.run_id, b=run_b, metric="recall")["compareModelRuns"]["worseDataRows"]
    assert answer["totalCount"] > 0
    page.wait_for_function("n => document.querySelectorAll('[data-testid=\"compare-worse-row\"]').length === n", arg=len(answer["nodes"]))
    page.get_by_test_id("compare-worse-gallery").click()
    page.wait_for_url(f"**/runs/{run_b}/gallery?**")
    wait_for_count(page, len(answer["nodes"]))


def test_the_comparison_at_an_older_version_of_b_shows_that_version_s_deltas(
    page: Any, live: LiveServer, seeded: SeededRun, run_b: str
) -> None:
    finding = _wait_in_sync(live, run_b)
    # B then misses every car: a new version with other figures.
    lines = [{"dataRow": {"globalKey": f"street-{i:02d}"}, "name": "car", "bbox": {**_car(i), "top": 10.0}, "confidence": 0.9} for i in range(IMAGE_ROWS)]
    assert live.writer.upload(f"/upload/model-runs/{run_b}/predictions", lines).status_code == 200
    missing = _wait_in_sync(live, run_b)
    assert missing > finding
    then, now = expected_deltas(live, seeded.run_id, run_b, vb=finding), expected_deltas(live, seeded.run_id, run_b)
    assert then != now
    page.goto(f"/compare/{seeded.run_id}/{run_b}")
    page.wait_for_function(SHOWS, arg=now)
    page.locator('[data-testid="version-select"][data-run="b"]').select_option(str(finding))
    page.wait_for_url(f"**versionB={finding}**")
    page.wait_for_function(SHOWS, arg=then)
    assert query_of(page).get("version") is None
    # B's figures are those of that version, and its links carry it.
    cells = live.reader.data(CHARTS, id=run_b, version=finding)["modelRun"]["confusionMatrix"]["cells"]
    matrix = page.locator('[data-testid="compare-confusion"][data-run="b"] [data-testid="confusion-cell"]')
    page.wait_for_function(
        "n => document.querySelector('[data-testid=\"compare-confusion\"][data-run=\"b\"] [data-testid=\"confusion-cell\"][data-gt=\"car\"][data-pred=\"car\"]').textContent === String(n)",
        arg=next(c["count"] for c in cells if c["groundTruth"] == c["prediction"] == "car"),
    )
    assert sorted(matrix.evaluate_all(CELLS)) == sorted([c["groundTruth"] or "None", c["prediction"] or "None", c["count"]] for c in cells)
    page.locator('[data-testid="histogram-bar"][data-chart="predictions"][data-run="b"][data-label="car"]').click()
    page.wait_for_url(f"**/runs/{run_b}/gallery?**")
    assert query_of(page)["version"] == [str(finding)]
    wait_for_count(page, IMAGE_ROWS)


def test_a_version_run_b_does_not_have_is_a_visible_error(page: Any, seeded: SeededRun, run_b: str) -> None:
    for bad, message in (("99", "versionB=99 is past run B's latest version"), ("x", 'versionB="x" is not a version')):
        page.goto(f"/compare/{seeded.run_id}/{run_b}?versionB={bad}")
        page.get_by_test_id("param-error").filter(has_text=message).wait_for()


def test_no_console_errors_and_no_request_to_another_host(watch: BrowserWatch) -> None:
    assert watch.console_errors == []
    assert watch.foreign_requests == []


@pytest.fixture(autouse=True, scope="module")
def _screenshots_folder() -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
