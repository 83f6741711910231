"""Gallery benchmark: first pages of filtered, sorted gallery queries, their totalCount, and
how soon a saved slice's membership is current again after a metadata update.

    python -m bench.gallery [--rows 1000000] [--predictions-per-row 10] [--queries 20]

The run is bench.metrics_service's synthetic detection run (80 features, ~5 ground-truth
boxes and `predictions-per-row` predictions per row, fixed seed) with 10 metadata fields per
data row (strings, an enum, numbers, a datetime). It prints, for 10 representative
filter / sort combinations, p50 / p95 of the first page (50 rows) and the filter's
totalCount; the time to build the run's gallery index (the first query); the time from a
metadata update of 10,000 rows to the saved slice's new membership; the peak memory. On
the way it prints the metrics service's figures for the same run (upload to IN_SYNC, the
metrics / confusion / PR-curve queries), as bench.metrics_service does.

Without POSTGRES_* it runs on the machine's PostgreSQL at 127.0.0.1:5432, database `test`,
in a schema of its own that it drops at the end.
"""

from __future__ import annotations

import argparse
import itertools
import time
from collections.abc import Iterator
from typing import Any
from uuid import UUID

import numpy as np

from application import SplitSpec
from bench.metrics_service import (
    Workload,
    WorkloadRun,
    bench_database,
    peak_rss_mb,
    percentile,
    print_query_figures,
    timed,
)
from domain.filter_language import clauses_from_json
from projections import ReadModels
from projections.gallery.sorting import SortKey
from projections.slice_membership.view import NO_GRID, MembershipRecord
from storage.database import (
    drop_schema,
)

CITIES = ["Lyon", "Paris", "Berlin", "Madrid", "Rome", "Oslo", "Vienna", "Prague"]
UPDATED_ROWS = 10_000
UPLOAD_ROWS = 100_000


class GalleryWorkload(Workload):
    """The metrics benchmark's rows with 10 metadata fields each."""

    def metadata(self, r: int) -> dict[str, Any]:
        rng = np.random.default_rng(r)
        day = 1 + r % 28
        return {
            "city": CITIES[r % len(CITIES)],
            "camera": "front" if r % 2 else "rear",
            "weather": ["sunny", "rainy", "foggy"][r % 3],
            "road": f"road-{r % 97}",
            "brightness": round(float(rng.random()), 4),
            "speed": round(float(rng.uniform(0, 130)), 1),
            "objects": int(r % 40),
            "altitude": round(float(rng.normal(300, 80)), 1),
            "captured": f"2026-{1 + r % 12:02d}-{day:02d}T12:00:00+00:00",
            "session": f"s{r // 1000}",
        }

    def data_rows(self) -> Iterator[tuple[int, dict[str, Any]]]:
        for line, row in super().data_rows():
            row["metadata"] = self.metadata(line - 1)
            yield line, row


def combinations(slice_id: str) -> list[tuple[str, dict[str, Any], list[SortKey]]]:
    f = "class007"
    return [
        ("metadata string equals", {"all": [{"metadata": {"key": "city", "equals": "Paris"}}]}, []),
        ("metadata number range, sort desc", {"all": [{"metadata": {"key": "brightness", "min": 0.2, "max": 0.4}}]},
         [SortKey("METADATA", True, key="speed")]),
        ("metadata datetime range", {"all": [{"metadata": {"key": "captured", "min": "2026-03-01T00:00:00+00:00",
                                                            "max": "2026-03-31T23:59:59+00:00"}}]}, []),
        ("metric scoped to a feature", {"all": [{"metric": {"name": "f1", "feature": f, "max": 0.5}}]},
         [SortKey("METRIC", metric="f1", feature=f)]),
        ("confidence sort (max, desc)", {"all": []}, [SortKey("CONFIDENCE_MAX", True)]),
        ("confidence range of a feature", {"all": [{"confidence": {"feature": "class003", "min": 0.9}}]},
         [SortKey("CONFIDENCE_MIN", feature="class003")]),
        ("saved slice", {"all": [{"slice": slice_id}]}, []),
        ("combined: split, annotation, metric, sort", {"all": [{"split": ["TRAINING"]}, {"annotation": {"features": ["class001"]}},
                                                               {"metric": {"name": "fp", "min": 1}}]},
         [SortKey("METRIC", metric="recall")]),
        ("automatic slice", {"all": [{"autoSlice": "Low precision"}]}, [SortKey("ID", True)]),
        ("no prediction of a feature, enum in", {"all": [{"prediction": {"features": ["class010"], "present": False}},
                                                         {"metadata": {"key": "weather", "in": ["rainy", "foggy"]}}]},
         [SortKey("GLOBAL_KEY", True)]),
    ]  # fmt: skip


def stored_membership(read_models: ReadModels, slice_id: UUID, run_id: UUID, position: int) -> MembershipRecord:
    """The slice's stored membership in the run once it has taken in the log up to `position`."""
    while True:
        found = read_models.memberships.membership(slice_id, run_id, NO_GRID)
        if found is not None and found.as_of >= position:
            if found.error is not None:
                raise SystemExit(f"slice membership: {found.error}")
            return found
        time.sleep(0.01)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--features", type=int, default=80)
    parser.add_argument("--predictions-per-row", type=int, default=10)
    parser.add_argument("--labels-per-row", type=float, default=5.0)
    parser.add_argument("--queries", type=int, default=20)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    database = bench_database("bench_gallery")
    work = WorkloadRun(database, args)
    try:
        run(work, args)
    finally:
        work.close()
        drop_schema(database)


def run(work: WorkloadRun, args: argparse.Namespace) -> None:
    app, read_models = work.runtime.app, work.read_models
    load = GalleryWorkload(args.rows, args.features, args.predictions_per_row, args.labels_per_row)
    print(f"workload: {args.rows:,} data rows with 10 metadata fields, {args.features} features, "
          f"{args.rows * args.predictions_per_row:,} predictions")  # fmt: skip
    start = time.perf_counter()
    dataset = app.create_dataset("bench", actor="bench")
    app.declare_metadata_fields(dataset.id, [{"key": "captured", "kind": "DATETIME"},
                                             {"key": "weather", "kind": "ENUM", "options": ["sunny", "rainy", "foggy"]}],
                                actor="bench")  # fmt: skip
    rows = load.data_rows()
    for _ in range(0, args.rows, UPLOAD_ROWS):
        app.add_data_rows(dataset.id, list(itertools.islice(rows, UPLOAD_ROWS)), actor="bench")
    model = app.create_model("bench", tools=[{"name": n, "tool": "BBOX"} for n in load.names], classifications=[], actor="bench")
    work.wait_current()
    run_ = app.create_model_run(model.id, "bench", dataset.id, actor="bench", splits=SplitSpec(train=0.5, test=0.5, seed=1))
    work.wait_current()
    print(f"set-up (data rows, labels, run snapshot): {time.perf_counter() - start:.1f} s")
    start = time.perf_counter()
    # In requests of UPLOAD_ROWS rows' predictions, as a client would send 10 million.
    lines = load.predictions()
    for _ in range(0, args.rows, UPLOAD_ROWS):
        batch = list(itertools.islice(lines, UPLOAD_ROWS * args.predictions_per_row))
        app.upload_predictions(run_.id, [(n, line) for n, (_, line) in enumerate(batch, start=1)], actor="bench")
        del batch
    accepted = time.perf_counter()
    work.wait_current()
    while (status := read_models.metrics.status(run_.id)).state != "IN_SYNC":
        if status.state == "FAILED":
            raise SystemExit(f"metrics failed: {status.error}")
        time.sleep(0.5)
    done = time.perf_counter()
    print(f"predictions uploaded in {accepted - start:.1f} s; last upload accepted → metrics IN_SYNC: {done - accepted:.1f} s")

    start = time.perf_counter()
    saved = app.create_slice(model.id, "rainy days", {"all": [{"metadata": {"key": "weather", "equals": "rainy"}}]}, actor="bench")
    created = stored_membership(read_models, saved.id, run_.id, read_models.log_position())
    print(f"new saved slice → its membership stored (builds the run's index): {time.perf_counter() - start:.2f} s "
          f"({created.count:,} members)")  # fmt: skip
    gallery = read_models.gallery
    grid = (0.5, 0.5)
    start = time.perf_counter()
    gallery.data_rows(run_.id, [], [], grid, 50)
    print(f"first gallery query (the index already built): {time.perf_counter() - start:.2f} s")
    start = time.perf_counter()
    read_models.metrics.metrics(run_.id, 0.5, 0.5)
    print(f"first metrics query (loads the run's results): {time.perf_counter() - start:.2f} s")
    print_query_figures(read_models.metrics, run_.id, args.queries)

    print(f"{'filter / sort':<42} {'p50 ms':>8} {'p95 ms':>8} {'totalCount':>11}")
    for label, filter_json, sort in combinations(str(saved.id)):
        clauses = clauses_from_json(filter_json)
        page = gallery.data_rows(run_.id, clauses, sort, grid, 50)  # warms metadata columns
        samples = timed(lambda c=clauses, s=sort: gallery.data_rows(run_.id, c, s, grid, 50), args.queries)
        print(f"{label:<42} {percentile(samples, 50):8.1f} {percentile(samples, 95):8.1f} {page.total_count:>11,}")

    slice_clauses = clauses_from_json({"all": [{"slice": str(saved.id)}]})
    before = gallery.membership(run_.id, slice_clauses, grid).count
    updated = min(UPDATED_ROWS, args.rows // 3)
    updates = [(i + 1, {"dataRow": {"globalKey": f"row-{r}"}, "metadata": {"weather": "rainy"}})
               for i, r in enumerate(range(0, 3 * updated, 3))]  # rows 0, 3, 6 …: sunny until now
    start = time.perf_counter()
    app.update_metadata(dataset.id, updates, actor="bench")
    accepted = time.perf_counter()
    stored = stored_membership(read_models, saved.id, run_.id, read_models.log_position())
    print(f"metadata update of {updated:,} rows: accepted in {accepted - start:.2f} s; stored slice membership "
          f"current {time.perf_counter() - start:.2f} s after the request ({before:,} → {stored.count:,} members)")  # fmt: skip
    start = time.perf_counter()
    after = gallery.membership(run_.id, slice_clauses, grid).count
    print(f"the slice applied in a query after the update: {1000 * (time.perf_counter() - start):.1f} ms ({after:,} members)")
    print(f"peak memory of the process (server + in-process workers): {peak_rss_mb():,.0f} MB")


if __name__ == "__main__":
    main()
