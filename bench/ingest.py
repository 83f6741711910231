"""Ingest benchmark (issue: event-sourced core): prints figures, asserts nothing.

Starts `modelledger serve` on a fresh embedded data directory, uploads 100,000 data rows
and then 1,000,000 box predictions over them as NDJSON, end to end until the read models
have caught up, and times config edits on that run: while the server computes its
metrics in process, and once they are in sync.

    python -m bench.ingest [--rows 100000] [--predictions 1000000] [--edits 200]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import orjson
import psutil

FEATURES = [f"class-{i:02d}" for i in range(80)]


def start_server(data_dir: Path, port: int) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "cli", "serve", "--data-dir", str(data_dir), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**{k: v for k, v in os.environ.items() if not k.startswith("POSTGRES_")}, "PYTHONUNBUFFERED": "1"},
    )
    output = proc.stdout
    assert output is not None
    key = ""
    for line in output:
        if line.startswith("mlk_"):
            key = line.strip()
        if "/graphql" in line and key:
            break
    else:
        raise RuntimeError(f"the server exited with {proc.wait()} before it was ready")
    threading.Thread(target=lambda: [None for _ in output], daemon=True).start()
    return proc, key


class PeakMemory:
    """Samples the resident memory of a process (and of its children) every 50 ms."""

    def __init__(self, pid: int) -> None:
        self.process = psutil.Process(pid)
        self.peak = 0
        self.peak_children = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.peak = max(self.peak, self.process.memory_info().rss)
                children = sum(c.memory_info().rss for c in self.process.children(recursive=True))
                self.peak_children = max(self.peak_children, children)
            except psutil.Error:
                pass
            time.sleep(0.05)

    def reset(self) -> None:
        self.peak = self.peak_children = 0

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def gql(client: httpx.Client, query: str, **variables: object) -> dict:
    answer = client.post("/graphql", json={"query": query, "variables": variables}).json()
    if "errors" in answer:
        raise RuntimeError(answer["errors"])
    return answer["data"]


def data_row_lines(rows: int) -> Iterator[bytes]:
    for i in range(rows):
        yield (
            orjson.dumps(
                {
                    "globalKey": f"img-{i:07d}",
                    "rowData": f"images/{i}.jpg",
                    "width": 640,
                    "height": 480,
                }
            )
            + b"\n"
        )


def prediction_lines(rows: int, predictions: int, seed: int = 1) -> Iterator[bytes]:
    rng = np.random.default_rng(seed)
    per_row = predictions // rows
    block = 10_000
    for start in range(0, rows, block):
        n = min(block, rows - start) * per_row
        left = rng.uniform(0, 600, n).round(2)
        top = rng.uniform(0, 440, n).round(2)
        width = rng.uniform(4, 40, n).round(2)
        height = rng.uniform(4, 40, n).round(2)
        conf = rng.uniform(0, 1, n).round(4)
        feat = rng.integers(0, len(FEATURES), n)
        out = []
        for j in range(n):
            row = start + j // per_row
            out.append(
                b'{"dataRow":{"globalKey":"img-%07d"},"name":"%s","confidence":%r,"bbox":{"top":%r,"left":%r,"height":%r,"width":%r}}\n'
                % (
                    row,
                    FEATURES[feat[j]].encode(),
                    float(conf[j]),
                    float(top[j]),
                    float(left[j]),
                    float(height[j]),
                    float(width[j]),
                )
            )
        yield b"".join(out)


def wait_ready(client: httpx.Client, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if client.get("/ready").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise TimeoutError("server not ready")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--predictions", type=int, default=1_000_000)
    parser.add_argument("--edits", type=int, default=200)
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        proc, key = start_server(Path(tmp) / "data", args.port)
        client = httpx.Client(
            base_url=f"http://127.0.0.1:{args.port}",
            headers={"Authorization": f"Bearer {key}"},
            timeout=3600,
        )
        try:
            wait_ready(client)
            memory = PeakMemory(proc.pid)
            dataset = gql(
                client,
                'mutation { createDataset(input: {name: "bench"}) { ... on CreateDatasetPayload { dataset { id } } } }',
            )
            dataset_id = dataset["createDataset"]["dataset"]["id"]
            t0 = time.perf_counter()
            answer = client.post(
                f"/upload/datasets/{dataset_id}/data-rows", content=data_row_lines(args.rows)
            )
            assert answer.status_code == 200, answer.text
            rows_s = time.perf_counter() - t0
            ontology = {
                "tools": [{"name": f, "tool": "BBOX"} for f in FEATURES],
                "classifications": [],
            }
            model = gql(
                client,
                'mutation($o: OntologyInput!) { createModel(input: {name: "bench", ontology: $o}) { ... on CreateModelPayload { model { id } } } }',
                o=ontology,
            )
            model_id = model["createModel"]["model"]["id"]
            t0 = time.perf_counter()
            run = gql(
                client,
                'mutation($m: ID!, $d: ID!) { createModelRun(input: {modelId: $m, name: "run", datasetId: $d}) { ... on CreateModelRunPayload { modelRun { id } } } }',
                m=model_id,
                d=dataset_id,
            )
            run_s = time.perf_counter() - t0
            run_id = run["createModelRun"]["modelRun"]["id"]
            body = b"".join(prediction_lines(args.rows, args.predictions))
            memory.reset()
            t0 = time.perf_counter()
            answer = client.post(
                f"/upload/model-runs/{run_id}/predictions",
                content=[body[i : i + (1 << 20)] for i in range(0, len(body), 1 << 20)],
            )
            accepted_s = time.perf_counter() - t0
            assert answer.status_code == 200, answer.text[:500]
            wait_ready(client)
            caught_up_s = time.perf_counter() - t0
            peak_upload, peak_db = memory.peak, memory.peak_children
            edit = (
                "mutation($r: ID!, $c: JSON!) { updateModelRunConfig(input: {runId: $r, config: $c}) "
                "{ ... on UpdateModelRunConfigPayload { version } } }"
            )

            def edits(start: int) -> list[float]:
                out = []
                for i in range(start, start + args.edits):
                    t = time.perf_counter()
                    gql(client, edit, r=run_id, c={"learning_rate": i / 1000})
                    out.append((time.perf_counter() - t) * 1000)
                return out

            # The server computes the run's metrics in process right after the upload.
            computing = time.perf_counter()
            latencies = edits(0)
            status = "query($r: ID!) { modelRun(id: $r) { version metricsStatus { state } } }"
            while gql(client, status, r=run_id)["modelRun"]["metricsStatus"]["state"] != "IN_SYNC":
                time.sleep(0.1)
            metrics_s = time.perf_counter() - computing
            settled = edits(args.edits)
            version = gql(client, status, r=run_id)["modelRun"]["version"]
            memory.stop()
        finally:
            proc.terminate()
            proc.wait(30)
    mb = 1 / 2**20
    print(
        f"data rows: {args.rows:,} in {rows_s:.2f} s ({args.rows / rows_s:,.0f} rows/s); run created from them in {run_s:.2f} s"
    )
    print(f"predictions: {args.predictions:,} ({len(body) * mb:,.0f} MiB NDJSON)")
    print(
        f"  accepted after {accepted_s:.2f} s  ({args.predictions / accepted_s:,.0f} predictions/s)"
    )
    print(
        f"  read models caught up after {caught_up_s:.2f} s  ({args.predictions / caught_up_s:,.0f} predictions/s end to end; target >= 50,000)"
    )
    print(
        f"  server peak RSS during the upload: {peak_upload * mb:,.0f} MiB (target <= 2,048); embedded PostgreSQL processes: {peak_db * mb:,.0f} MiB"
    )
    print(f"metrics in sync {metrics_s:.1f} s after the read models caught up ({args.predictions / metrics_s:,.0f} predictions/s)")
    for label, samples in (("while its metrics compute in the server", latencies), ("once its metrics are in sync", settled)):
        print(
            f"config edits {label}: {len(samples)}, p50 {statistics.median(samples):.1f} ms, "
            f"p95 {np.percentile(samples, 95):.1f} ms (target p50 <= 50 ms)"
        )
    print(f"run at version {version}")


if __name__ == "__main__":
    main()
