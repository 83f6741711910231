"""kill -9 of the server that writes the read models, with two servers on one database and
clients uploading through both: every upload is answered as recorded in the end (a client
retries the same request, with its Idempotency-Key, on the other server), each one is there
exactly once, the surviving server takes the read models over, and a rebuild of every read
model from the log equals the live ones.

Real processes (`modelledger serve`) on the external PostgreSQL.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import orjson
import pytest

from storage.database import Database
from tests.conftest import fresh_schema
from tests.server.live import free_port
from tests.server.operations import CREATE_DATASET, data_row_lines

CLIENTS = 6
UPLOADS = 5  # per client, 4 rows each
ROWS = "query($id: ID!) { dataset(id: $id) { rowCount dataRows(first: 1000) { nodes { globalKey } } } }"


class Server:
    def __init__(self, database: Database) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "cli", "serve", "--port", str(self.port)],
            env={**os.environ, **database.settings, "PYTHONUNBUFFERED": "1"},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def wait_ready(self, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while True:
            try:
                if httpx.get(self.url + "/ready", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            assert self.proc.poll() is None, f"the server exited with {self.proc.returncode}"
            assert time.monotonic() < deadline, "the server did not become ready"
            time.sleep(0.1)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture
def schema(external_server: Database) -> Iterator[Database]:
    with fresh_schema(external_server, "t_kill_") as scoped:
        yield scoped


def _key(database: Database) -> str:
    made = subprocess.run(
        [sys.executable, "-m", "cli", "api-key", "create", "--name", "kill test"],
        env={**os.environ, **database.settings}, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return made.stdout.strip()


def test_killing_the_writing_server_loses_and_doubles_nothing(schema: Database) -> None:
    key = _key(schema)
    first = Server(schema)
    first.wait_ready()  # it holds every read model's lease
    second = Server(schema)
    servers = [first, second]
    try:
        second.wait_ready()
        headers = {"Authorization": f"Bearer {key}"}
        created = httpx.post(
            second.url + "/graphql", json={"query": CREATE_DATASET, "variables": {"name": "killed"}}, headers=headers
        ).json()
        dataset = created["data"]["createDataset"]["dataset"]["id"]
        killed = threading.Event()
        replayed = 0

        def upload(client_no: int) -> list[int]:
            nonlocal replayed
            statuses = []
            for n in range(UPLOADS):
                body = b"\n".join(orjson.dumps(line) for line in data_row_lines(4, f"k{client_no}-{n}")) + b"\n"
                sent = {**headers, "Content-Type": "application/x-ndjson", "Idempotency-Key": f"{client_no}-{n}"}
                attempt = client_no + n
                deadline = time.monotonic() + 120
                while True:
                    server = servers[attempt % 2]
                    attempt += 1
                    try:
                        answer = httpx.post(
                            f"{server.url}/upload/datasets/{dataset}/data-rows", content=body, headers=sent, timeout=60
                        )
                    except httpx.HTTPError:
                        answer = None  # the answer is lost: send the same request again
                    if answer is not None and answer.status_code == 200:
                        replayed += answer.headers.get("Idempotent-Replayed") == "true"
                        statuses.append(200)
                        break
                    if answer is not None and answer.status_code not in (409, 502, 503):
                        statuses.append(answer.status_code)  # a refusal: the test fails on it
                        break
                    assert time.monotonic() < deadline, "an upload was not answered as recorded in 120 s"
                    time.sleep(0.2)
                if n == 1 and client_no == 0:
                    first.proc.send_signal(signal.SIGKILL)
                    killed.set()
            return statuses

        with ThreadPoolExecutor(CLIENTS) as pool:
            statuses = [s for part in pool.map(upload, range(CLIENTS)) for s in part]
        assert killed.is_set()
        assert statuses == [200] * (CLIENTS * UPLOADS)

        # The survivor wrote on: it shows every row, once.
        shown = httpx.post(second.url + "/graphql", json={"query": ROWS, "variables": {"id": dataset}}, headers=headers).json()
        keys = sorted(n["globalKey"] for n in shown["data"]["dataset"]["dataRows"]["nodes"])
        expected = sorted(f"k{c}-{n}-{i}" for c in range(CLIENTS) for n in range(UPLOADS) for i in range(4))
        assert keys == expected and shown["data"]["dataset"]["rowCount"] == len(expected)
        assert httpx.get(second.url + "/ready", timeout=10).status_code == 200

        # The killed one starts again on the same database and answers the same.
        restarted = Server(schema)
        servers.append(restarted)
        restarted.wait_ready()
        again = httpx.post(restarted.url + "/graphql", json={"query": ROWS, "variables": {"id": dataset}}, headers=headers)
        assert again.json()["data"]["dataset"]["rowCount"] == len(expected)
        verified = subprocess.run(
            [sys.executable, "-m", "cli", "replay", "--verify"],
            env={**os.environ, **schema.settings}, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert verified.returncode == 0, verified.stdout + verified.stderr
    finally:
        for server in servers:
            server.stop()
