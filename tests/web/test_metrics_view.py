"""The metrics view in real Chromium against a live server and the seeded run: every figure
it shows is the API's, and every bar, bin and cell opens the gallery on exactly the rows it
counts. The tests run in order on one page, as a user would."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from tests.server.live import LiveServer
from tests.web.conftest import SCREENSHOTS, BrowserWatch
from tests.web.seed import SeededRun
from tests.web.test_run_config import sign_in
from tests.web.test_web_app import query_of, wait_for_count

METRICS = """query($id: ID!, $c: Float!, $t: Float!, $filter: DataRowFilter) { modelRun(id: $id) {
  metrics(confidence: $c, iou: $t, filter: $filter) { features { feature precision recall f1 iou } }
  confusionMatrix(confidence: $c, iou: $t, filter: $filter) { cells { groundTruth prediction count dataRows filter } }
  precisionRecallCurve(iou: $t) { confidence precision recall } } }"""
HISTOGRAM = """query($id: ID!, $c: Float!, $t: Float!) { modelRun(id: $id) {
  metricHistogram(metric: "f1", confidence: $c, iou: $t) { bins { min max dataRows filter sort } } } }"""


def api(live: LiveServer, run_id: str, c: float = 0.5, t: float = 0.5, filter_: Any = None) -> dict[str, Any]:
    return live.reader.data(METRICS, id=run_id, c=c, t=t, filter=filter_)["modelRun"]  # type: ignore[no-any-return]


# The feature rows' figures as numbers (an empty attribute is null), by feature.
SHOWN_FEATURES = (
    "Object.fromEntries([...document.querySelectorAll('[data-testid=\"feature-metric\"]')].map(r => [r.dataset.feature,"
    " Object.fromEntries(['precision', 'recall', 'f1', 'iou'].map(k => [k, r.dataset[k] === '' ? null : +r.dataset[k]]))]))"
)
SHOWS = "want => JSON.stringify(" + SHOWN_FEATURES + ") === JSON.stringify(want)"


def shown_features(page: Any) -> dict[str, dict[str, float | None]]:
    return page.evaluate("() => " + SHOWN_FEATURES)  # type: ignore[no-any-return]


def expected_features(answer: dict[str, Any]) -> dict[str, dict[str, float | None]]:
    return {m["feature"]: {k: m[k] for k in ("precision", "recall", "f1", "iou")} for m in answer["metrics"]["features"]}


def open_metrics(page: Any, run_id: str, query: str = "") -> None:
    page.goto(f"/runs/{run_id}/metrics{query}")
    page.get_by_test_id("feature-metric").first.wait_for()


def test_feature_metrics_are_the_api_s(page: Any, live: LiveServer, seeded: SeededRun) -> None:
    sign_in(page, live.read_key)
    open_metrics(page, seeded.run_id)
    expected = expected_features(api(live, seeded.run_id))
    assert shown_features(page) == expected
    assert expected["car"]["precision"] == 0.7  # 7 of the 10 car predictions hit their label
    page.get_by_test_id("confusion-cell").first.wait_for()
    page.get_by_test_id("pr-point").first.wait_for()
    page.locator('[data-testid="histogram-bar"][data-chart="f1"]').first.wait_for(state="attached")
    page.screenshot(path=str(SCREENSHOTS / "metrics.png"), full_page=True)


def test_a_threshold_change_gives_the_api_s_numbers_there(page: Any, live: LiveServer, seeded: SeededRun) -> None:
    page.get_by_test_id("confidence-threshold").select_option("0.3")
    page.wait_for_function("() => new URLSearchParams(location.search).get('confidence') === '0.3'")
    expected = expected_features(api(live, seeded.run_id, c=0.3))
    page.wait_for_function(SHOWS, arg=expected)
    # person predictions of confidence 0.3 count now: its figures differ from those at 0.5
    assert expected["person"] != expected_features(api(live, seeded.run_id))["person"]
    page.get_by_test_id("confidence-threshold").select_option("0.5")
    page.wait_for_function("() => new URLSearchParams(location.search).get('confidence') === '0.5'")


def test_the_pr_points_are_the_api_s_with_the_current_one_marked(page: Any, live: LiveServer, seeded: SeededRun) -> None:
    curve = [p for p in api(live, seeded.run_id)["precisionRecallCurve"] if p["precision"] is not None and p["recall"] is not None]
    page.wait_for_function("n => document.querySelectorAll('[data-testid=\"pr-point\"]').length === n", arg=len(curve))
    shown = page.get_by_test_id("pr-point").evaluate_all("ps => ps.map(p => [+p.dataset.confidence, +p.dataset.precision, +p.dataset.recall, p.dataset.current])")
    # (Plot draws the larger, current point last: compare in threshold order.)
    assert sorted(s[:3] for s in shown) == sorted([p["confidence"], p["precision"], p["recall"]] for p in curve)
    assert [s[0] for s in shown if s[3] == "true"] == [0.5]


def test_a_confusion_cell_opens_the_gallery_on_its_rows(page: Any, live: LiveServer, seeded: SeededRun) -> None:
    cells = {(c["groundTruth"], c["prediction"]): c for c in api(live, seeded.run_id)["confusionMatrix"]["cells"]}
    missed = cells[("car", None)]
    cell = page.locator('[data-testid="confusion-cell"][data-gt="car"][data-pred="None"]')
    assert cell.inner_text() == str(missed["count"]) and missed["count"] == 3  # street-07, 08, 09
    cell.click()
    page.wait_for_url("**/gallery?**")
    wait_for_count(page, missed["dataRows"])
    assert json.loads(query_of(page)["filter"][0]) == missed["filter"]
    assert query_of(page)["confidence"] == ["0.5"] and query_of(page)["iou"] == ["0.5"]


def test_a_histogram_bin_opens_the_gallery_with_its_filter_and_sort(page: Any, live: LiveServer, seeded: SeededRun) -> None:
    open_metrics(page, seeded.run_id)
    bins = live.reader.data(HISTOGRAM, id=seeded.run_id, c=0.5, t=0.5)["modelRun"]["metricHistogram"]["bins"]
    fullest = max(bins, key=lambda b: b["dataRows"])
    label = "–".join(str(int(x)) if float(x).is_integer() else str(x) for x in (fullest["min"], fullest["max"]))  # as JS prints them
    bar = page.locator(f'[data-testid="histogram-bar"][data-chart="f1"][data-label="{label}"]')
    assert bar.get_attribute("data-count") == str(fullest["dataRows"])
    bar.click()
    page.wait_for_url("**/gallery?**")
    wait_for_count(page, fullest["dataRows"])
    assert json.loads(query_of(page)["filter"][0]) == fullest["filter"]
    assert json.loads(query_of(page)["sort"][0]) == fullest["sort"]


def test_the_split_and_the_filter_follow_into_every_chart(page: Any, live: LiveServer, seeded: SeededRun) -> None:
    wanted = {"all": [{"metadata": {"key": "camera", "equals": "front"}}]}
    open_metrics(page, seeded.run_id, "?filter=" + json.dumps(wanted) + "&split=TRAINING")
    folded = {"all": [*wanted["all"], {"split": ["TRAINING"]}]}
    page.wait_for_function(SHOWS, arg=expected_features(api(live, seeded.run_id, filter_=folded)))
    cells = api(live, seeded.run_id, filter_=folded)["confusionMatrix"]["cells"]
    shown = page.get_by_test_id("confusion-cell").evaluate_all("cs => cs.filter(c => c.dataset.rows !== '0').map(c => [c.dataset.gt, c.dataset.pred, +c.textContent])")
    assert sorted(shown) == sorted([c["groundTruth"] or "None", c["prediction"] or "None", c["count"]] for c in cells)


def test_a_distribution_bar_opens_the_rows_with_that_feature(page: Any, live: LiveServer, seeded: SeededRun) -> None:
    open_metrics(page, seeded.run_id)
    bar = page.locator('[data-testid="histogram-bar"][data-chart="annotations"][data-label="puddle"]')
    rows = int(bar.get_attribute("data-rows"))
    assert rows == 5  # every second street row has a puddle label
    bar.click()
    page.wait_for_url("**/gallery?**")
    wait_for_count(page, rows)


SETTINGS = "query($id: ID!) { modelRun(id: $id) { metricSettings { confidenceThresholds iouThresholds } metricsStatus { state } } }"


def test_the_threshold_lists_are_edited_and_the_metrics_follow(page: Any, live: LiveServer, seeded: SeededRun) -> None:
    sign_in(page, live.write_key)
    open_metrics(page, seeded.run_id)
    page.get_by_test_id("thresholds-edit").click()
    page.get_by_test_id("thresholds-iou").fill("0.5, lots")
    page.get_by_test_id("thresholds-save").click()
    assert 'IoU threshold "lots" is not a number' in page.get_by_test_id("thresholds-problem").inner_text()
    page.get_by_test_id("thresholds-confidence").fill("0.3, 0.5, 0.9")
    page.get_by_test_id("thresholds-iou").fill("0.50:0.70:0.10")
    page.get_by_test_id("thresholds-save").click()
    page.get_by_test_id("thresholds-editor").wait_for(state="detached")
    settings = live.reader.data(SETTINGS, id=seeded.run_id)["modelRun"]["metricSettings"]
    assert settings == {"confidenceThresholds": [0.3, 0.5, 0.9], "iouThresholds": [0.5, 0.6, 0.7]}
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=\"iou-threshold\"] option')].map(o => o.value).join() === '0.5,0.6,0.7'"
    )
    # The metrics are computed again for the new grid; then the view shows the API's numbers there.
    deadline = time.monotonic() + 120
    while live.reader.data(SETTINGS, id=seeded.run_id)["modelRun"]["metricsStatus"]["state"] != "IN_SYNC":
        assert time.monotonic() < deadline, "the metrics were not computed again in time"
        time.sleep(0.2)
    page.wait_for_function(SHOWS, arg=expected_features(api(live, seeded.run_id)))


def test_no_console_errors_and_no_request_to_another_host(watch: BrowserWatch) -> None:
    assert watch.console_errors == []
    assert watch.foreign_requests == []


@pytest.fixture(autouse=True, scope="module")
def _screenshots_folder() -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
