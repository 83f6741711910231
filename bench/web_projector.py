"""Web projector benchmark: how soon the browser draws a projection of many points, and how
smoothly it pans and zooms; prints figures, asserts nothing.

Starts `modelledger serve` on a fresh embedded data directory, uploads `points` text rows
with a 16-d embedding each (ten clusters), creates a run over them, requests a PCA projection
and waits until it is READY. Then, in headless Chromium (/usr/bin/chromium) signed in with
the API key, it opens `/runs/{id}/projector` and times:

* the first frame: from navigation, and from the moment the projection's points arrived
  (the end of the largest GraphQL response) until the WebGL canvas says every point is
  drawn (target <= 1.5 s after the data arrives);
* pan and zoom: frames the page paints while the mouse drags and the wheel zooms for a few
  seconds (target >= 30 frames per second; headless Chromium draws WebGL in software).

    python -m bench.web_projector [--points 100000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
import orjson

from bench.ingest import gql, start_server, wait_ready
from bench.web_gallery import signed_in_page

FIRST_FRAME_TARGET_MS = 1500
FPS_TARGET = 30
DIMENSION = 16
SEED = 20241206


def lines(rows: list[dict[str, object]]) -> bytes:
    return b"".join(orjson.dumps(row) + b"\n" for row in rows)


def load(client: httpx.Client, points: int) -> str:
    """A run over `points` rows with an embedding each and a READY PCA projection: its id."""
    dataset = gql(client, 'mutation { createDataset(input: {name: "projector"}) { ... on CreateDatasetPayload { dataset { id } } } }')["createDataset"]["dataset"]["id"]
    keys = [f"row-{i:07d}" for i in range(points)]
    answer = client.post(f"/upload/datasets/{dataset}/data-rows", content=lines([{"globalKey": k, "rowData": k, "mediaType": "TEXT"} for k in keys]))
    assert answer.status_code == 200, answer.text[:300]
    rng = np.random.default_rng(SEED)
    centres = rng.normal(0, 5, (10, DIMENSION))
    vectors = centres[rng.integers(0, 10, points)] + rng.normal(0, 1, (points, DIMENSION))
    body = lines([{"globalKey": k, "vector": v} for k, v in zip(keys, np.round(vectors, 4).tolist(), strict=True)])
    answer = client.post(f"/upload/datasets/{dataset}/embeddings/clusters", content=body)
    assert answer.status_code == 200, answer.text[:300]
    ontology = {"tools": [{"name": "thing", "tool": "BBOX"}], "classifications": []}
    model = gql(client, 'mutation($o: OntologyInput!) { createModel(input: {name: "projector", ontology: $o}) { ... on CreateModelPayload { model { id } } } }', o=ontology)["createModel"]["model"]["id"]
    run = gql(
        client,
        "mutation($i: CreateModelRunInput!) { createModelRun(input: $i) { ... on CreateModelRunPayload { modelRun { id } } } }",
        i={"modelId": model, "name": "run", "datasetId": dataset},
    )["createModelRun"]["modelRun"]["id"]
    t0 = time.perf_counter()
    projection = gql(
        client,
        "mutation($i: RequestProjectionInput!) { requestProjection(input: $i) { ... on ProjectionPayload { projection { id } } } }",
        i={"runId": run, "space": "clusters", "method": "PCA"},
    )["requestProjection"]["projection"]["id"]
    state = ""
    while state != "READY":
        time.sleep(0.2)
        found = gql(client, "query($r: ID!, $p: ID!) { modelRun(id: $r) { projection(id: $p) { state error } } }", r=run, p=projection)
        state = found["modelRun"]["projection"]["state"]
        assert state != "FAILED", found
    print(f"{points:,} points: PCA projection READY {time.perf_counter() - t0:.1f} s after the request")
    return str(run)


# The end of the largest /graphql response (the projection's points), in the page's clock.
POINTS_ARRIVED = """() => Math.max(...performance.getEntriesByType('resource')
  .filter(e => e.name.endsWith('/graphql')).sort((a, b) => b.encodedBodySize - a.encodedBodySize).slice(0, 1).map(e => e.responseEnd))"""
DRAWN = """(n) => { const c = document.querySelector('[data-testid="projector-canvas"]');
  if (c && c.dataset.pointCount === String(n)) return performance.now(); return false; }"""
COUNT_FRAMES = """() => { window.__frames = 0; const tick = () => { window.__frames++; if (!window.__stop) requestAnimationFrame(tick); }; requestAnimationFrame(tick); }"""


def browse(base_url: str, key: str, run_id: str, points: int) -> None:
    with signed_in_page(base_url, key, 120_000) as page:
        page.goto(f"{base_url}/runs/{run_id}/projector", wait_until="commit")
        drawn = float(page.wait_for_function(DRAWN, arg=points, polling="raf", timeout=120_000).json_value())
        arrived = float(page.evaluate(POINTS_ARRIVED))
        print(f"first frame of {points:,} points: {drawn:,.0f} ms after navigation, "
              f"{drawn - arrived:,.0f} ms after the points arrived (target <= {FIRST_FRAME_TARGET_MS} ms)")  # fmt: skip
        box = page.get_by_test_id("projector-canvas").bounding_box()
        cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        page.evaluate(COUNT_FRAMES)
        t0 = time.perf_counter()
        for step in range(6):
            page.mouse.move(cx, cy)
            page.mouse.down()
            page.mouse.move(cx + 200 * (-1) ** step, cy + 120, steps=20)
            page.mouse.up()
            for _ in range(5):
                page.mouse.wheel(0, -120 if step % 2 else 120)
        seconds = time.perf_counter() - t0
        frames = int(page.evaluate("() => { window.__stop = true; return window.__frames; }"))
        print(f"pan and zoom: {frames} frames in {seconds:.1f} s = {frames / seconds:.0f} fps (target >= {FPS_TARGET})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=100_000)
    parser.add_argument("--port", type=int, default=8767)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        proc, key = start_server(Path(tmp) / "data", args.port)
        base_url = f"http://127.0.0.1:{args.port}"
        client = httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {key}"}, timeout=3600)
        try:
            wait_ready(client)
            run_id = load(client, args.points)
            browse(base_url, key, run_id, args.points)
        finally:
            proc.terminate()
            proc.wait(30)


if __name__ == "__main__":
    main()
