"""Projector benchmark: PCA and UMAP of 100,000 vectors of dimension 512, and the query.

    python -m bench.projector [--points 100000] [--dimension 512] [--skip-query]

Prints, for each reduction, wall and CPU seconds and the peak memory it added (each runs
in a fresh process, measured from after the vectors are in memory), and a fresh process's
first UMAP of 53 points, imports included; and a server's first UMAP of 53 points, from the
request to READY, as the server's first projection and after a PCA. Then, end to end over
HTTP and GraphQL against a real `modelledger serve` on a fresh schema (POSTGRES_*, else
the machine's PostgreSQL at 127.0.0.1:5432, database `test`): the upload of the vectors in the client's chunks, as
base64 float32 and as lists of numbers (accepted, and until the space counts them), a PCA
projection from the request to READY, and the size and latency of `ModelRun.projection`
for every point, in its packed form and in its list form. Not a test: figures only.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
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
    return json.loads(done.stdout.strip().splitlines()[-1])


# -- end to end, over HTTP ------------------------------------------------------------------

PACKED = """query($run: ID!, $id: ID!) { modelRun(id: $run) { projection(id: $id) {
  state xy dataRowIdsPacked splits { legend codes } } } }"""
LISTS = """query($run: ID!, $id: ID!) { modelRun(id: $run) { projection(id: $id) {
  state globalKeys x y } } }"""
SPACES = "query($id: ID!) { embeddingSpaces(datasetId: $id) { name vectorCount } }"
REQUEST = """mutation($i: RequestProjectionInput!) { requestProjection(input: $i) {
  ... on ProjectionPayload { projection { id } } ... on UserError { code message } } }"""
STATE = "query($run: ID!, $id: ID!) { modelRun(id: $run) { projection(id: $id) { state error } } }"


def embedding_bodies(keys: list[str], data: np.ndarray, as_base64: bool) -> list[bytes]:
    """NDJSON request bodies as the Python client cuts them (5,000 lines or 8 MiB): each
    vector as base64 float32 (what the client sends for numpy) or as a list of numbers."""
    import orjson
    from modelledger_client.uploads import ChunkSize

    limit = ChunkSize()
    bodies: list[bytes] = []
    lines: list[bytes] = []
    size = 0
    for key, vector in zip(keys, data, strict=True):
        value = base64.b64encode(vector.astype("<f4").tobytes()).decode() if as_base64 else vector.tolist()
        line = orjson.dumps({"globalKey": key, "vector": value}) + b"\n"
        if lines and (len(lines) >= limit.lines or size + len(line) > limit.bytes):
            bodies.append(b"".join(lines))
            lines, size = [], 0
        lines.append(line)
        size += len(line)
    bodies.append(b"".join(lines))
    return bodies


def _until(check: Any, timeout: float = 600) -> float:
    started = time.perf_counter()
    while not check():
        if time.perf_counter() - started > timeout:
            raise TimeoutError(f"not done after {timeout:g} s")
        time.sleep(0.02)
    return time.perf_counter() - started


def query_figures(points: int, dimension: int) -> dict[str, Any]:
    """A real `modelledger serve` (workers in process, as `make serve` runs it) on a fresh
    schema, driven over HTTP and GraphQL only."""
    from bench.http_service import (
        Api,
        Server,
        api_key,
        free_port,
    )
    from bench.metrics_service import bench_database
    from storage.database import drop_schema

    database = bench_database("bench_projector")
    log = Path(tempfile.mkstemp(prefix="bench_projector_", suffix=".log")[1])
    server = Server(database, free_port(), log)
    figures: dict[str, Any] = {}
    try:
        server.wait_ready()
        api = Api(server.url, api_key(database))
        dataset, run_id, keys = _dataset_and_run(api, points)
        data = vectors(points, dimension)
        for form, as_base64 in (("base64", True), ("numbers", False)):
            space = f"bench-{form}"
            bodies = embedding_bodies(keys, data, as_base64)
            figures[f"upload_{form}_mb"] = sum(map(len, bodies)) / 1e6
            accepted, seconds = api.upload(f"/upload/datasets/{dataset}/embeddings/{space}", bodies, False)
            assert accepted == points
            del bodies
            figures[f"upload_{form}_seconds"] = seconds
            figures[f"upload_{form}_readable_seconds"] = seconds + _until(lambda s=space: any(
                x["name"] == s and x["vectorCount"] == points for x in api.data(SPACES, id=dataset)["embeddingSpaces"]))
        del data
        started = time.perf_counter()
        made = api.data(REQUEST, i={"runId": run_id, "space": "bench-base64", "method": "PCA"})
        projection = made["requestProjection"]["projection"]["id"]
        figures["pca_request_seconds"] = time.perf_counter() - started

        _until(lambda: _ready(api, run_id, projection))
        figures["pca_request_to_ready_seconds"] = time.perf_counter() - started
        for name, query in (("packed", PACKED), ("lists", LISTS)):
            times, size = [], 0
            for _ in range(5):
                answer, seconds, size = api.ask(query, {"run": run_id, "id": projection})
                assert answer["data"]["modelRun"]["projection"]["state"] == "READY", str(answer)[:500]
                times.append(seconds)
            figures[f"query_{name}_bytes"] = size
            figures[f"query_{name}_seconds_median"] = statistics.median(times)
        figures["server_peak_mb"] = server.memory_mb()[0]
    finally:
        server.stop()
        drop_schema(database)
    log.unlink()
    return figures


def _dataset_and_run(api: Any, points: int) -> tuple[str, str, list[str]]:
    """A dataset of `points` rows (keys row-0, row-1 ...) and a run over it: (dataset id,
    run id, keys)."""
    from bench.http_service import CREATE_DATASET, CREATE_MODEL, CREATE_RUN

    dataset = api.data(CREATE_DATASET, n="bench")["createDataset"]["dataset"]["id"]
    keys = [f"row-{i}" for i in range(points)]
    rows = [json.dumps({"globalKey": k, "rowData": f"s3://bench/{k}.jpg"}).encode() + b"\n" for k in keys]
    api.upload(f"/upload/datasets/{dataset}/data-rows", [b"".join(rows[i : i + 5000]) for i in range(0, points, 5000)], False)
    model = api.data(CREATE_MODEL, n="bench", o={"tools": [{"name": "car", "tool": "BBOX"}]})["createModel"]["model"]["id"]
    splits = {"train": 0.8, "validate": 0.1, "test": 0.1, "seed": 1}
    run = api.data(CREATE_RUN, i={"modelId": model, "name": "bench", "datasetId": dataset, "splits": splits})
    return dataset, run["createModelRun"]["modelRun"]["id"], keys


def _ready(api: Any, run_id: str, projection: str) -> bool:
    state = api.data(STATE, run=run_id, id=projection)["modelRun"]["projection"]
    assert state["state"] != "FAILED", state["error"]
    return bool(state["state"] == "READY")


def server_first_umap(points: int = 53, dimension: int = 512) -> dict[str, float]:
    """What a user meets of a first UMAP, on a server just started (its workers in process)
    with a dataset of `points` rows and their vectors: a UMAP as the server's first
    projection, and on another such server, a UMAP 3 s after a PCA is READY (the web app
    shows PCA first). Seconds from each request to READY."""
    from bench.http_service import Api, Server, api_key, free_port
    from bench.metrics_service import bench_database
    from storage.database import drop_schema

    figures: dict[str, float] = {}
    for methods in (["UMAP"], ["PCA", "UMAP"]):
        database = bench_database("bench_first_umap")
        log = Path(tempfile.mkstemp(prefix="bench_first_umap_", suffix=".log")[1])
        server = Server(database, free_port(), log)
        try:
            server.wait_ready()
            api = Api(server.url, api_key(database))
            dataset, run_id, keys = _dataset_and_run(api, points)
            api.upload(f"/upload/datasets/{dataset}/embeddings/first", embedding_bodies(keys, vectors(points, dimension), True), False)
            for done, method in enumerate(methods):
                if done:
                    time.sleep(3)  # a user looking at the first picture
                asked = time.perf_counter()
                made = api.data(REQUEST, i={"runId": run_id, "space": "first", "method": method})
                projection = made["requestProjection"]["projection"]["id"]
                _until(lambda a=api, r=run_id, p=projection: _ready(a, r, p), timeout=120)
                figures["_".join(methods[: done + 1])] = time.perf_counter() - asked
        finally:
            server.stop()
            drop_schema(database)
        log.unlink()
    return figures


def first_umap_seconds(points: int = 53, dimension: int = 512) -> float:
    """A fresh process's first UMAP of a few points, imports included: what a worker's new
    reduction process pays (umap-learn's compiled kernels come from numba's disk cache)."""
    code = (
        "import time; t = time.perf_counter(); import sys; from bench.projector import vectors; "
        "from domain.projector import Method, ReductionParams, reduce_vectors; "
        "reduce_vectors(vectors(int(sys.argv[1]), int(sys.argv[2])), ReductionParams(Method.UMAP)); "
        "print(time.perf_counter() - t)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(points), str(dimension)],
        check=True, capture_output=True, text=True, cwd=Path(__file__).resolve().parents[1],
    )  # fmt: skip
    return float(done.stdout.strip().splitlines()[-1])


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
    first = first_umap_seconds()
    print(f"first UMAP in a fresh process, 53 points, imports included: {first:.1f} s")
    served = server_first_umap()
    print(f"a server's first UMAP, 53 points, request to READY (target <= 3 s): {served['UMAP']:.1f} s as its first "
          f"projection, {served['PCA_UMAP']:.1f} s 3 s after a PCA ({served['PCA']:.1f} s)")
    if args.skip_query:
        return
    figures = query_figures(args.points, args.dimension)
    print(f"Over HTTP, a real server ({args.points:,} data rows; the NDJSON in the client's chunks):")
    for form in ("base64", "numbers"):
        print(f"  upload of the vectors as {form}: {figures[f'upload_{form}_mb']:.0f} MB, "
              f"{figures[f'upload_{form}_seconds']:.1f} s accepted ({args.points / figures[f'upload_{form}_seconds']:,.0f} vectors/s), "
              f"{figures[f'upload_{form}_readable_seconds']:.1f} s until counted (target <= 5 s)")
    print(f"  PCA: requestProjection answered in {figures['pca_request_seconds']:.1f} s, "
          f"READY {figures['pca_request_to_ready_seconds']:.1f} s after the request (target <= 5 s)")
    for name in ("packed", "lists"):
        print(f"  query ({name}): {figures[f'query_{name}_bytes'] / 1e6:.2f} MB, "
              f"median {figures[f'query_{name}_seconds_median'] * 1000:.0f} ms")
    print(f"  server peak RSS {figures['server_peak_mb']:,.0f} MiB")


if __name__ == "__main__":
    main()
