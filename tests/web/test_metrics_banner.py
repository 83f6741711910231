"""The metrics sync banner in real Chromium against a live server: it appears while an
upload's metrics are computed (naming the pending rows) and goes when they are in sync; a
failed computation shows it FAILED with a Retry button that resumes the computation; new
threshold lists saved from the metrics view show it until the run is computed for them.

The server's workers run in this process and look chunk handlers up in `workers.kinds` when
they run one, so a fixture swaps the metric chunk handler (held at a gate, or failing) and
always puts the real one back."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from domain.computations import METRICS
from tests.server.live import LiveServer
from tests.web.conftest import BrowserWatch
from tests.web.seed import IMAGE_ROWS, SeededRun, predictions
from tests.web.test_metrics_view import SHOWS, api, expected_features, open_metrics
from tests.web.test_run_config import sign_in
from workers import kinds

STATUS = "query($id: ID!) { modelRun(id: $id) { metricsStatus { state pendingDataRows error } } }"
RUNS = "query($id: ID!) { model(id: $id) { modelRuns { nodes { id name } } } }"
WAIT_MS = 60_000
BANNER = '[data-testid="metrics-banner"]'


def status(live: LiveServer, run_id: str) -> dict[str, Any]:
    return live.reader.data(STATUS, id=run_id)["modelRun"]["metricsStatus"]  # type: ignore[no-any-return]


def wait_status(live: LiveServer, run_id: str, state: str, seconds: float = 60.0) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while (found := status(live, run_id))["state"] != state:
        assert time.monotonic() < deadline, f"gave up waiting for {state}: {found}"
        time.sleep(0.1)
    return found


def upload(live: LiveServer, run_id: str, lines: list[dict[str, Any]]) -> None:
    answer = live.writer.upload(f"/upload/model-runs/{run_id}/predictions", lines)
    assert answer.status_code == 200, answer.text


@pytest.fixture
def metric_handler() -> Iterator[Any]:
    """Swaps the metric chunk handler for the test; the real one is back afterwards, whatever happens."""
    real = kinds.handler_for(METRICS)
    assert real is not None
    try:
        yield real
    finally:
        kinds.register(METRICS, real)


def sign_in_to_gallery(page: Any, live: LiveServer, run_id: str) -> None:
    sign_in(page, live.write_key)
    page.goto(f"/runs/{run_id}/gallery")
    page.get_by_test_id("gallery-item").first.wait_for()


def test_an_upload_shows_the_banner_computing_until_in_sync(
    page: Any, live: LiveServer, seeded: SeededRun, metric_handler: Any
) -> None:
    nodes = live.reader.data(RUNS, id=seeded.model_id)["model"]["modelRuns"]["nodes"]
    run_id = next(n["id"] for n in nodes if n["name"] == "night-augmented")
    assert status(live, run_id)["state"] == "IN_SYNC"
    sign_in_to_gallery(page, live, run_id)
    assert page.locator(BANNER).count() == 0

    # Every metric chunk waits at a gate until the test has seen the banner.
    gate = threading.Event()
    entered = threading.Event()

    def held_chunk(services: Any, computation: Any, chunk: int) -> Any:
        entered.set()
        if not gate.wait(timeout=120):
            raise RuntimeError("the test never opened the gate")
        return metric_handler(services, computation, chunk)

    kinds.register(METRICS, held_chunk)
    try:
        lines = [p for p in predictions() if p["dataRow"]["globalKey"].startswith("street-")]
        upload(live, run_id, lines)
        banner = page.locator(BANNER)
        banner.wait_for(timeout=WAIT_MS)
        assert banner.get_attribute("data-state") == "COMPUTING"
        pending = status(live, run_id)
        assert pending["state"] == "COMPUTING" and pending["pendingDataRows"] == IMAGE_ROWS
        page.wait_for_function(
            "n => document.querySelector('[data-testid=\"metrics-banner\"]')?.textContent.includes(`${n} data rows pending`)",
            arg=pending["pendingDataRows"],
        )
        assert page.get_by_test_id("metrics-retry").count() == 0
        assert entered.wait(timeout=60), "no metric chunk started"
    finally:
        gate.set()
    banner.wait_for(state="detached", timeout=WAIT_MS)
    assert status(live, run_id) == {"state": "IN_SYNC", "pendingDataRows": 0, "error": None}


def test_a_failed_computation_shows_failed_and_retry_brings_it_in_sync(
    page: Any, live: LiveServer, seeded: SeededRun, metric_handler: Any
) -> None:
    run_id = seeded.run_id
    wait_status(live, run_id, "IN_SYNC")
    sign_in_to_gallery(page, live, run_id)
    assert page.locator(BANNER).count() == 0

    def failing_chunk(services: Any, computation: Any, chunk: int) -> Any:
        raise RuntimeError("injected failure: this chunk always fails")

    kinds.register(METRICS, failing_chunk)
    # New confidences for two rows: their metrics must be computed again.
    lines = [
        {**p, "confidence": 0.66}
        for p in predictions()
        if p["dataRow"]["globalKey"] in ("street-01", "street-02") and "confidence" in p
    ]
    upload(live, run_id, lines)
    banner = page.locator(f'{BANNER}[data-state="FAILED"]')
    banner.wait_for(timeout=WAIT_MS)
    failed = wait_status(live, run_id, "FAILED")
    assert "injected failure" in failed["error"] and failed["pendingDataRows"] == 2
    text = banner.inner_text()
    assert "2 data rows pending" in text and "injected failure" in text
    retry = page.get_by_test_id("metrics-retry")
    assert retry.is_visible()

    kinds.register(METRICS, metric_handler)
    retry.click()
    page.locator(BANNER).wait_for(state="detached", timeout=WAIT_MS)
    assert wait_status(live, run_id, "IN_SYNC")["error"] is None


def test_new_threshold_lists_show_the_banner_until_computed_then_the_api_s_numbers(
    page: Any, live: LiveServer, seeded: SeededRun, metric_handler: Any
) -> None:
    nodes = live.reader.data(RUNS, id=seeded.model_id)["model"]["modelRuns"]["nodes"]
    run_id = next(n["id"] for n in nodes if n["name"] == "night-augmented")
    wait_status(live, run_id, "IN_SYNC")
    sign_in_to_gallery(page, live, run_id)
    open_metrics(page, run_id)
    assert page.locator(BANNER).count() == 0

    gate = threading.Event()

    def held_chunk(services: Any, computation: Any, chunk: int) -> Any:
        if not gate.wait(timeout=120):
            raise RuntimeError("the test never opened the gate")
        return metric_handler(services, computation, chunk)

    kinds.register(METRICS, held_chunk)
    try:
        page.get_by_test_id("thresholds-edit").click()
        page.get_by_test_id("thresholds-confidence").fill("0.50:0.60:0.01")
        page.get_by_test_id("thresholds-save").click()
        banner = page.locator(f'{BANNER}[data-state="COMPUTING"]')
        banner.wait_for(timeout=WAIT_MS)
        pending = status(live, run_id)
        assert pending["state"] == "COMPUTING" and pending["pendingDataRows"] > 0
        assert f"{pending['pendingDataRows']} data rows pending" in banner.inner_text()
        shown = page.evaluate(
            "() => [...document.querySelectorAll('[data-testid=\"confidence-threshold\"] option')].map(o => +o.value)"
        )
        assert shown == [round(0.5 + i / 100, 2) for i in range(11)]
    finally:
        gate.set()
    page.locator(BANNER).wait_for(state="detached", timeout=WAIT_MS)
    assert wait_status(live, run_id, "IN_SYNC")["error"] is None
    # A point only the new list has: the view's figures there are the API's.
    page.get_by_test_id("confidence-threshold").select_option("0.55")
    page.wait_for_function(SHOWS, arg=expected_features(api(live, run_id, c=0.55)))


def test_no_console_errors_and_no_request_to_another_host(watch: BrowserWatch) -> None:
    assert watch.console_errors == []
    assert watch.foreign_requests == []
