"""Concurrent writers get CONFLICT and retry; no edit is lost or silently overwritten."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import httpx

from tests.server.live import LiveServer
from tests.server.operations import HISTORY, UPDATE_CONFIG, build_scenario

CLIENTS = 20
EDITS = 50
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


def test_twenty_clients_times_fifty_edits_end_at_version_1001(live: LiveServer) -> None:
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
