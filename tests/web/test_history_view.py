"""A run's history in real Chromium against a live server: every change listed as the API
has it, the diff of two versions, and a version opened in the gallery, marked as such."""

from __future__ import annotations

from typing import Any

from tests.server.live import LiveServer
from tests.web.conftest import BrowserWatch
from tests.web.seed import SeededRun
from tests.web.test_run_config import sign_in
from tests.web.test_web_app import wait_for_count

HISTORY = "query($id: ID!) { modelRun(id: $id) { version history(first: 100) { totalCount nodes { version type actor } } } }"
DIFF = """query($id: ID!, $from: Int!, $to: Int!) { modelRun(id: $id) { diff(fromVersion: $from, toVersion: $to) {
  rowsAdded predictionsChanged labelsChanged } } }"""
ROWS_AT = "query($id: ID!, $v: Int) { modelRun(id: $id, version: $v) { dataRows(first: 1) { totalCount nodes { predictions } } } }"


def test_every_change_is_listed_as_the_api_has_it(page: Any, live: LiveServer, seeded: SeededRun) -> None:
    sign_in(page, live.read_key)
    page.goto(f"/runs/{seeded.run_id}/gallery")
    page.get_by_test_id("view-tab-history").click()
    page.get_by_test_id("history-event").first.wait_for()
    history = live.reader.data(HISTORY, id=seeded.run_id)["modelRun"]["history"]
    shown = page.get_by_test_id("history-event").evaluate_all("rows => rows.map(r => [+r.dataset.version, r.children[3].textContent, r.children[4].textContent])")
    assert shown == [[e["version"], e["type"], e["actor"]] for e in history["nodes"]]
    assert len(shown) == history["totalCount"] >= 2


def test_the_diff_of_two_versions_is_the_api_s(page: Any, live: LiveServer, seeded: SeededRun) -> None:
    latest = live.reader.data(HISTORY, id=seeded.run_id)["modelRun"]["version"]
    page.locator('[data-testid="history-event"][data-version="1"]').get_by_test_id("diff-from").check()
    page.locator(f'[data-testid="history-event"][data-version="{latest}"]').get_by_test_id("diff-to").check()
    page.locator(f'[data-testid="run-diff"][data-from="1"][data-to="{latest}"]').wait_for()
    diff = live.reader.data(DIFF, id=seeded.run_id, **{"from": 1, "to": latest})["modelRun"]["diff"]
    assert page.get_by_test_id("diff-predictions").get_attribute("data-count") == str(len(diff["predictionsChanged"]))
    assert len(diff["predictionsChanged"]) == 12  # every row got its predictions after version 1
    assert page.get_by_test_id("diff-rows-added").get_attribute("data-count") == str(len(diff["rowsAdded"]))


def test_an_older_version_opens_in_the_gallery_marked_as_such(page: Any, live: LiveServer, seeded: SeededRun) -> None:
    page.locator('[data-testid="history-event"][data-version="1"]').get_by_role("link", name="view").click()
    page.wait_for_url("**/gallery?version=1")
    at_one = live.reader.data(ROWS_AT, id=seeded.run_id, v=1)["modelRun"]["dataRows"]
    wait_for_count(page, at_one["totalCount"])
    assert "viewing version 1 of" in page.get_by_test_id("version-marker").inner_text()
    # Version 1 is the run before its predictions: no card draws a prediction.
    assert at_one["nodes"][0]["predictions"] in (None, [])
    assert page.locator('[data-testid="overlay-object"][data-source="prediction"]').count() == 0


def test_no_console_errors_and_no_request_to_another_host(watch: BrowserWatch) -> None:
    assert watch.console_errors == []
    assert watch.foreign_requests == []
