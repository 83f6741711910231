"""Benchmark of reading a run as of an older version, over HTTP and GraphQL.

    python -m bench.versions [--rows 20000] [--uploads 3] [--queries 30]

The detection workload of bench.metrics_service, with its predictions uploaded `uploads`
times (each a new jitter of every row), so each version has results of its own. A real
server (uvicorn, the app `modelledger serve` runs) answers `modelRun(id, version)
{ metrics }` at the latest version and at the first version with predictions: the first
request (which loads that version's results) and then p50 / p95 of requests each at another
grid point and split filter. It prints what keeping every version's results costs in the
database: the size of all match-result parts against the newest ones alone.

Without POSTGRES_* it runs on the machine's PostgreSQL at 127.0.0.1:5432, database `test`,
in a schema of its own that it drops at the end.
"""

from __future__ import annotations

import argparse
import random
import socket
import threading
import time
from typing import Any

import httpx
import uvicorn

from application import SplitSpec
from bench.metrics_service import Workload, bench_database, percentile
from projections.metrics.inputs import MetricInputs
from runtime import open_runtime
from server import Settings, create_app
from storage.database import drop_schema
from workers.in_process import BackgroundWork, WorkSettings
from workers.services import WorkerServices

QUERY = """
query($id: ID!, $version: Int, $c: Float!, $t: Float!, $filter: DataRowFilter) {
  modelRun(id: $id, version: $version) {
    metrics(confidence: $c, iou: $t, filter: $filter) { dataRows all { tp fp fn f1 } }
  }
}"""
GRID = [i / 10 for i in range(11)]
SPLITS = [None, ["TRAINING"], ["TEST"], ["TRAINING", "TEST"]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--features", type=int, default=20)
    parser.add_argument("--predictions-per-row", type=int, default=10)
    parser.add_argument("--uploads", type=int, default=3)
    parser.add_argument("--queries", type=int, default=30)
    args = parser.parse_args()

    database = bench_database("bench_versions")
    runtime = open_runtime(database)
    services = WorkerServices(database, runtime.app, MetricInputs(database))
    work = BackgroundWork(services, WorkSettings(threads=2, poll_seconds=0.1)).start()
    server: uvicorn.Server | None = None
    try:
        url, server = _serve(runtime)
        _, key = runtime.app.create_api_key("bench", read_only=True, actor="bench")
        client = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=600)
        run_id, versions = _prepare(runtime, args)
        print(f"{args.rows:,} data rows × {args.predictions_per_row} predictions, uploaded {args.uploads} times: "
              f"versions with their own results {versions}")  # fmt: skip
        rng = random.Random(7)
        for label, version in (("latest version", None), (f"version {versions[0]}", versions[0])):
            start = time.perf_counter()
            first = _ask(client, run_id, version, 0.5, 0.5, None)
            cold = (time.perf_counter() - start) * 1000
            samples = []
            for _ in range(args.queries):
                c, t, split = rng.choice(GRID), rng.choice(GRID), rng.choice(SPLITS)
                start = time.perf_counter()
                _ask(client, run_id, version, c, t, split)
                samples.append(time.perf_counter() - start)
            print(f"metrics at the {label:<11}: first request {cold:7.1f} ms; then p50 {percentile(samples, 50):6.1f} ms, "
                  f"p95 {percentile(samples, 95):6.1f} ms (tp at 0.5/0.5: {first['all']['tp']:,})")  # fmt: skip
        sizes = runtime.read_models.metrics.view.fetch_one(
            "SELECT coalesce(sum(octet_length(payload)), 0) AS everything,"
            " coalesce(sum(octet_length(payload)) FILTER (WHERE EXISTS"
            " (SELECT 1 FROM {s}.metric_rows r WHERE r.part_id = p.id)), 0) AS newest"
            " FROM {s}.metric_parts p WHERE p.run_id = %s",
            (run_id,),
        )
        assert sizes is not None
        print(f"match results kept: {sizes['everything'] / 2**20:,.1f} MiB for every version, "
              f"{sizes['newest'] / 2**20:,.1f} MiB for the newest results alone")  # fmt: skip
    finally:
        if server is not None:
            server.should_exit = True
        work.stop()
        work.services.inputs.close()
        runtime.close()
        drop_schema(database)


def _prepare(runtime: Any, args: argparse.Namespace) -> tuple[Any, list[int]]:
    app = runtime.app
    load = Workload(args.rows, args.features, args.predictions_per_row, 5.0)
    dataset = app.create_dataset("bench", actor="bench")
    app.add_data_rows(dataset.id, load.data_rows(), actor="bench")
    model = app.create_model("bench", tools=[{"name": n, "tool": "BBOX"} for n in load.names], classifications=[], actor="bench")
    runtime.read_models.wait_until_current(timeout=3600)
    run = app.create_model_run(model.id, "bench", dataset.id, actor="bench", splits=SplitSpec(train=0.5, test=0.5, seed=1))
    versions = []
    for upload in range(args.uploads):
        load.seed = 1000 + upload  # another jitter of every row
        app.upload_predictions(run.id, load.predictions(), actor="bench")
        runtime.read_models.wait_until_current(timeout=3600)
        while (status := runtime.read_models.metrics.status(run.id)).state != "IN_SYNC":
            if status.state == "FAILED":
                raise SystemExit(f"metrics failed: {status.error}")
            time.sleep(0.2)
        versions.append(app.repository.get(run.id).version)
    return run.id, versions


def _ask(client: httpx.Client, run_id: Any, version: int | None, c: float, t: float, split: list[str] | None) -> Any:
    variables = {"id": str(run_id), "version": version, "c": c, "t": t,
                 "filter": None if split is None else {"all": [{"split": split}]}}  # fmt: skip
    answer = client.post("/graphql", json={"query": QUERY, "variables": variables}).json()
    if answer.get("errors"):
        raise SystemExit(f"query failed: {answer['errors']}")
    return answer["data"]["modelRun"]["metrics"]


def _serve(runtime: Any) -> tuple[str, uvicorn.Server]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    config = uvicorn.Config(create_app(runtime, Settings()), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.01)
    return f"http://127.0.0.1:{port}", server


if __name__ == "__main__":
    main()
