"""Benchmark of a real server, only over HTTP and GraphQL: uploads, warm and cold queries, memory.

    python -m bench.http_service [--rows 10000] [--predictions-per-row 10] [--features 80]
                                 [--queries 40] [--gzip] [--json PATH]

Starts `modelledger serve` as a process of its own on a fresh schema of a PostgreSQL server
(the POSTGRES_* variables, else the machine's PostgreSQL at 127.0.0.1:5432, database `test`),
with its workers in process as `make serve` runs them, and talks to it as a user does. The
run is bench.metrics_service's synthetic detection workload (fixed seed: ~5 ground-truth boxes
of `features` classes per data row, `predictions-per-row` predicted boxes) with three metadata
fields per row. It prints one table per phase and asserts nothing:

1. uploads: the data rows (rows/s), `createModelRun` over the dataset (60 / 20 / 20 % splits),
   the predictions (accepted predictions/s) and the time from the last accepted upload to the
   metrics status IN_SYNC; for a run A and a run B with other predictions (for comparisons).
   The NDJSON goes in chunks of the Python client's size (whole rows, at most 5,000 lines a
   request), plain or with `--gzip` compressed; the time counts the requests alone.
2. warm queries: `queries` requests per kind, the kinds taking turns, every request at another
   grid point of the run's grid (`precisionRecallCurve`: another IoU threshold) and with
   another filter (none, a split, a metadata clause, a feature clause, in turn): client-side
   latency of the first one and p50 / p95 / max, with the GraphQL documents of the web app.
3. cold queries: the server stopped (SIGTERM) and started again; the time until /ready
   answers 200, then the first request of each kind, in the order of the table.
4. memory: the peak resident memory of each server process (VmHWM) and what the schema
   takes in PostgreSQL (tables, indexes and TOAST).

`--json PATH` writes the same figures as JSON. The schema is dropped at the end.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import orjson
import psutil
import psycopg
from modelledger_client.uploads import ChunkSize

from bench.ingest import wait_ready
from bench.metrics_service import Workload, bench_database, percentile
from storage.database import Database, drop_schema

CAMERAS = [f"cam{i}" for i in range(8)]
SITES = ["harbour", "airport", "downtown", "suburb", "highway"]
SPLITS = ["TRAINING", "VALIDATION", "TEST"]
SPLIT_RATIOS = {"train": 0.6, "validate": 0.2, "test": 0.2, "seed": 1}

CREATE_DATASET = """mutation($n: String!) { createDataset(input: {name: $n}) {
  ... on CreateDatasetPayload { dataset { id } } ... on UserError { code message } } }"""
CREATE_MODEL = """mutation($n: String!, $o: OntologyInput!) { createModel(input: {name: $n, ontology: $o}) {
  ... on CreateModelPayload { model { id } } ... on UserError { code message } } }"""
CREATE_RUN = """mutation($i: CreateModelRunInput!) { createModelRun(input: $i) {
  ... on CreateModelRunPayload { modelRun { id rowCount } } ... on UserError { code message } } }"""
CREATE_SLICE = """mutation($i: CreateSliceInput!) { createSlice(input: $i) {
  ... on CreateSlicePayload { slice { id } } ... on UserError { code message } } }"""
STATUS = "query($id: ID!) { modelRun(id: $id) { metricsStatus { state pendingDataRows error changedAt } } }"
GRID = "query($id: ID!) { modelRun(id: $id) { metricSettings { confidenceThresholds iouThresholds } } }"

# The documents the web app sends (web/src/api), each for one kind of query.
METRIC_FIELDS = "feature tp fp fn tn precision recall f1 iou"
KINDS: dict[str, str] = {
    "metrics": f"""query($id: ID!, $c: Float!, $t: Float!, $filter: DataRowFilter) {{ modelRun(id: $id) {{ id
  metrics(confidence: $c, iou: $t, filter: $filter) {{ features {{ {METRIC_FIELDS} annotations predictions }}
    all {{ {METRIC_FIELDS} }} macro {{ precision recall f1 iou }} custom {{ name feature aggregation value dataRows }} dataRows }} }} }}""",
    "confusionMatrix": """query($id: ID!, $c: Float!, $t: Float!, $filter: DataRowFilter) { modelRun(id: $id) { id
  confusionMatrix(confidence: $c, iou: $t, filter: $filter) { labels counts dataRows } } }""",
    "precisionRecallCurve": """query($id: ID!, $t: Float!, $feature: String, $filter: DataRowFilter) { modelRun(id: $id) { id
  precisionRecallCurve(iou: $t, feature: $feature, filter: $filter) { confidence precision recall } } }""",
    "dataRows (first 50)": """query($id: ID!, $c: Float, $t: Float, $filter: DataRowFilter, $sort: [DataRowSort!]) { modelRun(id: $id) { id
  dataRows(filter: $filter, sort: $sort, confidence: $c, iou: $t, first: 50) { totalCount pageInfo { hasNextPage endCursor }
    nodes { id globalKey width height rowData mediaType split metadata labels predictions } } } }""",
    "autoSlices": """query($id: ID!, $c: Float!, $t: Float!) { modelRun(id: $id) { id
  autoSlices(confidence: $c, iou: $t) { id name count reason filter } } }""",
    "slices (saved, counted)": """query($id: ID!, $c: Float, $t: Float) { modelRun(id: $id) { id
  slices(confidence: $c, iou: $t) { id name count reason filter } } }""",
    "slice rows (first 50)": """query($id: ID!, $c: Float, $t: Float, $filter: DataRowFilter) { modelRun(id: $id) { id
  dataRows(filter: $filter, confidence: $c, iou: $t, first: 50) { totalCount nodes { id globalKey split } } } }""",
    "metricHistogram": """query($id: ID!, $metric: String!, $c: Float!, $t: Float!, $filter: DataRowFilter) { modelRun(id: $id) { id
  metricHistogram(metric: $metric, confidence: $c, iou: $t, filter: $filter) { metric feature nulls outside bins { min max dataRows filter sort } } } }""",
    "compareModelRuns": f"""query($a: ID!, $b: ID!, $c: Float!, $t: Float!, $metric: String!, $filter: DataRowFilter) {{
  compareModelRuns(runA: $a, runB: $b, confidence: $c, iou: $t, metric: $metric, filter: $filter, first: 50) {{
    commonDataRows a {{ all {{ {METRIC_FIELDS} }} features {{ {METRIC_FIELDS} }} }} b {{ all {{ {METRIC_FIELDS} }} features {{ {METRIC_FIELDS} }} }}
    deltas {{ feature metric a b delta low high significant }}
    worseDataRows {{ totalCount nodes {{ dataRow {{ id globalKey }} a b by }} }} }} }}""",
}
SORTS: list[list[dict[str, Any]]] = [
    [{"field": "METRIC", "metric": "f1", "descending": True}],
    [{"field": "CONFIDENCE_MAX", "descending": True}],
    [{"field": "METADATA", "key": "hour"}, {"field": "GLOBAL_KEY"}],
    [{"field": "METRIC", "metric": "fn", "descending": True}],
]
ROW_METRICS = ["f1", "precision", "recall", "iou"]


# ---- the server process -------------------------------------------------------------------


class Server:
    """`modelledger serve` on the benchmark's schema, its output kept in a log file."""

    def __init__(self, database: Database, port: int, log: Path) -> None:
        self.url = f"http://127.0.0.1:{port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("POSTGRES_") and k != "REDIS_URL"}
        self.log = log.open("ab")
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "cli", "serve", "--port", str(port)],
            env={**env, **database.settings, "PYTHONUNBUFFERED": "1"},
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def wait_ready(self) -> float:
        """Seconds from the start of the process to /ready answering 200."""
        with httpx.Client(base_url=self.url) as client:
            wait_ready(client, timeout=600)
        return time.perf_counter() - self.started

    def memory_mb(self) -> tuple[float, float]:
        """(peak, current) resident memory of the process so far, in MiB."""
        try:
            status = Path(f"/proc/{self.process.pid}/status").read_text()
            values = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
            return int(values["VmHWM"].split()[0]) / 1024, int(values["VmRSS"].split()[0]) / 1024
        except (OSError, KeyError):  # no /proc: the current size only
            rss = psutil.Process(self.process.pid).memory_info().rss / 2**20
            return rss, rss

    def stop(self) -> None:
        self.process.terminate()  # SIGTERM: uvicorn finishes the requests in flight
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def api_key(database: Database) -> str:
    made = subprocess.run(
        [sys.executable, "-m", "cli", "api-key", "create", "--name", "bench"],
        env={**os.environ, **database.settings}, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return made.stdout.strip().splitlines()[-1]


# ---- requests -----------------------------------------------------------------------------


class Api:
    def __init__(self, url: str, key: str) -> None:
        self.client = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=3600)

    def ask(self, query: str, variables: dict[str, Any]) -> tuple[dict[str, Any], float, int]:
        """The answer (data and errors), the client-side seconds it took and its bytes."""
        start = time.perf_counter()
        response = self.client.post("/graphql", json={"query": query, "variables": variables})
        seconds = time.perf_counter() - start
        try:
            answer = response.json()
        except ValueError:
            answer = {"errors": [{"message": f"HTTP {response.status_code}: {response.text[:300]}"}]}
        return answer, seconds, len(response.content)

    def data(self, query: str, **variables: Any) -> dict[str, Any]:
        answer, _, _ = self.ask(query, variables)
        if answer.get("errors"):
            raise RuntimeError(f"{query.split('(')[0]}: {answer['errors']}")
        payload = next(iter(answer["data"].values()))
        if isinstance(payload, dict) and "code" in payload:
            raise RuntimeError(f"{query.split('(')[0]}: {payload}")
        data: dict[str, Any] = answer["data"]
        return data

    def upload(self, route: str, chunks: list[bytes], gzipped: bool) -> tuple[int, float]:
        """(accepted lines, seconds) of posting the chunks one after the other."""
        headers = {"Content-Type": "application/x-ndjson"}
        if gzipped:
            headers["Content-Encoding"] = "gzip"
        accepted = 0
        start = time.perf_counter()
        for chunk in chunks:
            response = self.client.post(route, content=chunk, headers=headers)
            if response.status_code != 200:
                raise RuntimeError(f"{route}: HTTP {response.status_code}: {response.text[:1000]}")
            accepted += int(response.json()["accepted"])
        return accepted, time.perf_counter() - start

    def wait_in_sync(self, run: str, after: int, timeout: float) -> float:
        """Seconds until the run's metrics are IN_SYNC with a change later than `after`."""
        start = time.perf_counter()
        while True:
            status = self.data(STATUS, id=run)["modelRun"]["metricsStatus"]
            if status["state"] == "FAILED":
                raise RuntimeError(f"metrics of run {run} failed: {status['error']}")
            if status["state"] == "IN_SYNC" and status["changedAt"] > after:
                return time.perf_counter() - start
            if time.perf_counter() - start > timeout:
                raise TimeoutError(f"metrics of run {run} not IN_SYNC after {timeout:g} s: {status}")
            time.sleep(0.1)

    def changed_at(self, run: str) -> int:
        return int(self.data(STATUS, id=run)["modelRun"]["metricsStatus"]["changedAt"])


def ndjson_chunks(lines: Iterable[tuple[str, dict[str, Any]]], size: int, gzipped: bool) -> list[bytes]:
    """NDJSON request bodies of at most `size` lines (more only for a row with more lines),
    the lines of one row (its group) never split across two."""
    chunks: list[bytes] = []
    chunk: list[bytes] = []
    last = ""
    for group, line in lines:
        if len(chunk) >= size and group != last:
            chunks.append(b"".join(chunk))
            chunk = []
        chunk.append(orjson.dumps(line) + b"\n")
        last = group
    if chunk:
        chunks.append(b"".join(chunk))
    return [gzip.compress(c, compresslevel=1) for c in chunks] if gzipped else chunks


def data_row_lines(load: Workload) -> Iterator[tuple[str, dict[str, Any]]]:
    """The workload's rows, each with labels and three metadata fields (string, number)."""
    for n, row in load.data_rows():
        row["metadata"] = {"camera": CAMERAS[n % len(CAMERAS)], "hour": n % 24, "site": SITES[(n * 7) % len(SITES)]}
        yield row["globalKey"], row


def prediction_lines(load: Workload) -> Iterator[tuple[str, dict[str, Any]]]:
    for _, line in load.predictions():
        yield line["dataRow"]["globalKey"], line


# ---- the phases ---------------------------------------------------------------------------


@dataclass
class Setup:
    dataset: str
    model: str
    run_a: str
    run_b: str
    slices: list[str]
    names: list[str]
    figures: list[tuple[str, int | None, float, float | None]] = field(default_factory=list)


def upload_phase(api: Api, args: argparse.Namespace) -> Setup:
    load = Workload(args.rows, args.features, args.predictions_per_row, 5.0)
    size = ChunkSize().lines
    rows = ndjson_chunks(data_row_lines(load), size, args.gzip)
    dataset = api.data(CREATE_DATASET, n="bench")["createDataset"]["dataset"]["id"]
    ontology = {"tools": [{"name": n, "tool": "BBOX"} for n in load.names]}
    model = api.data(CREATE_MODEL, n="bench", o=ontology)["createModel"]["model"]["id"]
    setup = Setup(dataset, model, "", "", [], load.names)
    accepted, seconds = api.upload(f"/upload/datasets/{dataset}/data-rows", rows, args.gzip)
    setup.figures.append(("data rows upload", accepted, seconds, accepted / seconds))

    runs = []
    for name, seed in (("A", None), ("B", 1000)):
        if seed is not None:
            load.seed = np.int64(seed)  # another jitter and other scores of every row
        start = time.perf_counter()
        made = api.data(CREATE_RUN, i={"modelId": model, "name": f"run {name}", "datasetId": dataset, "splits": SPLIT_RATIOS})
        run = made["createModelRun"]["modelRun"]
        setup.figures.append((f"createModelRun (run {name})", run["rowCount"], time.perf_counter() - start, None))
        before = api.changed_at(run["id"])
        chunks = ndjson_chunks(prediction_lines(load), size, args.gzip)
        accepted, seconds = api.upload(f"/upload/model-runs/{run['id']}/predictions", chunks, args.gzip)
        setup.figures.append((f"predictions upload (run {name})", accepted, seconds, accepted / seconds))
        setup.figures.append((f"last accept -> IN_SYNC (run {name})", None, api.wait_in_sync(run["id"], before, args.sync_timeout), None))
        runs.append(run["id"])
    setup.run_a, setup.run_b = runs

    for name, clauses in (
        ("two cameras", [{"metadata": {"key": "camera", "in": CAMERAS[:2]}}]),
        ("test misses", [{"split": ["TEST"]}, {"metric": {"name": "fn", "min": 1}}]),
        (f"{load.names[0]} labelled", [{"annotation": {"features": [load.names[0]]}}]),
    ):
        made = api.data(CREATE_SLICE, i={"modelId": model, "name": name, "filter": {"all": clauses}})
        setup.slices.append(made["createSlice"]["slice"]["id"])
    return setup


@dataclass
class KindFigures:
    samples: list[float] = field(default_factory=list)
    answer_bytes: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    peak_growth_mib: float = 0.0  # how far the server's peak RSS rose during these requests

    def row(self) -> dict[str, Any]:
        return {"requests": len(self.samples), "first_ms": self.samples[0] * 1000,
                "p50_ms": percentile(self.samples, 50), "p95_ms": percentile(self.samples, 95),
                "max_ms": max(self.samples) * 1000, "answer_kib_p50": statistics.median(self.answer_bytes) / 1024,
                "peak_growth_mib": self.peak_growth_mib, "errors": len(self.errors),
                "samples_ms": [round(s * 1000, 2) for s in self.samples]}  # fmt: skip


class Requests:
    """Each kind's next request: another grid point, another filter."""

    def __init__(self, api: Api, server: Server, setup: Setup, seed: int) -> None:
        self.api, self.server, self.setup = api, server, setup
        self.rng = random.Random(seed)
        grid = api.data(GRID, id=setup.run_a)["modelRun"]["metricSettings"]
        self.grid = [(c, t) for c in grid["confidenceThresholds"] for t in grid["iouThresholds"]]
        self.points: dict[str, list[tuple[float, float]]] = {}
        self.turn: dict[str, int] = {}

    def point(self, kind: str) -> tuple[float, float]:
        """Grid points without repeats for a kind (until the grid is used up, then again)."""
        if not self.points.get(kind):
            self.points[kind] = self.rng.sample(self.grid, len(self.grid))
        return self.points[kind].pop()

    def filter(self, kind: str) -> dict[str, Any] | None:
        """In turn: none, a split, a metadata clause, a feature clause; each with values of its own."""
        turn = self.turn[kind] = self.turn.get(kind, -1) + 1
        rng = self.rng
        match turn % 4:
            case 0:
                return None
            case 1:
                return {"all": [{"split": rng.sample(SPLITS, rng.randint(1, 2))}]}
            case 2:
                if rng.random() < 0.5:
                    return {"all": [{"metadata": {"key": "camera", "in": rng.sample(CAMERAS, rng.randint(1, 3))}}]}
                low = rng.randint(0, 18)
                return {"all": [{"metadata": {"key": "hour", "min": low, "max": low + rng.randint(1, 5)}}]}
            case _:
                features = rng.sample(self.setup.names, rng.randint(1, 3))
                side = rng.choice(["annotation", "prediction"])
                return {"all": [{side: {"features": features}}]}

    def variables(self, kind: str) -> dict[str, Any]:
        (c, t), run = self.point(kind), self.setup.run_a
        base: dict[str, Any] = {"id": run, "c": c, "t": t, "filter": self.filter(kind)}
        match kind:
            case "precisionRecallCurve":
                del base["c"]
                base["feature"] = self.rng.choice([None, *self.setup.names])
            case "dataRows (first 50)":
                base["sort"] = self.rng.choice(SORTS)
            case "autoSlices" | "slices (saved, counted)":
                del base["filter"]
            case "slice rows (first 50)":
                clause = {"slice": self.rng.choice(self.setup.slices)}
                base["filter"] = {"all": [clause, *(base["filter"] or {"all": []})["all"]]}
            case "metricHistogram":
                base["metric"] = self.rng.choice(ROW_METRICS)
            case "compareModelRuns":
                del base["id"]
                base.update(a=run, b=self.setup.run_b, metric=self.rng.choice(ROW_METRICS))
        return base

    def send(self, kind: str, figures: KindFigures) -> None:
        variables = self.variables(kind)
        peak = self.server.memory_mb()[0]
        answer, seconds, size = self.api.ask(KINDS[kind], variables)
        figures.peak_growth_mib += max(0.0, self.server.memory_mb()[0] - peak)  # VmHWM may dip: read lazily
        figures.samples.append(seconds)
        figures.answer_bytes.append(size)
        if answer.get("errors"):
            figures.errors.append(f"variables {json.dumps(variables)}: {json.dumps(answer['errors'])[:1500]}")


def warm_phase(requests: Requests, count: int) -> dict[str, KindFigures]:
    figures = {kind: KindFigures() for kind in KINDS}
    for _ in range(count):
        for kind in KINDS:
            requests.send(kind, figures[kind])
    return figures


def cold_phase(requests: Requests) -> dict[str, KindFigures]:
    figures = {kind: KindFigures() for kind in KINDS}
    for kind in KINDS:
        requests.send(kind, figures[kind])
    return figures


def schema_size(database: Database) -> dict[str, Any]:
    """Bytes of the schema's relations (with indexes and TOAST), the largest five by name."""
    with psycopg.connect(database.without_schema().conninfo(), autocommit=True) as conn:
        rows = conn.execute(
            "SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = %s AND c.relkind IN ('r', 'm') ORDER BY 2 DESC",
            (database.schema,),
        ).fetchall()
        whole = conn.execute("SELECT pg_database_size(current_database())").fetchone()
    return {"schema_bytes": sum(size for _, size in rows), "largest": [[name, size] for name, size in rows[:5]],
            "database_bytes": whole[0] if whole else None}  # fmt: skip


# ---- printing -----------------------------------------------------------------------------


def print_table(title: str, header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    print(f"\n{title}")
    line = "  ".join(h.ljust(w) if i == 0 else h.rjust(w) for i, (h, w) in enumerate(zip(header, widths, strict=True)))
    print(line)
    print("-" * len(line))
    for row in rows:
        print("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))))


def latency_rows(figures: dict[str, KindFigures]) -> list[list[str]]:
    out = []
    for kind, kind_figures in figures.items():
        row = kind_figures.row()
        cells = [f"{row[k]:,.1f}" for k in ("first_ms", "p50_ms", "p95_ms", "max_ms", "answer_kib_p50")]
        out.append([kind, str(row["requests"]), *cells, f"{row['peak_growth_mib']:,.0f}", str(row["errors"])])
    return out


def print_errors(phase: str, figures: dict[str, KindFigures]) -> None:
    for kind, kind_figures in figures.items():
        for error in kind_figures.errors[:3]:
            print(f"{phase} {kind} error: {error}")


# ---- main ---------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--predictions-per-row", type=int, default=10)
    parser.add_argument("--features", type=int, default=80)
    parser.add_argument("--queries", type=int, default=40, help="warm requests per kind of query")
    parser.add_argument("--gzip", action="store_true", help="send the NDJSON gzip-compressed")
    parser.add_argument("--sync-timeout", type=float, default=900, help="seconds to wait for IN_SYNC")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()

    database = bench_database("bench_http")
    log = Path(tempfile.mkstemp(prefix="bench_http_", suffix=".log")[1])
    servers: list[Server] = []
    try:
        report = run(database, args, log, servers)
    except BaseException:
        print(f"\nserver log: {log}", file=sys.stderr)
        raise
    finally:
        for server in servers:
            if server.process.poll() is None:
                server.stop()
        drop_schema(database)
    if report["errors"]:
        print(f"\nserver log: {log}")
    else:
        log.unlink()
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
        print(f"figures written to {args.json}")


def run(database: Database, args: argparse.Namespace, log: Path, servers: list[Server]) -> dict[str, Any]:
    sizes = (f"{args.rows:,} data rows, {args.predictions_per_row} predictions per row, {args.features} features; "
             f"NDJSON {'gzip' if args.gzip else 'plain'} in chunks of {ChunkSize().lines:,} lines")  # fmt: skip
    load_start = os.getloadavg()[0]
    print(f"modelledger serve over HTTP: {sizes}; load average {load_start:.2f} at the start")
    key = api_key(database)
    first = Server(database, free_port(), log)
    servers.append(first)
    start_seconds = first.wait_ready()
    api = Api(first.url, key)

    setup = upload_phase(api, args)
    upload_rows = [[name, "-" if n is None else f"{n:,}", f"{seconds:,.2f}", "-" if rate is None else f"{rate:,.0f}"]
                   for name, n, seconds, rate in setup.figures]  # fmt: skip
    print_table(f"1. Uploads over HTTP ({sizes})", ["step", "items", "seconds", "per second"], upload_rows)
    memory_upload = first.memory_mb()

    requests = Requests(api, first, setup, seed=7)
    warm = warm_phase(requests, args.queries)
    print_table(f"2. Warm queries, {args.queries} per kind, each at another grid point and filter, ms ({args.rows:,} rows)",
                ["query", "n", "first", "p50", "p95", "max", "KiB", "peak +MiB", "errors"], latency_rows(warm))  # fmt: skip
    print("KiB: the median answer; peak +MiB: how far these requests raised the server's peak RSS")
    print_errors("warm", warm)
    memory_first = first.memory_mb()
    first.stop()

    second = Server(database, free_port(), log)
    servers.append(second)
    ready_seconds = second.wait_ready()
    cold = cold_phase(Requests(Api(second.url, key), second, setup, seed=8))
    cold_rows = [[kind, f"{f.samples[0] * 1000:,.1f}", str(len(f.errors))] for kind, f in cold.items()]
    print_table(f"3. Cold: server restarted (SIGTERM, start), /ready after {ready_seconds:.1f} s; "
                f"then the first request of each kind, in this order ({args.rows:,} rows)",
                ["query", "ms", "errors"], cold_rows)  # fmt: skip
    print_errors("cold", cold)
    memory_second = second.memory_mb()
    second.stop()

    size = schema_size(database)
    mib = 1 / 2**20
    memory_rows = [
        ["server: peak RSS after uploads and IN_SYNC", f"{memory_upload[0]:,.0f}"],
        ["server: peak RSS after the warm queries", f"{memory_first[0]:,.0f}"],
        ["server: RSS after the warm queries", f"{memory_first[1]:,.0f}"],
        ["restarted server: peak RSS after the cold queries", f"{memory_second[0]:,.0f}"],
        ["PostgreSQL: the benchmark's schema", f"{size['schema_bytes'] * mib:,.0f}"],
        *[[f"  {name}", f"{nbytes * mib:,.0f}"] for name, nbytes in size["largest"]],
    ]
    print_table(f"4. Memory and storage, MiB ({args.rows:,} rows)", ["what", "MiB"], memory_rows)
    print(f"load average (1 min) at the end: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    return {
        "sizes": {"rows": args.rows, "predictions_per_row": args.predictions_per_row, "features": args.features,
                  "queries": args.queries, "gzip": args.gzip, "chunk_lines": ChunkSize().lines},
        "server_start_to_ready_s": start_seconds,
        "load_average": {"start": load_start, "end": os.getloadavg()[0], "cpus": os.cpu_count()},
        "uploads": [{"step": n, "items": i, "seconds": s, "per_second": r} for n, i, s, r in setup.figures],
        "warm_ms": {kind: f.row() for kind, f in warm.items()},
        "cold": {"ready_s": ready_seconds, "first_ms": {kind: f.row().get("first_ms") for kind, f in cold.items()}},
        "memory_mib": {"upload_peak": memory_upload[0], "warm_peak": memory_first[0], "warm_current": memory_first[1],
                       "cold_peak": memory_second[0]},
        "postgres": size,
        "errors": {f"{phase} {kind}": f.errors for phase, figures in (("warm", warm), ("cold", cold))
                   for kind, f in figures.items() if f.errors},
    }  # fmt: skip


if __name__ == "__main__":
    main()
