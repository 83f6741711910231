"""Concurrent writers: those that name the version their edit is based on get CONFLICT and
retry; those that do not all land; no edit is lost or silently overwritten."""

from __future__ import annotations

import asyncio
import random
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from tests.server.live import LiveServer
from tests.server.operations import (
    HISTORY,
    UPDATE_CONFIG,
    build_scenario,
    data_row_lines,
    prediction_lines,
    wait_in_sync,
)

# Several servers, workers or clients at once: run alone (see the serial marker).
pytestmark = pytest.mark.serial

# Twenty clients keep colliding: with fifteen edits each they met 1,509 and 1,567 conflicts
# in two runs, in about 30 s per database server (fifty edits each took 80-95 s).
CLIENTS = 20
EDITS = 15
VERSION = "query($id: ID!) { modelRun(id: $id) { version } }"


async def graphql(client: httpx.AsyncClient, query: str, **variables: Any) -> dict[str, Any]:
    response = await client.post("/graphql", json={"query": query, "variables": variables})
    response.raise_for_status()
    answer = response.json()
    assert "errors" not in answer, answer
    return answer["data"]  # type: ignore[no-any-return]


async def edit_config(live: LiveServer, run_id: str, client_no: int) -> int:
    """EDITS edits, each based on the version just read; returns how many conflicts it met.

    Like any well-behaved client it backs off (exponentially, with jitter) before retrying
    a conflicting edit, so that twenty clients do not just keep colliding.
    """
    conflicts = 0
    headers = {"Authorization": f"Bearer {live.write_key}"}
    async with httpx.AsyncClient(base_url=live.url, headers=headers, timeout=60) as client:
        for edit in range(EDITS):
            streak = 0
            while True:
                version = (await graphql(client, VERSION, id=run_id))["modelRun"]["version"]
                config = {"client": client_no, "edit": edit}
                result = (await graphql(client, UPDATE_CONFIG, runId=run_id, config=config, expectedVersion=version))[
                    "updateModelRunConfig"
                ]
                if result.get("code") == "CONFLICT":
                    conflicts += 1
                    streak += 1
                    await asyncio.sleep(random.uniform(0, min(0.5, 0.02 * 2**streak)))
                    continue
                assert result["version"] > version, result
                break
    return conflicts


def read_history(live: LiveServer, run_id: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    after = None
    while True:
        page = live.reader.data(HISTORY, id=run_id, first=1000, after=after)["modelRun"]["history"]
        events += [edge["node"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return events
        after = page["pageInfo"]["endCursor"]


async def run_clients(live: LiveServer, run_id: str) -> list[int]:
    return await asyncio.gather(*(edit_config(live, run_id, n) for n in range(CLIENTS)))


def test_twenty_clients_times_fifteen_edits_end_at_version_301(live: LiveServer) -> None:
    run_id = build_scenario(live.writer, rows=1, prefix="race").run_id
    conflicts = asyncio.run(run_clients(live, run_id))

    version = live.reader.data(VERSION, id=run_id)["modelRun"]["version"]
    assert version == 1 + CLIENTS * EDITS
    events = read_history(live, run_id)
    assert [e["version"] for e in events] == list(range(1, version + 1))
    edits = [e["summary"]["config"] for e in events if e["type"] == "ConfigUpdated"]
    assert sorted((c["client"], c["edit"]) for c in edits) == [
        (n, k) for n in range(CLIENTS) for k in range(EDITS)
    ]
    # Each client's own edits are in the order it made them.
    for n in range(CLIENTS):
        assert [c["edit"] for c in edits if c["client"] == n] == list(range(EDITS))
    assert sum(conflicts) > 0, "the clients never raced; the test proves nothing"


UPLOADERS = 8
DISTRIBUTION = """
query($id: ID!) { modelRun(id: $id) { version predictionDistribution { edges { node { feature objects dataRows } } } } }"""


def at_once(count: int, send: Callable[[int], httpx.Response]) -> list[httpx.Response]:
    """`send(i)` for i in range(count), all released at the same moment."""
    start = threading.Barrier(count)

    def sent(i: int) -> httpx.Response:
        start.wait()
        return send(i)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(sent, range(count)))


def test_uploads_to_disjoint_rows_of_one_run_all_succeed(live: LiveServer) -> None:
    """Without expectedVersion nobody asked to be told of a concurrent write: each upload's
    write step is taken again until it lands (before: 30 of 40 such uploads answered 409)."""
    scenario = build_scenario(live.writer, rows=2 * UPLOADERS, prefix="disjoint")
    wait_in_sync(live.writer, scenario.run_id)
    before = live.reader.data(VERSION, id=scenario.run_id)["modelRun"]["version"]
    lines = prediction_lines(2 * UPLOADERS, "disjoint")
    path = f"/upload/model-runs/{scenario.run_id}/predictions"
    answers = at_once(UPLOADERS, lambda i: live.api(live.write_key).upload(path, lines[2 * i : 2 * i + 2]))
    assert [a.status_code for a in answers] == [200] * UPLOADERS, [a.text for a in answers if a.status_code != 200]
    assert sorted(a.json()["version"] for a in answers) == list(range(before + 1, before + UPLOADERS + 1))
    wait_in_sync(live.writer, scenario.run_id)
    run = live.reader.data(DISTRIBUTION, id=scenario.run_id)["modelRun"]
    assert run["version"] == before + UPLOADERS
    [car] = [e["node"] for e in run["predictionDistribution"]["edges"] if e["node"]["feature"] == "car"]
    assert (car["objects"], car["dataRows"]) == (2 * UPLOADERS, 2 * UPLOADERS)


def test_concurrent_row_uploads_take_each_key_once(live: LiveServer) -> None:
    """Disjoint keys all land; the same key sent by several at once lands once, and the others
    are refused naming it (the key check is made again after a concurrent save)."""
    scenario = build_scenario(live.writer, rows=1, prefix="keys")
    path = f"/upload/datasets/{scenario.dataset_id}/data-rows"
    shared = data_row_lines(1, "shared")
    answers = at_once(UPLOADERS, lambda i: live.api(live.write_key).upload(path, [*data_row_lines(1, f"own{i}"), *shared]))
    assert sorted(a.status_code for a in answers) == [200] + [422] * (UPLOADERS - 1), [a.text for a in answers]
    for refused in (a for a in answers if a.status_code == 422):
        assert refused.json()["errors"] == [
            {"line": 2, "message": f"globalKey 'shared-0' already exists in dataset {scenario.dataset_id}"}
        ]
    count = live.reader.data("query($id: ID!) { dataset(id: $id) { rowCount } }", id=scenario.dataset_id)
    assert count["dataset"]["rowCount"] == 1 + 1 + 1  # the scenario's row, one own row, the shared one


def test_config_edits_without_a_version_all_land(live: LiveServer) -> None:
    run_id = build_scenario(live.writer, rows=1, prefix="edits").run_id
    before = live.reader.data(VERSION, id=run_id)["modelRun"]["version"]

    def edit(i: int) -> httpx.Response:
        body = {"query": UPDATE_CONFIG, "variables": {"runId": run_id, "config": {"edit": i}}}
        return live.api(live.write_key).client.post("/graphql", json=body)

    answers = at_once(UPLOADERS, edit)
    results = [a.json()["data"]["updateModelRunConfig"] for a in answers]
    assert all("code" not in r for r in results), results
    assert live.reader.data(VERSION, id=run_id)["modelRun"]["version"] == before + UPLOADERS
