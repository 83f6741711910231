"""PostgreSQL connections per server process: prints figures, asserts nothing.

Starts `modelledger serve` processes on a fresh schema of an external PostgreSQL (the
POSTGRES_* variables, 127.0.0.1:5432 as user postgres unless set) and counts the connections
each one holds (PostgreSQL's pg_stat_activity, matched to the process by its client ports):

* the first server idle, 5 s and 40 s after it answers /ready;
* under load: 16 clients at once for 20 s, each sending GraphQL queries (metrics at a random
  grid point, a page of data rows) with now and then a prediction upload; the peak, sampled
  every 0.2 s;
* 40 s and 120 s after the load;
* a second server on the same database (its read models on standby), idle 5 s and 40 s after
  /ready, and the first one then.

    python -m bench.connections
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter

import httpx
import orjson
import psutil
import psycopg

from storage.database import Database, drop_schema, ensure_schema

CLIENTS = 16
LOAD_SECONDS = 20.0
ROWS = 200

CREATE_DATASET = "mutation($n: String!) { createDataset(input: {name: $n}) { ... on CreateDatasetPayload { dataset { id } } } }"
CREATE_MODEL = """mutation($n: String!) { createModel(input: {name: $n, ontology: {tools: [{name: "car", tool: BBOX}]}}) {
  ... on CreateModelPayload { model { id } } } }"""
CREATE_RUN = "mutation($i: CreateModelRunInput!) { createModelRun(input: $i) { ... on CreateModelRunPayload { modelRun { id } } } }"
METRICS = """query($id: ID!, $c: Float!, $t: Float!) { modelRun(id: $id) {
  metrics(confidence: $c, iou: $t) { dataRows all { tp fp fn } } dataRows(first: 20) { totalCount } } }"""


def database() -> Database:
    env = os.environ
    return Database(
        {
            "POSTGRES_DBNAME": env.get("POSTGRES_DBNAME", "postgres"),
            "POSTGRES_HOST": env.get("POSTGRES_HOST", "127.0.0.1"),
            "POSTGRES_PORT": env.get("POSTGRES_PORT", "5432"),
            "POSTGRES_USER": env.get("POSTGRES_USER", "postgres"),
            "POSTGRES_PASSWORD": env.get("POSTGRES_PASSWORD", ""),
        }
    )


def start(db: Database, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, **db.settings, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def wait_ready(url: str) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/ready", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} not ready")


def connections(db: Database, proc: subprocess.Popen[bytes]) -> int:
    """The connections to PostgreSQL the process (and its children) holds now."""
    ports = set()
    family = psutil.Process(proc.pid)
    for p in [family, *family.children(recursive=True)]:
        for c in p.net_connections(kind="inet"):
            if c.raddr and c.raddr.port == int(db.settings["POSTGRES_PORT"]):
                ports.add(c.laddr.port)
    with psycopg.connect(db.conninfo(), autocommit=True) as conn:
        rows = conn.execute("SELECT client_port FROM pg_stat_activity WHERE client_port IS NOT NULL").fetchall()
    return sum(1 for (port,) in rows if port in ports)


def scenario(client: httpx.Client) -> str:
    def gql(query: str, **variables: object) -> dict:
        answer = client.post("/graphql", json={"query": query, "variables": variables}).json()
        assert "errors" not in answer, answer
        return answer["data"]

    dataset = gql(CREATE_DATASET, n="connections")["createDataset"]["dataset"]["id"]
    rows = [{"globalKey": f"r{i}", "rowData": f"https://example.com/{i}.jpg", "width": 100, "height": 100,
             "labels": [{"name": "car", "bbox": {"left": 10, "top": 10, "width": 20, "height": 20}}]} for i in range(ROWS)]  # fmt: skip
    assert client.post(f"/upload/datasets/{dataset}/data-rows", content=_ndjson(rows)).status_code == 200
    model = gql(CREATE_MODEL, n="connections")["createModel"]["model"]["id"]
    run = gql(CREATE_RUN, i={"modelId": model, "name": "r", "datasetId": dataset})["createModelRun"]["modelRun"]["id"]
    assert _predict(client, run, 0.9).status_code == 200
    return str(run)


def _ndjson(lines: list[dict]) -> bytes:
    return b"\n".join(orjson.dumps(line) for line in lines) + b"\n"


def _predict(client: httpx.Client, run: str, confidence: float) -> httpx.Response:
    lines = [{"dataRow": {"globalKey": f"r{i}"}, "name": "car", "confidence": confidence,
              "bbox": {"left": 10 + random.random() * 5, "top": 10, "width": 20, "height": 20}} for i in range(ROWS)]  # fmt: skip
    return client.post(f"/upload/model-runs/{run}/predictions", content=_ndjson(lines))


def load(url: str, key: str, run: str, stop: threading.Event, answers: Counter[str]) -> None:
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=60) as client:
        n = 0
        while not stop.is_set():
            n += 1
            if n % 25 == 0:
                answers[f"upload {_predict(client, run, random.choice([0.6, 0.7, 0.8, 0.9])).status_code}"] += 1
                continue
            c, t = random.choice([0.0, 0.3, 0.5, 0.8]), random.choice([0.5, 0.7])
            answer = client.post("/graphql", json={"query": METRICS, "variables": {"id": run, "c": c, "t": t}})
            errors = answer.json().get("errors")
            answers[f"query {answer.status_code}" + (f" refused: {errors[0]['message'][:80]}" if errors else "")] += 1


def main() -> None:
    db = database().with_schema(f"bench_connections_{uuid.uuid4().hex[:8]}")
    ensure_schema(db)
    servers: list[subprocess.Popen[bytes]] = []
    try:
        made = subprocess.run(
            [sys.executable, "-m", "cli", "api-key", "create", "--name", "bench"],
            env={**os.environ, **db.settings}, capture_output=True, text=True, check=True,
        )  # fmt: skip
        key = next(line.strip() for line in made.stdout.splitlines() if line.strip().startswith("mlk_"))
        first_url = "http://127.0.0.1:8731"
        servers.append(start(db, 8731))
        wait_ready(first_url)
        figures: list[tuple[str, int | str]] = []
        time.sleep(5)
        figures.append(("first server, idle 5 s after /ready", connections(db, servers[0])))
        with httpx.Client(base_url=first_url, headers={"Authorization": f"Bearer {key}"}, timeout=120) as client:
            run = scenario(client)
        time.sleep(35)
        figures.append(("first server, idle 40 s after /ready", connections(db, servers[0])))

        stop = threading.Event()
        answers: Counter[str] = Counter()
        threads = [threading.Thread(target=load, args=(first_url, key, run, stop, answers)) for _ in range(CLIENTS)]
        for thread in threads:
            thread.start()
        peak = 0
        deadline = time.monotonic() + LOAD_SECONDS
        while time.monotonic() < deadline:
            peak = max(peak, connections(db, servers[0]))
            time.sleep(0.2)
        stop.set()
        for thread in threads:
            thread.join()
        figures.append((f"first server, peak under {CLIENTS} clients for {LOAD_SECONDS:g} s", peak))
        time.sleep(40)
        figures.append(("first server, 40 s after the load", connections(db, servers[0])))
        time.sleep(80)
        figures.append(("first server, 120 s after the load", connections(db, servers[0])))

        second_url = "http://127.0.0.1:8732"
        servers.append(start(db, 8732))
        wait_ready(second_url)
        time.sleep(5)
        figures.append(("second server (standby), idle 5 s after /ready", connections(db, servers[1])))
        time.sleep(35)
        figures.append(("second server (standby), idle 40 s after /ready", connections(db, servers[1])))
        figures.append(("first server then", connections(db, servers[0])))

        width = max(len(name) for name, _ in figures)
        print(f"{'PostgreSQL connections held':<{width}}  count")
        for name, value in figures:
            print(f"{name:<{width}}  {value:>5}")
        print("answers under load:")
        for kind, n in sorted(answers.items()):
            print(f"  {n:>6}  {kind}")
    finally:
        for proc in servers:
            proc.terminate()
        for proc in servers:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        drop_schema(db)


if __name__ == "__main__":
    main()
