"""Web gallery benchmark: how soon the browser shows a run's gallery; prints figures, asserts nothing.

Starts `modelledger serve` on a fresh embedded data directory (as bench.ingest does), uploads
`rows` image rows (each a tiny PNG as a data: URL, so the browser loads nothing from another
host, with 1–4 ground-truth boxes of two BBOX features and two metadata fields) and then
`predictions` boxes with confidences over them (about 10 a row by default: jittered copies
of the labels and background boxes), and waits for the run's metrics to be IN_SYNC.

Then, in headless Chromium (/usr/bin/chromium) signed in with the API key, it times:

* the first page of the gallery (`/runs/{id}/gallery`): from navigation until the row count
  and the first page of cards are shown with every overlay drawn and every image decoded,
  cold (the first visit: empty browser cache; the server has had the time it takes the
  benchmark to see IN_SYNC to warm the run in the background, as it does after every
  computation) and warm (reloads);
* filter changes: the address's `filter` is set to 5 filters one after another (in the page,
  through the History API, as the app itself does), each until the row count and the first
  page of cards with their overlays are shown. Twice: first with the browser the first to
  ask the server for each filter (until the count changes; the cards are checked against the
  API's answer afterwards), then, after a reload, with each filter's totalCount and first
  page asked of the API beforehand, until the row count is that totalCount and the first
  cards are the API's first rows with their overlays.

* after a restart of the server on the same data: the first visit of a fresh browser right
  when the server answers /ready (its warm-up of the run racing the page's first queries),
  and another once the warm-up had 10 s.

    python -m bench.web_gallery [--rows 100000] [--predictions 1000000] [--reloads 5]
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import orjson
from PIL import Image

from bench.ingest import PeakMemory, gql, start_server, wait_ready

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]  # fmt: skip
API_KEY_STORAGE = "modelledger.apiKey"
PAGE_SIZE = 40  # the web app's gallery page (web/src/views/Gallery.tsx)
FIRST_PAGE_TARGET_MS = 1000
FILTER_TARGET_MS = 300

WIDTH, HEIGHT = 640, 480
FEATURES = ["car", "person"]
CAMERAS = ["front", "rear"]
CITIES = ["Lyon", "Paris", "Berlin", "Oslo"]
SEED = 20240917

# The web app's default order (web/src/lib/filters.ts, DEFAULT_SORT).
ROWS_QUERY = """query($id: ID!, $filter: DataRowFilter, $confidence: Float, $iou: Float, $first: Int) {
  modelRun(id: $id) { dataRows(filter: $filter, sort: [{field: GLOBAL_KEY}], confidence: $confidence, iou: $iou, first: $first) {
    totalCount nodes { globalKey labels predictions } } } }"""
RUN_QUERY = """query($id: ID!) { modelRun(id: $id) { version
  metricSettings { confidenceThresholds iouThresholds } metricsStatus { state } } }"""

# The filters the gallery is switched through, in order (DataRowFilter JSON, as in the address).
FILTERS: list[tuple[str, dict[str, Any]]] = [
    ("metadata camera = front", {"all": [{"metadata": {"key": "camera", "equals": "front"}}]}),
    ("car confidence >= 0.9", {"all": [{"confidence": {"feature": "car", "min": 0.9}}]}),
    ("split VALIDATION", {"all": [{"split": ["VALIDATION"]}]}),
    ("metric fp >= 6 (grid point)", {"all": [{"metric": {"name": "fp", "min": 6}}]}),
    ("labelled person, city Oslo", {"all": [{"annotation": {"features": ["person"]}},
                                            {"metadata": {"key": "city", "equals": "Oslo"}}]}),
]  # fmt: skip
METRIC_CLAUSES = ("metric", "autoSlice", "confusionCell")

# Truthy (the page's performance.now()) once the row count and the first page of cards match
# what is expected: `keys`/`overlays` per card if given, else at least one overlay each.
SHOWN = """(expected) => {
  const count = document.querySelector('[data-testid="row-count"]');
  if (!count || count.textContent !== String(expected.total)) return false;
  const items = document.querySelectorAll('[data-testid="gallery-item"]');
  if (items.length < expected.n) return false;
  for (let i = 0; i < expected.n; i++) {
    const item = items[i];
    if (expected.keys && item.dataset.globalKey !== expected.keys[i]) return false;
    const drawn = item.querySelectorAll('[data-testid="overlay-object"]').length;
    if (expected.overlays ? drawn !== expected.overlays[i] : drawn === 0) return false;
    const img = item.querySelector('img');
    if (img && !(img.complete && img.naturalWidth > 0)) return false;
  }
  return performance.now();
}"""
# Truthy (performance.now()) once the row count shows a total other than `previous` and the
# first page of cards is drawn: for a filter the server has not been asked about yet.
CHANGED = """(previous) => {
  const count = document.querySelector('[data-testid="row-count"]');
  if (!count || !/^[0-9]+$/.test(count.textContent) || count.textContent === String(previous)) return false;
  const n = Math.min(PAGE_SIZE, Number(count.textContent));
  const items = document.querySelectorAll('[data-testid="gallery-item"]');
  if (items.length < n) return false;
  for (let i = 0; i < n; i++) {
    if (items[i].querySelectorAll('[data-testid="overlay-object"]').length === 0) return false;
    const img = items[i].querySelector('img');
    if (img && !(img.complete && img.naturalWidth > 0)) return false;
  }
  return performance.now();
}""".replace("PAGE_SIZE", str(PAGE_SIZE))
SET_FILTER = """(filter) => {
  const url = new URL(window.location.href);
  url.searchParams.set('filter', filter);
  window.__filterStart = performance.now();
  window.history.pushState(null, '', url.pathname + url.search);
  window.dispatchEvent(new PopStateEvent('popstate'));
}"""


def tiny_png() -> str:
    """A 4×3 grey PNG as a data: URL, shared by every row (the cards scale it to the row's size)."""
    buffer = io.BytesIO()
    Image.new("RGB", (4, 3), (90, 96, 104)).save(buffer, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


class Workload:
    """Image rows with 1–4 labelled boxes each, and `per_row` predicted boxes a row: jittered
    copies of the labels (one in eight relabelled) first, background boxes for the rest."""

    def __init__(self, rows: int, predictions: int) -> None:
        rng = np.random.default_rng(SEED)
        self.rows = rows
        self.per_row = max(1, predictions // rows)
        self.label_counts = rng.integers(1, 5, rows)
        n = int(self.label_counts.sum())
        self.label_starts = np.concatenate([[0], np.cumsum(self.label_counts)[:-1]])
        self.label_features = rng.integers(0, len(FEATURES), n)
        width = rng.uniform(20, 160, n)
        height = rng.uniform(20, 120, n)
        self.label_boxes = np.round(
            np.stack([rng.uniform(0, WIDTH - width), rng.uniform(0, HEIGHT - height), width, height], axis=1), 2
        )  # left, top, width, height

    @property
    def predictions(self) -> int:
        return self.rows * self.per_row

    def data_row_lines(self) -> Iterator[bytes]:
        image = tiny_png()
        boxes = self.label_boxes.tolist()
        features = self.label_features.tolist()
        starts = self.label_starts.tolist()
        counts = self.label_counts.tolist()
        block = []
        for i in range(self.rows):
            labels = [
                {"name": FEATURES[features[j]],
                 "bbox": {"left": boxes[j][0], "top": boxes[j][1], "width": boxes[j][2], "height": boxes[j][3]}}
                for j in range(starts[i], starts[i] + counts[i])
            ]  # fmt: skip
            block.append(
                orjson.dumps({
                    "globalKey": f"img-{i:07d}", "rowData": image, "width": WIDTH, "height": HEIGHT,
                    "metadata": {"camera": CAMERAS[i % 2], "city": CITIES[(i // 2) % len(CITIES)]},
                    "labels": labels,
                })  # fmt: skip
            )
            if len(block) == 10_000:
                yield b"\n".join(block) + b"\n"
                block = []
        if block:
            yield b"\n".join(block) + b"\n"

    def prediction_lines(self) -> Iterator[bytes]:
        rng = np.random.default_rng(SEED + 1)
        block = 10_000
        for start in range(0, self.rows, block):
            stop = min(start + block, self.rows)
            rows = np.repeat(np.arange(start, stop), self.per_row)
            slot = np.tile(np.arange(self.per_row), stop - start)
            n = len(rows)
            copies = slot < self.label_counts[rows]
            source = self.label_starts[rows] + np.minimum(slot, self.label_counts[rows] - 1)
            jitter = rng.normal(0, 4, (n, 4))
            width = rng.uniform(10, 120, n)
            height = rng.uniform(10, 100, n)
            background = np.stack(
                [rng.uniform(0, WIDTH - width), rng.uniform(0, HEIGHT - height), width, height], axis=1
            )
            boxes = np.where(copies[:, None], self.label_boxes[source] + jitter, background)
            boxes[:, 2:] = np.maximum(boxes[:, 2:], 2)
            boxes = np.round(boxes, 2).tolist()
            feature = np.where(
                copies & (rng.random(n) >= 0.125), self.label_features[source], rng.integers(0, len(FEATURES), n)
            ).tolist()
            confidence = np.round(
                np.where(copies, rng.uniform(0.3, 1.0, n), rng.uniform(0.0, 0.7, n)), 4
            ).tolist()
            rows_list = rows.tolist()
            yield b"".join(
                b'{"dataRow":{"globalKey":"img-%07d"},"name":"%s","confidence":%r,'
                b'"bbox":{"left":%r,"top":%r,"width":%r,"height":%r}}\n'
                % (rows_list[j], FEATURES[feature[j]].encode(), confidence[j], *boxes[j])
                for j in range(n)
            )


def nearest(grid: list[float], value: float) -> float:
    return min(grid, key=lambda t: (abs(t - value), t))


def uses_grid(filter_: dict[str, Any] | None) -> bool:
    return any(next(iter(clause)) in METRIC_CLAUSES for clause in (filter_ or {}).get("all", []))


def expected_page(
    client: httpx.Client, run_id: str, filter_: dict[str, Any] | None, confidence: float, iou: float
) -> tuple[dict[str, Any], float]:
    """What the gallery must show for a filter (the app's own query), and how long the API took."""
    grid = uses_grid(filter_)
    t0 = time.perf_counter()
    page = gql(
        client, ROWS_QUERY, id=run_id, filter=filter_, first=PAGE_SIZE,
        confidence=confidence if grid else None, iou=iou if grid else None,
    )["modelRun"]["dataRows"]  # fmt: skip
    took = (time.perf_counter() - t0) * 1000
    nodes = page["nodes"]
    overlays = [
        len(node["labels"] or []) + sum(1 for p in node["predictions"] or [] if (1 if p.get("confidence") is None else p["confidence"]) >= confidence)
        for node in nodes
    ]
    return {
        "total": page["totalCount"], "n": len(nodes),
        "keys": [node["globalKey"] for node in nodes], "overlays": overlays,
    }, took  # fmt: skip


def shown_at(page: Any, expected: dict[str, Any], timeout_ms: float) -> float:
    """Wait (polling every animation frame) until `expected` is on screen; the page's performance.now()."""
    handle = page.wait_for_function(SHOWN, arg=expected, polling="raf", timeout=timeout_ms)
    return float(handle.json_value())


def summary(samples: list[float], target: float) -> str:
    worst = max(samples)
    verdict = "meets" if worst <= target else "misses"
    return (
        f"p50 {statistics.median(samples):,.0f} ms, max {worst:,.0f} ms "
        f"(target <= {target:,.0f} ms: max {verdict} it)"
    )


@contextmanager
def signed_in_page(base_url: str, key: str, timeout_ms: float) -> Iterator[Any]:
    """A page of a fresh headless Chromium (empty cache) signed in: the key in this origin's
    localStorage, as the sign-in form leaves it."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            context = browser.new_context(
                viewport={"width": 1440, "height": 900}, base_url=base_url,
                storage_state={"cookies": [], "origins": [
                    {"origin": base_url, "localStorage": [{"name": API_KEY_STORAGE, "value": key}]}]},
            )  # fmt: skip
            context.set_default_timeout(timeout_ms)
            yield context.new_page()
        finally:
            browser.close()


def first_visit(base_url: str, key: str, run_id: str, expected: dict[str, Any], timeout_ms: float) -> float:
    """One navigation of a fresh browser (empty cache) to the gallery: ms until its first page."""
    with signed_in_page(base_url, key, timeout_ms) as page:
        page.goto(f"{base_url}/runs/{run_id}/gallery", wait_until="commit")
        return shown_at(page, expected, timeout_ms)


def after_restart(proc: subprocess.Popen[str], data_dir: Path, port: int, client: httpx.Client, key: str, run_id: str, args: argparse.Namespace) -> subprocess.Popen[str]:
    """Restarts the server on the same data and times a first visit at once and after 10 s."""
    proc.terminate()
    proc.wait(60)
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "cli", "serve", "--data-dir", str(data_dir), "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env={k: v for k, v in os.environ.items() if not k.startswith("POSTGRES_")},
    )  # fmt: skip
    wait_ready(client)
    print(f"\nrestarted: ready after {time.perf_counter() - started:.1f} s")
    expected = {"total": args.rows, "n": min(PAGE_SIZE, args.rows)}
    base_url = f"http://127.0.0.1:{port}"
    at_once = first_visit(base_url, key, run_id, expected, args.timeout * 1000)
    print(f"first page, first visit right at /ready: {at_once:,.0f} ms in the page (target <= {FIRST_PAGE_TARGET_MS} ms)")
    time.sleep(10)
    later = first_visit(base_url, key, run_id, expected, args.timeout * 1000)
    print(f"first page, first visit 10 s after /ready: {later:,.0f} ms in the page (target <= {FIRST_PAGE_TARGET_MS} ms)")
    return proc


def browse(base_url: str, key: str, run_id: str, client: httpx.Client, args: argparse.Namespace) -> None:
    settings = gql(client, RUN_QUERY, id=run_id)["modelRun"]["metricSettings"]
    confidence = nearest(settings["confidenceThresholds"], 0.5)
    iou = nearest(settings["iouThresholds"], 0.5)
    gallery = f"{base_url}/runs/{run_id}/gallery"
    timeout = args.timeout * 1000
    with signed_in_page(base_url, key, timeout) as page:
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(f"uncaught: {e}"))

        # (a) The first page, cold: nothing cached in the browser, the server's index unbuilt.
        unfiltered = {"total": args.rows, "n": min(PAGE_SIZE, args.rows)}
        t0 = time.perf_counter()
        page.goto(gallery, wait_until="commit")
        in_page = shown_at(page, unfiltered, timeout)
        cold_wall = (time.perf_counter() - t0) * 1000
        cold_page = in_page
        shown_keys = page.eval_on_selector_all(
            '[data-testid="gallery-item"]', "els => els.map(e => e.dataset.globalKey)"
        )
        first, first_api_ms = expected_page(client, run_id, None, confidence, iou)
        cold_ok = shown_keys[: first["n"]] == first["keys"]
        shown_overlays = page.eval_on_selector_all(
            '[data-testid="gallery-item"]',
            "els => els.map(e => e.querySelectorAll('[data-testid=\"overlay-object\"]').length)",
        )
        cold_ok = cold_ok and shown_overlays[: first["n"]] == first["overlays"]

        # Warm: reloads (the browser's cache and the server's index are warm).
        warm_page, warm_wall = [], []
        for _ in range(args.reloads):
            t0 = time.perf_counter()
            page.reload(wait_until="commit")
            warm_page.append(shown_at(page, first, timeout))
            warm_wall.append((time.perf_counter() - t0) * 1000)

        # (b) Filter changes, one after another, from the unfiltered first page.
        # First pass: the browser is the first to ask the server for each filter; the
        # cards are checked against the API's answer afterwards.
        first_time = []
        previous_total = first["total"]
        for name, filter_ in FILTERS:
            page.evaluate(SET_FILTER, json.dumps(filter_, separators=(",", ":")))
            done = float(page.wait_for_function(CHANGED, arg=previous_total, polling="raf", timeout=timeout).json_value())
            started = float(page.evaluate("window.__filterStart"))
            keys = page.eval_on_selector_all(
                '[data-testid="gallery-item"]', "els => els.map(e => e.dataset.globalKey)"
            )
            total = int(page.get_by_test_id("row-count").inner_text())
            first_time.append((name, done - started, total, keys))
            previous_total = total
        # Second pass, as a user coming back to them: each filter's totalCount and first
        # page asked of the API beforehand (the server has answered it before), the page
        # reloaded first so that the app's own cache of answers is empty.
        expectations = []
        for (name, filter_), (_, _, total, keys) in zip(FILTERS, first_time, strict=True):
            expected, api_ms = expected_page(client, run_id, filter_, confidence, iou)
            matches = total == expected["total"] and keys[: expected["n"]] == expected["keys"]
            expectations.append((name, filter_, expected, api_ms, matches))
        page.goto(gallery, wait_until="commit")
        shown_at(page, first, timeout)
        changes = []
        previous = first
        for name, filter_, expected, api_ms, _ in expectations:
            t0 = time.perf_counter()
            page.evaluate(SET_FILTER, json.dumps(filter_, separators=(",", ":")))
            done = shown_at(page, expected, timeout)
            wall = (time.perf_counter() - t0) * 1000
            started = float(page.evaluate("window.__filterStart"))
            ambiguous = expected["total"] == previous["total"] and expected["keys"] == previous["keys"]
            changes.append((name, expected, api_ms, done - started, wall, ambiguous))
            previous = expected

    print(f"\ngallery at grid point confidence {confidence}, iou {iou}; page of {PAGE_SIZE} cards")
    print(
        f"first page, cold (first visit): {cold_page:,.0f} ms from navigation start in the page, "
        f"{cold_wall:,.0f} ms wall around goto + wait (target <= {FIRST_PAGE_TARGET_MS} ms)"
        + ("" if cold_ok else "  [cards shown differ from the API's first page]")
    )
    print(f"  the API's unfiltered first page afterwards (index built): {first_api_ms:,.0f} ms")
    for i, (p, w) in enumerate(zip(warm_page, warm_wall, strict=True), 1):
        print(f"first page, warm (reload {i}): {p:,.0f} ms in the page, {w:,.0f} ms wall")
    print(f"first page, warm: {summary(warm_page, FIRST_PAGE_TARGET_MS)} (in the page)")
    print(f"first page, all loads: {summary([cold_page, *warm_page], FIRST_PAGE_TARGET_MS)} (in the page)")
    for (name, in_page_ms, total, _), (*_, matches) in zip(first_time, expectations, strict=True):
        print(
            f"filter change to {name!r}, first time asked: {in_page_ms:,.0f} ms in the page; {total:,} rows"
            + ("" if matches else "  [cards shown differ from the API's answer]")
        )
    print(f"filter changes, first time asked: {summary([c[1] for c in first_time], FILTER_TARGET_MS)} (in the page)")
    for name, expected, api_ms, in_page_ms, wall, ambiguous in changes:
        print(
            f"filter change to {name!r}, asked again: {in_page_ms:,.0f} ms in the page ({wall:,.0f} ms wall); "
            f"{expected['total']:,} rows; the API alone took {api_ms:,.0f} ms for it just before"
            + ("  [same count and first rows as before: not distinguishable]" if ambiguous else "")
        )
    print(f"filter changes, asked again: {summary([c[3] for c in changes], FILTER_TARGET_MS)} (in the page)")
    if errors:
        print(f"browser console errors: {len(errors)}; first: {errors[0][:200]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--predictions", type=int, default=1_000_000)
    parser.add_argument("--reloads", type=int, default=5)
    parser.add_argument("--timeout", type=float, default=120, help="seconds to wait for a view")
    parser.add_argument("--port", type=int, default=8766)
    args = parser.parse_args()
    work = Workload(args.rows, args.predictions)
    base_url = f"http://127.0.0.1:{args.port}"

    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        proc, key = start_server(Path(tmp) / "data", args.port)
        client = httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {key}"}, timeout=3600)
        try:
            wait_ready(client)
            memory = PeakMemory(proc.pid)
            print(f"server ready after {time.perf_counter() - started:.1f} s")
            dataset_id = gql(
                client,
                'mutation { createDataset(input: {name: "web-gallery"}) { ... on CreateDatasetPayload { dataset { id } } } }',
            )["createDataset"]["dataset"]["id"]
            t0 = time.perf_counter()
            answer = client.post(f"/upload/datasets/{dataset_id}/data-rows", content=work.data_row_lines())
            assert answer.status_code == 200, answer.text[:500]
            rows_s = time.perf_counter() - t0
            print(
                f"data rows: {args.rows:,} with {int(work.label_counts.sum()):,} labelled boxes in {rows_s:.1f} s"
            )
            ontology = {"tools": [{"name": f, "tool": "BBOX"} for f in FEATURES], "classifications": []}
            model_id = gql(
                client,
                'mutation($o: OntologyInput!) { createModel(input: {name: "web-gallery", ontology: $o}) { ... on CreateModelPayload { model { id } } } }',
                o=ontology,
            )["createModel"]["model"]["id"]
            t0 = time.perf_counter()
            run_id = gql(
                client,
                "mutation($i: CreateModelRunInput!) { createModelRun(input: $i) { ... on CreateModelRunPayload { modelRun { id } } } }",
                i={"modelId": model_id, "name": "run", "datasetId": dataset_id,
                   "splits": {"train": 0.6, "validate": 0.2, "test": 0.2, "seed": 3}},
            )["createModelRun"]["modelRun"]["id"]  # fmt: skip
            print(f"run created in {time.perf_counter() - t0:.1f} s")
            body = b"".join(work.prediction_lines())
            t0 = time.perf_counter()
            answer = client.post(
                f"/upload/model-runs/{run_id}/predictions",
                content=[body[i : i + (1 << 20)] for i in range(0, len(body), 1 << 20)],
            )
            assert answer.status_code == 200, answer.text[:500]
            accepted_s = time.perf_counter() - t0
            wait_ready(client)
            caught_up_s = time.perf_counter() - t0
            while gql(client, RUN_QUERY, id=run_id)["modelRun"]["metricsStatus"]["state"] != "IN_SYNC":
                time.sleep(0.2)
            in_sync_s = time.perf_counter() - t0
            print(
                f"predictions: {work.predictions:,} ({len(body) / 2**20:,.0f} MiB NDJSON) accepted after "
                f"{accepted_s:.1f} s, read models caught up after {caught_up_s:.1f} s, metrics IN_SYNC after {in_sync_s:.1f} s"
            )
            print(f"ingest in all: {time.perf_counter() - started:.1f} s from the server's start")
            browse(base_url, key, run_id, client, args)
            memory.stop()
            print(f"server peak RSS: {memory.peak / 2**20:,.0f} MiB")
            proc = after_restart(proc, Path(tmp) / "data", args.port, client, key, run_id, args)
        finally:
            proc.terminate()
            proc.wait(30)


if __name__ == "__main__":
    main()
