"""Benchmark of the live metrics service: upload → IN_SYNC, query latency, peak memory.

    python -m bench.metrics_service [--rows 100000] [--features 80] [--predictions-per-row 10]

A synthetic detection run (fixed seed): every data row has ~5 ground-truth boxes of
`features` classes and `predictions-per-row` predicted boxes (jittered copies of the
ground truth, some relabelled, the rest background), half the rows in TRAINING. It prints:

- seconds from the prediction upload being accepted to the metrics status IN_SYNC (the
  server process runs the read models and the in-process workers, as `make serve` does);
- p50 / p95 of the metrics, confusion-matrix and PR-curve queries at one grid point over
  the whole run and over the TRAINING half (the first query, which loads the run's results
  into memory, is reported apart), and of the metrics and confusion-matrix queries each at a
  grid point not asked before;
- the process's peak resident memory (server and workers are one process here).

Without POSTGRES_* it runs on the machine's PostgreSQL at 127.0.0.1:5432, database `test`,
in a schema of its own that it drops at the end.
"""

from __future__ import annotations

import argparse
import resource
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from application import SplitSpec
from domain.filter_language import SplitClause
from projections.metrics.inputs import MetricInputs
from runtime import open_runtime
from storage.database import (
    Database,
    database_from_environment,
    drop_schema,
    ensure_schema,
    external_database_configured,
)
from workers.in_process import BackgroundWork, WorkSettings
from workers.services import WorkerServices

SEED = 20240917
WIDTH, HEIGHT = 640.0, 480.0


def boxes(rng: np.random.Generator, n: int) -> np.ndarray:
    w = rng.uniform(8, 200, n)
    h = rng.uniform(8, 200, n)
    return np.stack([rng.uniform(0, WIDTH - w), rng.uniform(0, HEIGHT - h), w, h], axis=1)


def bbox(b: np.ndarray) -> dict[str, float]:
    return {"left": round(float(b[0]), 2), "top": round(float(b[1]), 2), "width": round(float(b[2]), 2), "height": round(float(b[3]), 2)}


class Workload:
    def __init__(self, rows: int, features: int, per_row: int, labels_per_row: float) -> None:
        rng = np.random.default_rng(SEED)
        self.rows, self.features, self.per_row = rows, features, per_row
        self.names = [f"class{i:03d}" for i in range(features)]
        self.gt_count = rng.poisson(labels_per_row, rows)
        self.gt_box = boxes(rng, int(self.gt_count.sum()))
        self.gt_label = rng.integers(0, features, self.gt_box.shape[0])
        self.gt_start = np.concatenate([[0], np.cumsum(self.gt_count)])
        self.seed = rng.integers(1 << 31)

    def data_rows(self) -> Iterator[tuple[int, dict[str, Any]]]:
        for r in range(self.rows):
            a, b = self.gt_start[r], self.gt_start[r + 1]
            labels = [{"name": self.names[self.gt_label[i]], "bbox": bbox(self.gt_box[i])} for i in range(a, b)]
            yield r + 1, {"globalKey": f"row-{r}", "rowData": f"https://assets.example/{r}.jpg",
                          "width": int(WIDTH), "height": int(HEIGHT), "labels": labels}  # fmt: skip

    def predictions(self) -> Iterator[tuple[int, dict[str, Any]]]:
        rng = np.random.default_rng(self.seed)
        line = 0
        for r in range(self.rows):
            a, b = self.gt_start[r], self.gt_start[r + 1]
            copies = min(b - a, self.per_row)
            jitter = rng.normal(0, 4, (copies, 4))
            found = self.gt_box[a : a + copies] + jitter
            found[:, 2:] = np.maximum(found[:, 2:], 2)
            # Kept on the image: a box entirely outside its data row is refused at upload.
            found[:, 0] = np.clip(found[:, 0], 0, WIDTH - found[:, 2])
            found[:, 1] = np.clip(found[:, 1], 0, HEIGHT - found[:, 3])
            labels = self.gt_label[a : a + copies].copy()
            relabel = rng.random(copies) < 0.1
            labels[relabel] = rng.integers(0, self.features, int(relabel.sum()))
            background = boxes(rng, self.per_row - copies)
            all_boxes = np.concatenate([found, background])
            all_labels = np.concatenate([labels, rng.integers(0, self.features, self.per_row - copies)])
            scores = rng.random(self.per_row)
            for box, label, score in zip(all_boxes, all_labels, scores, strict=True):
                line += 1
                yield line, {"dataRow": {"globalKey": f"row-{r}"}, "name": self.names[label],
                             "bbox": bbox(box), "confidence": round(float(score), 3)}  # fmt: skip


def percentile(samples: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(samples), q)) * 1000


def timed(call: Callable[[], Any], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        out.append(time.perf_counter() - start)
    return out


def bench_database(prefix: str) -> Database:
    """A schema of its own (dropped by the caller) on POSTGRES_*, or on the machine's
    PostgreSQL at 127.0.0.1:5432, database `test`."""
    if external_database_configured():
        base = database_from_environment()
    else:
        base = Database({"POSTGRES_DBNAME": "test", "POSTGRES_HOST": "127.0.0.1", "POSTGRES_PORT": "5432",
                         "POSTGRES_USER": "postgres", "POSTGRES_PASSWORD": ""})  # fmt: skip
    database = base.with_schema(f"{prefix}_{uuid.uuid4().hex[:8]}")
    ensure_schema(database)
    return database


def print_query_figures(metrics: Any, run_id: Any, repeat: int) -> None:
    """p50 / p95 of the metrics, confusion-matrix and PR-curve queries at (0.5, 0.5), over
    the whole run and over its TRAINING half."""
    half = [SplitClause(("TRAINING",))]
    for label, clauses in (("whole run", []), ("TRAINING half", half)):
        for name, call in (
            ("metrics", lambda c=clauses: metrics.metrics(run_id, 0.5, 0.5, c)),
            ("confusion matrix", lambda c=clauses: metrics.confusion(run_id, 0.5, 0.5, c)),
            ("PR curve", lambda c=clauses: metrics.pr_curve(run_id, 0.5, None, c)),
        ):
            samples = timed(call, repeat)
            print(f"{name:>16} over {label:<13}: p50 {percentile(samples, 50):7.1f} ms   p95 {percentile(samples, 95):7.1f} ms")


def print_new_point_figures(metrics: Any, run_id: Any, count: int = 30) -> None:
    """p50 / p95 of the metrics and confusion-matrix queries over the whole run, each at a
    grid point not asked before (what a user moving the thresholds meets)."""
    settings = metrics.loaded(run_id).settings
    grid = [(float(c), float(t)) for c in settings["confidence_thresholds"] for t in settings["iou_thresholds"]]
    rng = np.random.default_rng(11)
    chosen = [grid[i] for i in rng.permutation(len(grid))]
    for name, query in (("metrics", metrics.metrics), ("confusion matrix", metrics.confusion)):
        points, chosen = chosen[:count // 2], chosen[count // 2:]
        samples = [timed(lambda c=c, t=t, q=query: q(run_id, c, t, []), 1)[0] for c, t in points]
        print(f"{name:>16} at a new grid point: p50 {percentile(samples, 50):7.1f} ms   p95 {percentile(samples, 95):7.1f} ms "
              f"({len(samples)} points)")  # fmt: skip


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--features", type=int, default=80)
    parser.add_argument("--predictions-per-row", type=int, default=10)
    parser.add_argument("--labels-per-row", type=float, default=5.0)
    parser.add_argument("--queries", type=int, default=30)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    database = bench_database("bench_metrics")
    work = WorkloadRun(database, args)
    try:
        work.run()
    finally:
        work.close()
        drop_schema(database)


class WorkloadRun:
    def __init__(self, database: Database, args: argparse.Namespace) -> None:
        self.args = args
        self.database = database
        self.runtime = open_runtime(database)
        self.read_models = self.runtime.read_models
        services = WorkerServices(database, self.runtime.app, MetricInputs(database))
        self.work = BackgroundWork(services, WorkSettings(threads=args.threads, poll_seconds=0.1)).start()

    def close(self) -> None:
        self.work.stop()
        self.work.services.inputs.close()
        self.runtime.close()

    def wait_current(self) -> None:
        self.runtime.read_models.wait_until_current(timeout=3600)

    def run(self) -> None:
        args, app = self.args, self.runtime.app
        load = Workload(args.rows, args.features, args.predictions_per_row, args.labels_per_row)
        print(f"workload: {args.rows:,} data rows, {args.features} features, "
              f"{int(load.gt_count.sum()):,} ground-truth boxes, {args.rows * args.predictions_per_row:,} predictions")  # fmt: skip
        start = time.perf_counter()
        dataset = app.create_dataset("bench", actor="bench")
        app.add_data_rows(dataset.id, load.data_rows(), actor="bench")
        model = app.create_model("bench", tools=[{"name": n, "tool": "BBOX"} for n in load.names], classifications=[], actor="bench")
        self.wait_current()
        run = app.create_model_run(model.id, "bench", dataset.id, actor="bench", splits=SplitSpec(train=0.5, test=0.5, seed=1))
        self.wait_current()
        print(f"set-up (data rows, labels, run snapshot): {time.perf_counter() - start:.1f} s")

        start = time.perf_counter()
        app.upload_predictions(run.id, load.predictions(), actor="bench")
        accepted = time.perf_counter()
        print(f"prediction upload accepted: {accepted - start:.1f} s")
        metrics = self.read_models.metrics
        self.wait_current()  # the status read model knows of the request
        while True:
            status = metrics.status(run.id)
            if status.state == "IN_SYNC":
                break
            if status.state == "FAILED":
                raise SystemExit(f"metrics failed: {status.error}")
            time.sleep(0.2)
        print(f"upload accepted → IN_SYNC: {time.perf_counter() - accepted:.1f} s")

        start = time.perf_counter()
        first = metrics.metrics(run.id, 0.5, 0.5)
        print(f"first query (loads the run's results): {1000 * (time.perf_counter() - start):.0f} ms; "
              f"{first.data_rows:,} rows, all-feature F1 {first.all.f1}")  # fmt: skip
        print_query_figures(metrics, run.id, args.queries)
        print_new_point_figures(metrics, run.id)
        print(f"peak memory of the process (server + in-process workers): {peak_rss_mb():,.0f} MB")


if __name__ == "__main__":
    main()
