"""`projectionStatus` over graphql-transport-ws: COMPUTING with its stages, then READY."""

from __future__ import annotations

import json
from typing import Any

import pytest
from websockets.sync.client import ClientConnection, connect

from tests.schema.projector.operations import request, vector_lines, vectors
from tests.server.live import LiveServer
from tests.server.operations import Scenario, build_scenario

PROTOCOL = "graphql-transport-ws"
STATUS = """subscription($run: ID!, $id: ID!) {
  projectionStatus(runId: $run, projectionId: $id) { id state progress stage error }
}"""


@pytest.fixture(scope="module")
def scenario(live: LiveServer) -> Scenario:
    built = build_scenario(live.writer, rows=40, prefix="st")
    answer = live.writer.upload(f"/upload/datasets/{built.dataset_id}/embeddings/clip", vector_lines("st", vectors(40, 6)))
    assert answer.status_code == 200, answer.text
    return built


def send(ws: ClientConnection, message: dict[str, Any]) -> None:
    ws.send(json.dumps(message))


def receive(ws: ClientConnection, timeout: float = 300.0) -> dict[str, Any]:
    while True:
        message: dict[str, Any] = json.loads(ws.recv(timeout=timeout))
        if message["type"] != "ping":
            return message


def test_the_status_is_pushed_until_ready(live: LiveServer, scenario: Scenario) -> None:
    made = request(live.writer, runId=scenario.run_id, space="clip", method="UMAP")
    pid = made["projection"]["id"]
    with connect(live.ws_url, subprotocols=[PROTOCOL]) as ws:  # type: ignore[list-item]
        send(ws, {"type": "connection_init", "payload": {"authorization": f"Bearer {live.read_key}"}})
        assert receive(ws)["type"] == "connection_ack"
        send(ws, {"id": "p", "type": "subscribe", "payload": {"query": STATUS, "variables": {"run": scenario.run_id, "id": pid}}})
        states: list[dict[str, Any]] = []
        while True:
            message = receive(ws)
            if message["type"] == "complete":
                break
            assert message["type"] == "next", message
            states.append(message["payload"]["data"]["projectionStatus"])
    assert states[-1]["state"] == "READY" and states[-1]["progress"] == 1.0
    assert all(s["state"] in ("COMPUTING", "READY") for s in states)
    # Each message is a change: no status is pushed twice in a row.
    assert all(a != b for a, b in zip(states, states[1:], strict=False))


def test_an_unknown_projection_is_an_error(live: LiveServer, scenario: Scenario) -> None:
    with connect(live.ws_url, subprotocols=[PROTOCOL]) as ws:  # type: ignore[list-item]
        send(ws, {"type": "connection_init", "payload": {"authorization": f"Bearer {live.read_key}"}})
        assert receive(ws)["type"] == "connection_ack"
        variables = {"run": scenario.run_id, "id": "00000000-0000-4000-8000-000000000000"}
        send(ws, {"id": "x", "type": "subscribe", "payload": {"query": STATUS, "variables": variables}})
        message = receive(ws, timeout=30)
        assert message["type"] == "error" or "errors" in message.get("payload", {}), message
