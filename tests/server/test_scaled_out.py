"""Scaled out: two API servers and two workers on one database and one Redis, written to at
once by several clients through both servers, with a worker (in the middle of a chunk) and
the server that writes the read models killed (-9) while predictions are uploaded.

Every upload carries an Idempotency-Key and is sent again, to the other server, when its
answer is lost or is 409 / 502 / 503. In the end every upload is answered 200; each row,
label and prediction is there exactly once; the metrics were computed by the workers (with
REDIS_URL set a server computes nothing, workers.in_process.server_work), each chunk
recorded once; they reach IN_SYNC on the survivor and on the killed server started again,
and equal those of the same data loaded into a clean schema by one in-process server.
`/ready` is 200 and `replay --verify` passes.

Real processes (`python -m cli serve`, `modelledger worker`) on the external PostgreSQL and
a Redis of the test's own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from application import ModelLedger
from runtime import open_runtime
from server import Settings
from storage.database import Database
from tests.conftest import fresh_schema
from tests.processes import (
    ServerProcess,
    WorkerProcess,
    api_key,
    post_until_answered,
    replay_verify,
)
from tests.server.live import Api, serve
from tests.server.operations import (
    CREATE_DATASET,
    CREATE_MODEL,
    CREATE_RUN,
    ONTOLOGY,
    box,
    payload,
    wait_in_sync,
)
from tests.workers.redis_server import RedisServer, running_redis
from tests.workers.slow_kind import COMPUTED, COMPUTING
from tests.workers.stack import assert_computed_once, eventually

# Several servers, workers or clients at once: run alone (see the serial marker).
pytestmark = pytest.mark.serial

ROWS = 36
ROW_CLIENTS, ROW_UPLOADS = 3, 6  # threads, and data-row uploads in all (the rows split evenly)
PREDICTION_CLIENTS, PREDICTION_UPLOADS = 4, 12  # the same for the prediction uploads
GRID = [(0.5, 0.5), (0.7, 0.8)]  # (confidence, iou) points the metrics are compared at
SERVER_ENV = {"MODELLEDGER_SWEEP_POLL_SECONDS": "0.2", "MODELLEDGER_SWEEP_STALE_SECONDS": "3"}
SLOW_KIND = "tests.workers.slow_kind"  # the workers' metric chunks take WORKER_ENV's seconds
WORKER_ENV = {"MODELLEDGER_TEST_CHUNK_SECONDS": "0.4"}
NDJSON = "application/x-ndjson"

FIGURES = """
fragment F on FeatureMetrics { feature tp fp fn tn precision recall f1 iou annotations predictions }
query($id: ID!, $confidence: Float!, $iou: Float!) {
  modelRun(id: $id) {
    metrics(confidence: $confidence, iou: $iou) {
      dataRows pendingDataRows all { ...F } features { ...F } macro { precision recall f1 iou }
    }
    precisionRecallCurve(iou: $iou) { confidence precision recall }
  }
}"""
RUN = """
query($id: ID!) {
  modelRun(id: $id) {
    rowCount dataRows(first: 1000) { totalCount nodes { globalKey labels predictions } }
    history(first: 1000) { edges { node { type } } }
    metricsStatus { state pendingDataRows error }
  }
}"""
DATASET = """
query($id: ID!) {
  dataset(id: $id) { rowCount dataRows(first: 1000) { nodes { globalKey labels } } }
}"""


def row_line(i: int) -> dict[str, Any]:
    """Row i: a car, a person on two rows of three, and the weather."""
    labels: list[dict[str, Any]] = [{"name": "car", "bbox": box(20 + i, 30, 60, 40)}]
    if i % 3:
        labels.append({"name": "person", "bbox": box(200, 100 + i, 30, 80)})
    labels.append({"name": "weather", "answer": {"name": "sunny" if i % 2 else "rainy"}})
    asset = f"https://assets.example/sc-{i}.jpg"
    return {"globalKey": f"sc-{i}", "rowData": asset, "width": 640, "height": 480, "labels": labels}


def prediction_lines(i: int) -> list[dict[str, Any]]:
    """Row i's predictions: its car shifted (IoU 1 down to 0.54) at confidences 0.35 to 0.95,
    a person on two rows of three (not all labelled ones), a stray car on every fifth row,
    and always sunny."""
    row = {"globalKey": f"sc-{i}"}
    car = box(20 + i + 6 * (i % 4), 30, 60, 40)
    lines = [{"dataRow": row, "name": "car", "bbox": car, "confidence": 0.35 + 0.1 * (i % 7)}]
    if i % 3 != 1:
        person, confidence = box(203, 100 + i, 30, 80), 0.6 + 0.08 * (i % 5)
        lines.append({"dataRow": row, "name": "person", "bbox": person, "confidence": confidence})
    if i % 5 == 0:
        lines.append({"dataRow": row, "name": "car", "bbox": box(500, 300), "confidence": 0.45})
    lines.append(
        {"dataRow": row, "name": "weather", "answer": {"name": "sunny"}, "confidence": 0.8}
    )
    return lines


def bodies(lines: Callable[[int], list[dict[str, Any]]], uploads: int) -> list[bytes]:
    """The NDJSON bodies of `uploads` uploads, upload u holding rows u, u + uploads, …"""
    return [
        b"\n".join(orjson.dumps(line) for i in range(u, ROWS, uploads) for line in lines(i)) + b"\n"
        for u in range(uploads)
    ]


ROW_BODIES = bodies(lambda i: [row_line(i)], ROW_UPLOADS)
PREDICTION_BODIES = bodies(prediction_lines, PREDICTION_UPLOADS)


def create_dataset(api: Api) -> str:
    return str(payload(api.data(CREATE_DATASET, name="scaled"), "createDataset")["dataset"]["id"])


def create_run(api: Api, dataset_id: str) -> str:
    model = payload(api.data(CREATE_MODEL, name="scaled", ontology=ONTOLOGY), "createModel")
    run = {"modelId": model["model"]["id"], "name": "scaled", "datasetId": dataset_id}
    return str(payload(api.data(CREATE_RUN, input=run), "createModelRun")["modelRun"]["id"])


def close_to(value: Any) -> Any:
    """`value` with each float compared to 12 digits: a mean IoU sums its terms in the order
    the chunks' results came, so it may differ in the last digit from one run to another."""
    if isinstance(value, float):
        return pytest.approx(value, rel=1e-12)
    if isinstance(value, dict):
        return {k: close_to(v) for k, v in value.items()}
    if isinstance(value, list):
        return [close_to(v) for v in value]
    return value


def shown(api: Api, dataset_id: str, run_id: str) -> dict[str, Any]:
    """What a server shows: the dataset's rows with their labels, the run's rows with their
    labels and predictions (by global key), its history, status, and metrics at GRID."""
    dataset = api.data(DATASET, id=dataset_id)["dataset"]
    run = api.data(RUN, id=run_id)["modelRun"]
    nodes = run["dataRows"]["nodes"]
    return {
        "rowCount": (dataset["rowCount"], run["rowCount"], run["dataRows"]["totalCount"]),
        "dataset": {n["globalKey"]: n["labels"] for n in dataset["dataRows"]["nodes"]},
        "run": {n["globalKey"]: (n["labels"], n["predictions"]) for n in nodes},
        "history": [edge["node"]["type"] for edge in run["history"]["edges"]],
        "status": run["metricsStatus"],
        "figures": [api.data(FIGURES, id=run_id, confidence=c, iou=i)["modelRun"] for c, i in GRID],
    }


def client(url: str, key: str) -> Api:
    return Api(httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=60))


def load_one_by_one(api: Api) -> dict[str, Any]:
    """The uploads sent one after another, each once: what the server shows once in sync."""
    dataset_id = create_dataset(api)
    for body in ROW_BODIES:
        answer = api.upload(f"/upload/datasets/{dataset_id}/data-rows", body)
        assert answer.status_code == 200, answer.text
    run_id = create_run(api, dataset_id)
    for body in PREDICTION_BODIES:
        answer = api.upload(f"/upload/model-runs/{run_id}/predictions", body)
        assert answer.status_code == 200, answer.text
    wait_in_sync(api, run_id)
    return shown(api, dataset_id, run_id)


def clean_run(server: Database) -> dict[str, Any]:
    """The same data loaded into a fresh schema through one in-process server (with its
    in-process workers), no fault."""
    with fresh_schema(server, "t_scale_clean_") as database:
        runtime = open_runtime(database)
        try:
            _, key = runtime.app.create_api_key("clean", read_only=False, actor="test set-up")
            url, uvicorn_server, thread = serve(runtime, Settings())
            try:
                return load_one_by_one(client(url, key))
            finally:
                uvicorn_server.should_exit = True
                thread.join(timeout=10)
        finally:
            runtime.close()


def send_all(
    urls: list[str],
    path: str,
    headers: dict[str, str],
    uploads: list[bytes],
    clients: int,
    after: Callable[[int, int], None] = lambda client, n: None,
) -> list[int]:
    """The uploads sent by `clients` threads at once (client c sends uploads c, c + clients, …
    in turn, calling `after(c, n)` once its n-th is answered), each with an Idempotency-Key
    of its own and retried on the other server until answered for good: their statuses."""
    kind = path.rsplit("/", 1)[-1]  # the keys of data-row uploads and prediction uploads differ

    def client(c: int) -> list[int]:
        statuses = []
        for n, u in enumerate(range(c, len(uploads), clients)):
            keyed = {**headers, "Content-Type": NDJSON, "Idempotency-Key": f"{kind}-{u}"}
            statuses.append(post_until_answered(urls, path, uploads[u], keyed, first=u).status_code)
            after(c, n)
        return statuses

    with ThreadPoolExecutor(clients) as pool:
        return [status for statuses in pool.map(client, range(clients)) for status in statuses]


def logged(log: Path) -> list[str]:
    """The chunks a worker's log says it started and computed, in order."""
    lines = log.read_text(errors="replace").splitlines()
    return [line for line in lines if COMPUTING in line or COMPUTED in line]


def mid_chunk(log: Path) -> str | None:
    """The chunk ("<computation id> <chunk>") the worker of this log has started and not
    finished, if any."""
    last = logged(log)[-1:]
    return " ".join(last[0].split()[-2:]) if last and COMPUTING in last[0] else None


def computed_by(logs: list[Path]) -> set[tuple[str, int]]:
    """(computation id, chunk) of every chunk these workers' logs say they computed."""
    return {
        (computation, int(chunk))
        for log in logs
        for line in logged(log)
        if COMPUTED in line
        for computation, chunk in [line.split()[-2:]]
    }


def completed_chunks(database: Database) -> set[tuple[str, int]]:
    """(computation id, chunk) of every chunk completed in the log, each recorded once."""
    app = ModelLedger(env=database.application_env())
    try:
        return assert_computed_once(app)
    finally:
        app.close()


@pytest.fixture
def schema(external_server: Database) -> Iterator[Database]:
    with fresh_schema(external_server, "t_scale_") as scoped:
        yield scoped


@pytest.fixture
def redis_db() -> Iterator[RedisServer]:
    with running_redis() as server:
        yield server


def test_two_servers_and_two_workers_lose_and_double_nothing_under_kills(
    schema: Database, external_server: Database, redis_db: RedisServer, tmp_path: Path
) -> None:
    # First, to compare with, and apart: the processes below take connections enough.
    expected = clean_run(external_server)
    assert expected["status"] == {"state": "IN_SYNC", "pendingDataRows": 0, "error": None}
    assert expected["rowCount"] == (ROWS, ROWS, ROWS)
    assert sorted(expected["run"]) == sorted(f"sc-{i}" for i in range(ROWS))
    for i in range(ROWS):
        labels, predictions = expected["run"][f"sc-{i}"]
        assert len(labels) == len(row_line(i)["labels"])
        assert len(predictions) == len(prediction_lines(i))
    assert expected["history"].count("PredictionsUploaded") == PREDICTION_UPLOADS

    key = api_key(schema, "scale test")
    headers = {"Authorization": f"Bearer {key}"}
    env = {"REDIS_URL": redis_db.url, **SERVER_ENV}
    logs = [tmp_path / "worker-1.log", tmp_path / "worker-2.log"]
    first = ServerProcess(schema, env, tmp_path / "server-1.log")
    servers = [first]
    workers = [WorkerProcess(schema, redis_db.url, SLOW_KIND, log, WORKER_ENV) for log in logs]
    try:
        first.wait_ready()  # it holds every read model's lease
        second = ServerProcess(schema, env, tmp_path / "server-2.log")
        servers.append(second)
        second.wait_ready()
        urls = [first.url, second.url]
        apis = [client(url, key) for url in urls]

        dataset_id = create_dataset(apis[1])
        path = f"/upload/datasets/{dataset_id}/data-rows"
        assert send_all(urls, path, headers, ROW_BODIES, ROW_CLIENTS) == [200] * ROW_UPLOADS
        run_id = create_run(apis[0], dataset_id)

        killed: list[str] = []

        def kill_midway(c: int, n: int) -> None:
            """Once the first client's first prediction upload is answered: the first worker
            in the middle of a chunk, then the server holding the read models' leases, while
            the other clients' uploads are in flight."""
            if c == 0 and n == 0:
                chunk = eventually(lambda: mid_chunk(logs[0]), "the first worker mid-chunk", 30)
                workers[0].kill()
                first.kill()
                killed.append(chunk)

        path = f"/upload/model-runs/{run_id}/predictions"
        predicted = send_all(
            urls, path, headers, PREDICTION_BODIES, PREDICTION_CLIENTS, kill_midway
        )
        assert killed
        assert predicted == [200] * PREDICTION_UPLOADS

        # The killed server starts again on the same database while the survivor's metrics
        # come in sync; both end showing what the clean run shows.
        restarted = ServerProcess(schema, env, tmp_path / "server-3.log")
        servers.append(restarted)
        wait_in_sync(apis[1], run_id, timeout=60)
        restarted.wait_ready()
        apis[0] = client(restarted.url, key)
        wait_in_sync(apis[0], run_id, timeout=60)
        for api in apis:
            assert shown(api, dataset_id, run_id) == close_to(expected)
            ready = api.client.get("/ready")
            assert ready.status_code == 200, ready.text

        # The workers computed every chunk, each recorded once; the chunk the first one died
        # on, the other one computed (every sweeper sends a chunk to the queue, so it may
        # have been computing it at the same time).
        assert completed_chunks(schema) <= computed_by(logs)
        assert logged(logs[0])[-1].endswith(f"{COMPUTING} {killed[0]}")
        assert any(line.endswith(f"{COMPUTED} {killed[0]}") for line in logged(logs[1]))
        replay_verify(schema)
    finally:
        for server in servers:
            server.stop()
        for worker in workers:
            worker.stop()
