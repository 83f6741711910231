"""The web app end to end, in real Chromium against a live server and a seeded run.

The tests run in order on one page (sign-in first), as a user would go through the app.
Every number the app shows is checked against what the API answers for the same question.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.server.live import LiveServer
from tests.web.conftest import SCREENSHOTS, BrowserWatch
from tests.web.seed import SeededRun

ROWS = """query($id: ID!, $filter: DataRowFilter, $sort: [DataRowSort!]) {
  modelRun(id: $id) { dataRows(filter: $filter, sort: $sort, confidence: 0.5, iou: 0.5, first: 100) {
    totalCount nodes { id globalKey labels predictions } } } }"""
DETAIL = """query($id: ID!, $row: ID!) { modelRun(id: $id) { dataRowDetail(id: $row, confidence: 0.5, iou: 0.5) {
  annotations { index feature outcome iou } predictions { index feature outcome iou } } } }"""
SLICES = "query($id: ID!) { modelRun(id: $id) { slices(confidence: 0.5, iou: 0.5) { name count } } }"


def rows(live: LiveServer, run_id: str, **variables: Any) -> dict[str, Any]:
    return live.reader.data(ROWS, id=run_id, **variables)["modelRun"]["dataRows"]  # type: ignore[no-any-return]


def gallery_keys(page: Any) -> list[str]:
    return page.eval_on_selector_all('[data-testid="gallery-item"]', "els => els.map(e => e.dataset.globalKey)")


def wait_for_count(page: Any, expected: int) -> None:
    page.wait_for_function(
        "n => { const c = document.querySelector('[data-testid=\"row-count\"]');"
        " return c && c.textContent === String(n) && document.querySelectorAll('[data-testid=\"gallery-item\"]').length === n }",
        arg=expected,
    )


def query_of(page: Any) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).query)


def expected_objects(node: dict[str, Any], confidence: float) -> int:
    """Labels and the predictions at or above the threshold (the seed has no checklists)."""
    predictions = [p for p in node["predictions"] or [] if p.get("confidence", 1) >= confidence]
    return len(node["labels"]) + len(predictions)


def test_sign_in_refuses_a_wrong_key_then_takes_the_right_one(page: Any, live: LiveServer, seeded: SeededRun, watch: BrowserWatch) -> None:
    page.goto("/")
    page.get_by_test_id("api-key-input").fill("mlk_not-a-key")
    # The refused key's 401 is expected here, and only here.
    watch.allowed_errors.append("401")
    page.get_by_test_id("api-key-submit").click()
    error = page.get_by_test_id("api-key-error")
    error.wait_for()
    assert "not accepted" in error.inner_text()

    page.get_by_test_id("api-key-input").fill(live.write_key)
    page.get_by_test_id("api-key-submit").click()
    run_row = page.locator(f'[data-testid="run-row"][data-run-id="{seeded.run_id}"]')
    run_row.wait_for()
    watch.allowed_errors.clear()
    cells = run_row.locator("td").all_inner_texts()
    assert cells[0] == seeded.run_name and cells[1] == "in sync"
    assert cells[2] == "12" and cells[3] == "37"  # data rows; predictions
    assert page.evaluate("localStorage.getItem('modelledger.apiKey')") == live.write_key
    page.screenshot(path=str(SCREENSHOTS / "directory.png"))


def test_the_gallery_counts_and_draws_what_the_api_holds(page: Any, live: LiveServer, seeded: SeededRun) -> None:
    page.get_by_role("link", name=seeded.run_name).click()
    expected = rows(live, seeded.run_id)
    wait_for_count(page, expected["totalCount"])
    assert page.get_by_test_id("row-count").inner_text() == str(expected["totalCount"]) == "12"
    # The default grid point is the threshold nearest 0.5, shown by both controls.
    assert page.get_by_test_id("confidence-threshold").input_value() == "0.5"
    assert page.get_by_test_id("iou-threshold").input_value() == "0.5"
    for node in expected["nodes"]:
        card = page.locator(f'[data-testid="gallery-item"][data-global-key="{node["globalKey"]}"]')
        drawn = card.get_by_test_id("overlay-object")
        assert drawn.count() == expected_objects(node, 0.5), node["globalKey"]
        assert card.locator('[data-source="label"]').count() == len(node["labels"])
    # Ground truth solid, predictions dashed; the mask's hole is part of its outline.
    first = page.locator('[data-testid="gallery-item"][data-global-key="street-00"]')
    assert first.locator('[data-source="label"][data-feature="car"] path').get_attribute("stroke-dasharray") is None
    assert first.locator('[data-source="prediction"][data-feature="car"] path').get_attribute("stroke-dasharray") == "6 4"
    assert first.locator('[data-source="label"][data-feature="puddle"]').count() == 1
    # street-00's person prediction has confidence 0.3: hidden at 0.5, drawn at 0.3.
    assert first.locator('[data-source="prediction"][data-feature="person"]').count() == 0
    page.get_by_test_id("confidence-threshold").select_option("0.3")
    first.locator('[data-source="prediction"][data-feature="person"]').wait_for()
    assert query_of(page)["confidence"] == ["0.3"]
    page.get_by_test_id("confidence-threshold").select_option("0.5")
    page.wait_for_function("() => new URLSearchParams(location.search).get('confidence') === '0.5'")
    # Text rows highlight their entities inline.
    note = page.locator('[data-testid="gallery-item"][data-global-key="note-0"]')
    note.locator("mark.ner").first.wait_for()
    assert note.locator('[data-feature="entity"]').count() == 2
    assert note.locator("mark.ner").first.inner_text() == "Ada Lovelace"
    page.screenshot(path=str(SCREENSHOTS / "gallery.png"))


def test_a_filter_built_in_the_bar_selects_the_rows_the_api_selects(page: Any, live: LiveServer, seeded: SeededRun) -> None:
    page.get_by_test_id("filter-add").click()
    page.get_by_test_id("filter-kind").select_option("metadata")
    page.get_by_test_id("filter-metadata-key").select_option("camera")
    page.get_by_test_id("filter-value").fill("front")
    page.get_by_test_id("filter-apply").click()
    wanted = {"all": [{"metadata": {"key": "camera", "equals": "front"}}]}
    expected = rows(live, seeded.run_id, filter=wanted)
    wait_for_count(page, expected["totalCount"])
    assert json.loads(query_of(page)["filter"][0]) == wanted
    assert sorted(gallery_keys(page)) == sorted(n["globalKey"] for n in expected["nodes"])
    assert expected["totalCount"] == 5

    # A second clause narrows it (AND): a metric range, only rows with a poor car IoU.
    page.get_by_test_id("filter-add").click()
    page.get_by_test_id("filter-kind").select_option("metric")
    page.get_by_test_id("filter-metric").select_option("iou")
    page.get_by_test_id("filter-feature").select_option("car")
    page.get_by_test_id("filter-max").fill("0.5")
    page.get_by_test_id("filter-apply").click()
    narrower = {"all": [*wanted["all"], {"metric": {"name": "iou", "feature": "car", "min": None, "max": 0.5}}]}
    expected = rows(live, seeded.run_id, filter=narrower)
    wait_for_count(page, expected["totalCount"])
    assert sorted(gallery_keys(page)) == sorted(n["globalKey"] for n in expected["nodes"]) == ["street-07", "street-09"]
    page.get_by_test_id("filter-clause-remove").nth(1).click()
    wait_for_count(page, 5)


def test_a_sort_orders_the_gallery_as_the_api_does(page: Any, live: LiveServer, seeded: SeededRun) -> None:
    page.get_by_test_id("sort-button").click()
    page.get_by_test_id("sort-field").select_option("CONFIDENCE_MAX")
    page.get_by_test_id("sort-feature").select_option("car")
    page.get_by_test_id("sort-descending").click()
    page.get_by_test_id("sort-apply").click()
    sort = [{"field": "CONFIDENCE_MAX", "descending": True, "feature": "car"}]
    page.wait_for_function("() => new URLSearchParams(location.search).has('sort')")
    assert json.loads(query_of(page)["sort"][0]) == sort
    filter_ = json.loads(query_of(page)["filter"][0])
    expected = [n["globalKey"] for n in rows(live, seeded.run_id, filter=filter_, sort=sort)["nodes"]]
    page.wait_for_function("keys => JSON.stringify([...document.querySelectorAll('[data-testid=\"gallery-item\"]')].map(e => e.dataset.globalKey)) === JSON.stringify(keys)", arg=expected)
    assert gallery_keys(page) == expected == ["street-09", "street-07", "street-05", "street-03", "street-01"]


def test_the_row_detail_shows_each_object_s_outcome(page: Any, live: LiveServer, seeded: SeededRun) -> None:
    keys = gallery_keys(page)
    page.locator(f'[data-testid="gallery-item"][data-global-key="{keys[0]}"]').click()
    detail = page.get_by_test_id("row-detail")
    detail.wait_for()
    assert detail.get_attribute("data-global-key") == keys[0] == "street-09"
    node = next(n for n in rows(live, seeded.run_id)["nodes"] if n["globalKey"] == keys[0])
    answer = live.reader.data(DETAIL, id=seeded.run_id, row=node["id"])["modelRun"]["dataRowDetail"]
    detail.get_by_test_id("object-outcome").first.wait_for()
    shown = detail.get_by_test_id("object-outcome").evaluate_all(
        "rows => rows.map(r => [r.dataset.source, r.dataset.feature, r.dataset.outcome])"
    )
    wanted = [["label", o["feature"], o["outcome"]] for o in answer["annotations"]]
    wanted += [["prediction", o["feature"], o["outcome"]] for o in answer["predictions"]]
    assert shown == wanted
    # street-09's car prediction is far off: FN for the label, FP for the prediction.
    assert ["label", "car", "FN"] in shown and ["prediction", "car", "FP"] in shown
    assert ["label", "person", "TP"] in shown
    detail.get_by_test_id("row-metrics").wait_for()
    assert detail.get_by_test_id("detail-metadata").inner_text().count("front") == 1
    page.screenshot(path=str(SCREENSHOTS / "row-detail.png"))
    page.keyboard.press("ArrowRight")
    page.wait_for_function("k => document.querySelector('[data-testid=\"row-detail\"]').dataset.globalKey === k", arg=keys[1])
    page.keyboard.press("Escape")
    detail.wait_for(state="detached")


def test_saving_the_filter_as_a_slice_lists_it_with_its_count(page: Any, live: LiveServer, seeded: SeededRun) -> None:
    page.get_by_test_id("save-slice").click()
    page.get_by_test_id("slice-name-input").fill("Front camera")
    page.get_by_test_id("slice-save-submit").click()
    item = page.locator('[data-testid="slice-item"][data-slice-name="Front camera"]')
    item.wait_for()
    counts = {s["name"]: s["count"] for s in live.reader.data(SLICES, id=seeded.run_id)["modelRun"]["slices"]}
    assert counts["Front camera"] == 5
    page.wait_for_function("() => document.querySelector('[data-slice-name=\"Front camera\"] .count').textContent === '5'")
    assert "5" in item.inner_text().split()
    # The automatic slices are listed with their counts, and clicking one filters the gallery.
    auto = page.locator('[data-testid="slice-item"][data-slice-name="False positive"]')
    auto.wait_for()
    auto.locator("button").first.click()
    expected = rows(live, seeded.run_id, filter={"all": [{"autoSlice": "False positive"}]})
    wait_for_count(page, expected["totalCount"])
    assert auto.locator(".count").inner_text() == str(expected["totalCount"])
    assert 'autoSlice' in query_of(page)["filter"][0]


def test_a_slice_can_be_renamed_and_deleted(page: Any, live: LiveServer, seeded: SeededRun) -> None:
    # The gallery shows the "False positive" automatic slice now: save it under a name of ours.
    page.get_by_test_id("save-slice").click()
    page.get_by_test_id("slice-name-input").fill("Wrong cars")
    page.get_by_test_id("slice-save-submit").click()
    item = page.locator('[data-testid="slice-item"][data-slice-name="Wrong cars"]')
    item.wait_for()
    item.hover()
    item.get_by_test_id("slice-rename").click()
    page.get_by_test_id("slice-rename-input").fill("Missed cars")
    page.get_by_test_id("slice-rename-save").click()
    renamed = page.locator('[data-testid="slice-item"][data-slice-name="Missed cars"]')
    renamed.wait_for()
    names = {s["name"] for s in live.reader.data(SLICES, id=seeded.run_id)["modelRun"]["slices"]}
    assert names == {"Front camera", "Missed cars"}
    page.once("dialog", lambda dialog: dialog.accept())
    renamed.hover()
    renamed.get_by_test_id("slice-delete").click()
    renamed.wait_for(state="detached")
    names = {s["name"] for s in live.reader.data(SLICES, id=seeded.run_id)["modelRun"]["slices"]}
    assert names == {"Front camera"}


def test_a_second_sort_key_orders_the_ties_of_the_first(page: Any, live: LiveServer, seeded: SeededRun) -> None:
    page.get_by_test_id("filter-clear").click()
    wait_for_count(page, 12)
    page.get_by_test_id("sort-button").click()
    page.get_by_test_id("sort-field").select_option("GLOBAL_KEY")
    page.get_by_test_id("sort-descending").click()
    page.get_by_test_id("sort-then").click()
    sort = [{"field": "CONFIDENCE_MAX", "descending": True, "feature": "car"}, {"field": "GLOBAL_KEY", "descending": True}]
    page.wait_for_function("() => JSON.parse(new URLSearchParams(location.search).get('sort')).length === 2")
    assert json.loads(query_of(page)["sort"][0]) == sort
    expected = [n["globalKey"] for n in rows(live, seeded.run_id, sort=sort)["nodes"]]
    page.wait_for_function("keys => JSON.stringify([...document.querySelectorAll('[data-testid=\"gallery-item\"]')].map(e => e.dataset.globalKey)) === JSON.stringify(keys)", arg=expected)
    # Rows without a car prediction tie on the first key: the second puts them in reverse key order.
    no_car = [k for k in expected if not k.startswith("street-")]
    assert len(no_car) >= 2 and no_car == sorted(no_car, reverse=True)
    # Removing the first key leaves the global key order alone.
    page.get_by_test_id("sort-button").click()
    page.get_by_test_id("sort-key-remove").first.click()
    page.wait_for_function("() => JSON.parse(new URLSearchParams(location.search).get('sort')).length === 1")
    page.wait_for_function("() => document.querySelector('[data-testid=\"gallery-item\"]')?.dataset.globalKey === 'street-09'")
    page.get_by_test_id("sort-clear").click()


def test_confusion_cell_and_evaluated_clauses_select_what_the_api_selects(page: Any, live: LiveServer, seeded: SeededRun) -> None:
    page.get_by_test_id("filter-add").click()
    page.get_by_test_id("filter-kind").select_option("confusionCell")
    page.get_by_test_id("filter-cell-groundTruth").select_option("car")
    page.get_by_test_id("filter-apply").click()
    missed = {"all": [{"confusionCell": {"groundTruth": "car", "prediction": None}}]}
    expected = rows(live, seeded.run_id, filter=missed)
    wait_for_count(page, expected["totalCount"])
    assert json.loads(query_of(page)["filter"][0]) == missed
    assert sorted(gallery_keys(page)) == sorted(n["globalKey"] for n in expected["nodes"])
    assert "street-09" in gallery_keys(page)  # its car label is missed (see the row detail test)
    assert page.get_by_test_id("filter-clause").inner_text().startswith("confusion: car → None")

    page.get_by_test_id("filter-clear").click()
    page.get_by_test_id("filter-add").click()
    page.get_by_test_id("filter-kind").select_option("evaluated")
    page.get_by_test_id("filter-not-evaluated").click()
    page.get_by_test_id("filter-apply").click()
    not_evaluated = {"all": [{"evaluated": False}]}
    expected = rows(live, seeded.run_id, filter=not_evaluated)
    wait_for_count(page, expected["totalCount"])
    assert sorted(gallery_keys(page)) == sorted(n["globalKey"] for n in expected["nodes"])
    page.get_by_test_id("filter-clear").click()
    wait_for_count(page, 12)


def test_cards_picked_in_the_gallery_become_a_selection_filter(page: Any, live: LiveServer, seeded: SeededRun) -> None:
    picked = ["street-02", "note-0"]
    for key in picked:
        page.locator(f'[data-testid="gallery-item"][data-global-key="{key}"]').get_by_test_id("gallery-item-select").check()
    assert page.get_by_test_id("row-detail").count() == 0  # picking is not opening
    assert "2 selected" in page.get_by_test_id("selection-bar").inner_text()
    page.get_by_test_id("selection-filter").click()
    wait_for_count(page, 2)
    assert sorted(gallery_keys(page)) == sorted(picked)
    ids = {n["globalKey"]: n["id"] for n in rows(live, seeded.run_id)["nodes"]}
    (clause,) = json.loads(query_of(page)["filter"][0])["all"]
    assert sorted(clause["selection"]["ids"]) == sorted(ids[k] for k in picked)
    assert page.get_by_test_id("selection-bar").count() == 0
    page.get_by_test_id("filter-clear").click()
    wait_for_count(page, 12)


def test_invalid_parameters_and_unknown_pages_are_said_so(page: Any, seeded: SeededRun) -> None:
    page.goto(f"/runs/{seeded.run_id}/gallery?confidence=abc&colour=red")
    errors = page.get_by_test_id("param-error")
    errors.wait_for()
    assert 'confidence="abc"' in errors.inner_text() and 'Unknown parameter "colour"' in errors.inner_text()
    page.get_by_test_id("gallery-item").first.wait_for()
    page.goto(f"/runs/{seeded.run_id}/gallery?confidence=0.33")
    assert "not one of the run's thresholds" in page.get_by_test_id("param-error").inner_text()
    page.goto(f"/models/{seeded.model_id}")
    page.get_by_test_id("runs-table").wait_for()
    assert page.get_by_test_id("run-row").count() == 2
    page.goto("/no/such/page")
    assert "Page not found" in page.get_by_test_id("not-found").inner_text()


def test_a_read_only_key_sees_no_write_controls(page: Any, live: LiveServer, seeded: SeededRun) -> None:
    page.goto("/")
    page.get_by_test_id("sign-out").click()
    page.get_by_test_id("api-key-input").fill(live.read_key)
    page.get_by_test_id("api-key-submit").click()
    page.get_by_test_id("viewer-name").wait_for()
    assert "read-only" in page.get_by_test_id("viewer-name").inner_text()
    page.goto(f"/runs/{seeded.run_id}/gallery")
    page.locator('[data-testid="slice-item"][data-slice-name="Front camera"]').wait_for()
    assert page.get_by_test_id("save-slice").count() == 0
    assert page.get_by_test_id("slice-rename").count() == 0


def test_graphiql_is_served_from_the_server_itself(page: Any, live: LiveServer) -> None:
    with page.expect_response(lambda r: r.url.endswith("/graphql") and r.request.method == "POST") as answer:
        page.goto("/graphql")
    # Its schema query carries the signed-in key; every script came from this server.
    assert answer.value.status == 200
    page.locator(".graphiql-container").wait_for()
    page.locator(".monaco-editor").first.wait_for()


def test_no_console_errors_and_no_request_to_another_host(watch: BrowserWatch) -> None:
    assert watch.console_errors == []
    assert watch.foreign_requests == []


@pytest.fixture(autouse=True, scope="module")
def _screenshots_folder() -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
