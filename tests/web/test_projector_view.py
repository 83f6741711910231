"""The projector in real Chromium against a live server: a projection requested from the
page and followed until READY, every point drawn on the WebGL canvas, coloured by split as
the API's column says, and a lasso of points opening the gallery on exactly those rows; read at
an older version, its colours and its gallery link are that version's."""

from __future__ import annotations

from typing import Any

import pytest

from tests.server.live import LiveServer
from tests.web.conftest import SCREENSHOTS, BrowserWatch
from tests.web.seed import IMAGE_ROWS, TEXTS, SeededRun
from tests.web.test_run_config import sign_in
from tests.web.test_web_app import query_of, wait_for_count

ROWS = IMAGE_ROWS + len(TEXTS)
SPLITS = """query($id: ID!, $version: Int) { modelRun(id: $id, version: $version) {
  version latestVersion projections { id state pointCount splits { legend codes } } } }"""


@pytest.fixture(scope="module")
def embedded(live: LiveServer, seeded: SeededRun) -> None:
    """A 3-d vector per row: street rows on one side, notes on the other."""
    lines = [{"dataRow": {"globalKey": f"street-{i:02d}"}, "vector": [1.0 + i * 0.1, 0.5 * (i % 3), 0.2]} for i in range(IMAGE_ROWS)]
    lines += [{"dataRow": {"globalKey": f"note-{j}"}, "vector": [-2.0, 1.0 + j, -0.5]} for j in range(len(TEXTS))]
    answer = live.writer.upload(f"/upload/datasets/{seeded.dataset_id}/embeddings/tiny", lines)
    assert answer.status_code == 200, answer.text


def test_a_projection_requested_here_is_drawn_point_for_point(page: Any, live: LiveServer, seeded: SeededRun, embedded: None) -> None:
    sign_in(page, live.write_key)
    page.goto(f"/runs/{seeded.run_id}/gallery")
    page.get_by_test_id("view-tab-projector").click()
    page.get_by_test_id("projection-space").wait_for()
    page.get_by_test_id("projection-method-PCA").click()
    page.get_by_test_id("projection-request").click()
    page.locator('[data-testid="projection-item"][data-state="READY"]').wait_for(timeout=120_000)
    canvas = page.get_by_test_id("projector-canvas")
    page.wait_for_function("n => document.querySelector('[data-testid=\"projector-canvas\"]').dataset.pointCount === String(n)", arg=ROWS)
    assert canvas.get_attribute("data-point-count") == str(ROWS)
    (projection,) = live.reader.data(SPLITS, id=seeded.run_id)["modelRun"]["projections"]
    assert projection["state"] == "READY" and projection["pointCount"] == ROWS
    legend = legend_texts(page)
    assert legend == [label or "none" for label in projection["splits"]["legend"]]
    page.screenshot(path=str(SCREENSHOTS / "projector.png"))


def legend_texts(page: Any) -> list[str]:
    """The colour legend's entries, once drawn: the colours come with a query of their own,
    which may answer after the points are drawn."""
    items = page.get_by_test_id("projector-legend").locator("li")
    items.first.wait_for()
    return list(items.all_inner_texts())


def lasso_everything(page: Any) -> None:
    box = page.get_by_test_id("projector-canvas").bounding_box()
    # Shift + drag around the whole plot: every point is inside.
    x0, y0, x1, y1 = box["x"] + 3, box["y"] + 3, box["x"] + box["width"] - 3, box["y"] + box["height"] - 3
    page.keyboard.down("Shift")
    page.mouse.move(x0, y0)
    page.mouse.down()
    for x, y in ((x1, y0), (x1, y1), (x0, y1), (x0, y0 + 5)):
        page.mouse.move(x, y, steps=12)
    page.mouse.up()
    page.keyboard.up("Shift")


def test_a_lasso_opens_the_gallery_on_the_points_it_took(page: Any) -> None:
    lasso_everything(page)
    page.get_by_test_id("projector-selected").wait_for()
    assert page.get_by_test_id("projector-selected").inner_text() == f"{ROWS} selected"
    page.get_by_test_id("projector-open-selection").click()
    page.wait_for_url("**/gallery?**")
    wait_for_count(page, ROWS)


def test_at_an_older_version_the_colours_and_the_gallery_link_are_that_version_s(page: Any, live: LiveServer, seeded: SeededRun) -> None:
    latest = live.reader.data(SPLITS, id=seeded.run_id, version=None)["modelRun"]["latestVersion"]
    assert latest > 1
    older = latest - 1
    (projection,) = live.reader.data(SPLITS, id=seeded.run_id, version=older)["modelRun"]["projections"]
    page.goto(f"/runs/{seeded.run_id}/projector?version={older}")
    assert page.get_by_test_id("version-select").input_value() == str(older)
    page.wait_for_function("n => document.querySelector('[data-testid=\"projector-canvas\"]')?.dataset.pointCount === String(n)", arg=ROWS)
    legend = legend_texts(page)
    assert legend == [label or "none" for label in projection["splits"]["legend"]]
    lasso_everything(page)
    page.get_by_test_id("projector-selected").wait_for()
    page.get_by_test_id("projector-open-selection").click()
    page.wait_for_url("**/gallery?**")
    assert query_of(page)["version"] == [str(older)]
    assert page.get_by_test_id("version-select").input_value() == str(older)
    wait_for_count(page, ROWS)


def test_no_console_errors_and_no_request_to_another_host(watch: BrowserWatch) -> None:
    assert watch.console_errors == []
    assert watch.foreign_requests == []


@pytest.fixture(autouse=True, scope="module")
def _screenshots_folder() -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
