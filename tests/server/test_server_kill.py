"""kill -9 of the server that writes the read models, with two servers on one database and
clients uploading through both: every upload is answered as recorded in the end (a client
retries the same request, with its Idempotency-Key, on the other server), each one is there
exactly once, the surviving server takes the read models over, and a rebuild of every read
model from the log equals the live ones.

Real processes (`modelledger serve`) on the external PostgreSQL.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import orjson
import pytest

from storage.database import Database
from tests.conftest import fresh_schema
from tests.processes import ServerProcess, api_key, post_until_answered, replay_verify
from tests.server.operations import CREATE_DATASET, data_row_lines

# Several servers, workers or clients at once: run alone (see the serial marker).
pytestmark = pytest.mark.serial

CLIENTS = 6
UPLOADS = 5  # per client, 4 rows each
ROWS = "query($id: ID!) { dataset(id: $id) { rowCount dataRows(first: 1000) { nodes { globalKey } } } }"


@pytest.fixture
def schema(external_server: Database) -> Iterator[Database]:
    with fresh_schema(external_server, "t_kill_") as scoped:
        yield scoped


def test_killing_the_writing_server_loses_and_doubles_nothing(schema: Database) -> None:
    key = api_key(schema, "kill test")
    first = ServerProcess(schema)
    first.wait_ready()  # it holds every read model's lease
    second = ServerProcess(schema)
    servers = [first, second]
    try:
        second.wait_ready()
        headers = {"Authorization": f"Bearer {key}"}
        created = httpx.post(
            second.url + "/graphql",
            json={"query": CREATE_DATASET, "variables": {"name": "killed"}},
            headers=headers,
        ).json()
        dataset = created["data"]["createDataset"]["dataset"]["id"]
        killed = threading.Event()
        replayed = 0

        def upload(client_no: int) -> list[int]:
            nonlocal replayed
            statuses = []
            for n in range(UPLOADS):
                body = (
                    b"\n".join(
                        orjson.dumps(line) for line in data_row_lines(4, f"k{client_no}-{n}")
                    )
                    + b"\n"
                )
                sent = {
                    **headers,
                    "Content-Type": "application/x-ndjson",
                    "Idempotency-Key": f"{client_no}-{n}",
                }
                path = f"/upload/datasets/{dataset}/data-rows"
                answer = post_until_answered(
                    [s.url for s in servers[:2]], path, body, sent, first=client_no + n
                )
                replayed += answer.headers.get("Idempotent-Replayed") == "true"
                # Anything but 200 is a refusal: the test fails on it.
                statuses.append(answer.status_code)
                if n == 1 and client_no == 0:
                    first.kill()
                    killed.set()
            return statuses

        with ThreadPoolExecutor(CLIENTS) as pool:
            statuses = [s for part in pool.map(upload, range(CLIENTS)) for s in part]
        assert killed.is_set()
        assert statuses == [200] * (CLIENTS * UPLOADS)

        # The survivor wrote on: it shows every row, once.
        shown = httpx.post(
            second.url + "/graphql",
            json={"query": ROWS, "variables": {"id": dataset}},
            headers=headers,
        ).json()
        keys = sorted(n["globalKey"] for n in shown["data"]["dataset"]["dataRows"]["nodes"])
        expected = sorted(
            f"k{c}-{n}-{i}" for c in range(CLIENTS) for n in range(UPLOADS) for i in range(4)
        )
        assert keys == expected and shown["data"]["dataset"]["rowCount"] == len(expected)
        assert httpx.get(second.url + "/ready", timeout=10).status_code == 200

        # The killed one starts again on the same database and answers the same.
        restarted = ServerProcess(schema)
        servers.append(restarted)
        restarted.wait_ready()
        again = httpx.post(
            restarted.url + "/graphql",
            json={"query": ROWS, "variables": {"id": dataset}},
            headers=headers,
        )
        assert again.json()["data"]["dataset"]["rowCount"] == len(expected)
        replay_verify(schema)
    finally:
        for server in servers:
            server.stop()
