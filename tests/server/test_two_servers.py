"""Two API servers on one database, written to at once: every write answered as recorded
is there exactly once, seen through both, and no read model stops (each is written by one
server: projections.leases); the metrics computed are those of one server alone."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import orjson
import pytest

from runtime import open_runtime
from server import Settings
from storage.database import Database
from tests.server.live import Api, serve
from tests.server.operations import (
    CREATE_DATASET,
    build_scenario,
    data_row_lines,
    payload,
    prediction_lines,
    wait_in_sync,
)

# Several servers, workers or clients at once: run alone (see the serial marker).
pytestmark = pytest.mark.serial

FIGURES = "query($id: ID!) { modelRun(id: $id) { metrics(confidence: 0.5, iou: 0.5) { dataRows all { tp fp fn } } } }"
ROWS = "query($id: ID!) { dataset(id: $id) { rowCount dataRows(first: 1000) { nodes { globalKey } } } }"


@pytest.fixture(scope="module")
def servers(module_database: Database) -> Iterator[list[Api]]:
    runtimes = [open_runtime(module_database) for _ in range(2)]
    _, key = runtimes[0].app.create_api_key("writer", read_only=False, actor="test set-up")
    started = []
    try:
        for runtime in runtimes:
            started.append(serve(runtime, Settings()))
        headers = {"Authorization": f"Bearer {key}"}
        yield [Api(httpx.Client(base_url=url, headers=headers, timeout=120)) for url, _, _ in started]
    finally:
        for _, server, thread in started:
            server.should_exit = True
            thread.join(timeout=10)
        for runtime in reversed(runtimes):
            runtime.close()


def test_concurrent_writes_through_two_servers_all_land_once(servers: list[Api]) -> None:
    one, two = servers
    s = build_scenario(one, rows=16, prefix="tw")
    dataset = payload(two.data(CREATE_DATASET, name="tw more"), "createDataset")["dataset"]["id"]

    def predict(i: int) -> int:
        # Rows 2i and 2i+1, through the servers in turn.
        lines = prediction_lines(16, "tw")[2 * i : 2 * i + 2]
        return servers[i % 2].upload(f"/upload/model-runs/{s.run_id}/predictions", lines).status_code

    def add_rows(i: int) -> int:
        lines = data_row_lines(10, f"tw{i}")
        return servers[i % 2].upload(f"/upload/datasets/{dataset}/data-rows", lines).status_code

    with ThreadPoolExecutor(8) as pool:
        predicted = pool.map(predict, range(8))
        added = pool.map(add_rows, range(8))
        assert list(predicted) == [200] * 8 and list(added) == [200] * 8

    expected = sorted(f"tw{i}-{j}" for i in range(8) for j in range(10))
    for api in servers:
        shown = api.data(ROWS, id=dataset)["dataset"]
        assert shown["rowCount"] == 80
        assert sorted(n["globalKey"] for n in shown["dataRows"]["nodes"]) == expected
        wait_in_sync(api, s.run_id)
        # Every row predicted exactly on its label: 16 true positives, nothing else.
        figures = api.data(FIGURES, id=s.run_id)["modelRun"]["metrics"]
        assert figures == {"dataRows": 16, "all": {"tp": 16, "fp": 0, "fn": 0}}
    for api in servers:
        ready = api.client.get("/ready")
        assert ready.status_code == 200, ready.text


def test_a_retry_that_reaches_the_other_server_gets_the_same_answer(servers: list[Api]) -> None:
    """An idempotent retry may reach the other server: it answers the same."""
    one, two = servers
    dataset = payload(one.data(CREATE_DATASET, name="tw retry"), "createDataset")["dataset"]["id"]
    body = b"\n".join(orjson.dumps(line) for line in data_row_lines(5, "twr")) + b"\n"
    headers = {"Content-Type": "application/x-ndjson", "Idempotency-Key": "two-servers-1"}
    first = one.client.post(f"/upload/datasets/{dataset}/data-rows", content=body, headers=headers)
    again = two.client.post(f"/upload/datasets/{dataset}/data-rows", content=body, headers=headers)
    assert first.status_code == again.status_code == 200 and first.json() == again.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert two.data(ROWS, id=dataset)["dataset"]["rowCount"] == 5
