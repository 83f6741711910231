"""Projector benchmark: PCA and UMAP of 100,000 vectors of dimension 512, and the query.

    python -m bench.projector [--points 100000] [--dimension 512] [--skip-query]

Prints, for each reduction, wall and CPU seconds and the peak memory it added (each runs
in a fresh process, measured from after the vectors are in memory), then, end to end on a
database (POSTGRES_* or the embedded one in a scratch directory): the upload of the
vectors, the projection's computation, and the size and latency of `ModelRun.projection`
for every point, in its packed form and in its list form. Not a test: figures only.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

SEED = 7
CLUSTERS = 50


def vectors(points: int, dimension: int) -> np.ndarray:
    """Clustered float32 vectors, the same for a given size (fixed seed)."""
    rng = np.random.default_rng(SEED)
    centres = rng.normal(scale=4.0, size=(CLUSTERS, dimension)).astype(np.float32)
    out = centres[rng.integers(0, CLUSTERS, size=points)]
    out += rng.standard_normal(size=(points, dimension), dtype=np.float32)
    return out


def _status_mb(field: str) -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return 0.0


def _reset_peak() -> None:
    """Start the peak-memory mark afresh (Linux: "5" to clear_refs resets VmHWM), so the
    peak read afterwards is the reduction's, not the data generation's."""
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")


def measure(method: str, points: int, dimension: int) -> dict[str, Any]:
    """One reduction in this process (the child's side of `reduction_figures`)."""
    from domain.projector import Method, ReductionParams, reduce_vectors

    data = vectors(points, dimension)
    params = ReductionParams(Method(method))
    if method == "UMAP":
        # Compile umap-learn's code first, as a worker's warm reduction process has.
        reduce_vectors(data[:500], params)
    _reset_peak()
    before = _status_mb("VmRSS")
    wall, cpu = time.perf_counter(), time.process_time()
    result = reduce_vectors(data, params)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    peak = _status_mb("VmHWM")
    assert result.shape == (points, 2)
    return {"seconds": wall, "cpu_seconds": cpu, "peak_mb": peak, "added_mb": max(0.0, peak - before)}


def reduction_figures(method: str, points: int, dimension: int) -> dict[str, Any]:
    code = "import json, sys; from bench.projector import measure; print(json.dumps(measure(*sys.argv[1:2], *map(int, sys.argv[2:]))))"
    done = subprocess.run(
        [sys.executable, "-c", code, method, str(points), str(dimension)],
        check=True, capture_output=True, text=True, cwd=Path(__file__).resolve().parents[1],
    )
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


# -- end to end ------------------------------------------------------------------------------

PACKED = """query($run: ID!, $id: ID!) { modelRun(id: $run) { projection(id: $id) {
  state xy dataRowIdsPacked splits { legend codes } } } }"""
LISTS = """query($run: ID!, $id: ID!) { modelRun(id: $run) { projection(id: $id) {
  state globalKeys x y } } }"""


def _lines(keys: list[str], data: np.ndarray) -> Iterator[tuple[int, dict[str, Any]]]:
    for n, (key, vector) in enumerate(zip(keys, data, strict=True), start=1):
        yield n, {"dataRow": {"globalKey": key}, "vector": vector.tolist()}


def query_figures(points: int, dimension: int) -> dict[str, Any]:
    import httpx
    import uvicorn

    from application import SplitSpec
    from application.projector_commands import ProjectionRequest
    from domain.projector import Method
    from runtime import open_runtime
    from server import create_app
    from storage.database import database_from_environment

    scratch = tempfile.mkdtemp(prefix="projector-bench-")
    runtime = open_runtime(database_from_environment(Path(scratch)))
    app = runtime.app
    figures: dict[str, Any] = {}
    try:
        dataset = app.create_dataset("bench", actor="bench")
        keys = [f"row-{i}" for i in range(points)]
        rows = ((n, {"globalKey": k, "rowData": f"s3://bench/{k}.jpg"}) for n, k in enumerate(keys, start=1))
        app.add_data_rows(dataset.id, rows, actor="bench")
        model = app.create_model("bench", tools=[{"name": "car", "tool": "BBOX"}], classifications=[], actor="bench")
        run = app.create_model_run(
            model.id, "bench", dataset.id, actor="bench", splits=SplitSpec(train=0.8, validate=0.1, test=0.1, seed=1)
        )
        data = vectors(points, dimension)
        started = time.perf_counter()
        _, notification, _ = app.upload_embeddings(dataset.id, "bench", _lines(keys, data), actor="bench")
        figures["upload_seconds"] = time.perf_counter() - started
        runtime.read_models.wait(notification, timeout=600)
        figures["upload_until_readable_seconds"] = time.perf_counter() - started
        del data
        queries = runtime.read_models.projector  # type: ignore[attr-defined]
        projection, _ = app.request_projection(ProjectionRequest(run.id, "bench", Method.PCA), queries, actor="bench")
        started = time.perf_counter()
        app.compute_projection(projection.id, queries)
        runtime.read_models.wait_until_current(timeout=600)
        figures["pca_request_to_ready_seconds"] = time.perf_counter() - started

        _, key = app.create_api_key("bench", read_only=True, actor="bench")
        server = uvicorn.Server(uvicorn.Config(create_app(runtime), host="127.0.0.1", port=0, log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.05)
        port = server.servers[0].sockets[0].getsockname()[1]
        client = httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {key}"}, timeout=300)
        for name, query in (("packed", PACKED), ("lists", LISTS)):
            times, size = [], 0
            for _ in range(5):
                started = time.perf_counter()
                answer = client.post("/graphql", json={"query": query, "variables": {"run": str(run.id), "id": str(projection.id)}})
                times.append(time.perf_counter() - started)
                size = len(answer.content)
                assert answer.status_code == 200 and answer.json()["data"]["modelRun"]["projection"]["state"] == "READY", answer.text[:500]
            figures[f"query_{name}_bytes"] = size
            figures[f"query_{name}_seconds_median"] = statistics.median(times)
        server.should_exit = True
        thread.join(30)
    finally:
        runtime.close()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=100_000)
    parser.add_argument("--dimension", type=int, default=512)
    parser.add_argument("--skip-query", action="store_true")
    args = parser.parse_args()
    from domain.projector.reductions import UMAP_INPUT_DIMENSIONS, umap_epochs

    print(f"{args.points:,} vectors of dimension {args.dimension}; {os.cpu_count()} CPUs; load {os.getloadavg()[0]:.1f}")
    pca = reduction_figures("PCA", args.points, args.dimension)
    print(f"PCA : {pca['seconds']:7.2f} s (cpu {pca['cpu_seconds']:.2f} s; target <= 5 s)   "
          f"peak {pca['peak_mb']:.0f} MB, +{pca['added_mb']:.0f} MB over the vectors")
    umap = reduction_figures("UMAP", args.points, args.dimension)
    print(f"UMAP: {umap['seconds']:7.2f} s (cpu {umap['cpu_seconds']:.2f} s; target <= 120 s) "
          f"peak {umap['peak_mb']:.0f} MB, +{umap['added_mb']:.0f} MB over the vectors")
    print(f"      UMAP on the first {UMAP_INPUT_DIMENSIONS} principal components, low_memory=True, "
          f"n_epochs={umap_epochs(args.points)}, one thread (fixed random_state)")
    if args.skip_query:
        return
    figures = query_figures(args.points, args.dimension)
    print(f"upload of the vectors: {figures['upload_seconds']:.1f} s accepted, "
          f"{figures['upload_until_readable_seconds']:.1f} s until readable")
    print(f"PCA projection, request to READY (in process): {figures['pca_request_to_ready_seconds']:.1f} s")
    for name in ("packed", "lists"):
        print(f"query ({name}): {figures[f'query_{name}_bytes'] / 1e6:.2f} MB, "
              f"median {figures[f'query_{name}_seconds_median'] * 1000:.0f} ms")


if __name__ == "__main__":
    main()
