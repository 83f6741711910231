"""`modelRunEvents` over graphql-transport-ws with a real websocket client."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from tests.server.live import LiveServer
from tests.server.operations import UPDATE_CONFIG, Scenario, build_scenario, payload

PROTOCOL = "graphql-transport-ws"
EVENTS = "subscription($id: ID!, $after: Int) { modelRunEvents(runId: $id, afterVersion: $after) { runId version type actor summary } }"


@pytest.fixture(scope="module")
def scenario(live: LiveServer) -> Scenario:
    return build_scenario(live.writer, rows=2, prefix="ws")


def send(ws: ClientConnection, message: dict[str, Any]) -> None:
    ws.send(json.dumps(message))


def receive(ws: ClientConnection, timeout: float = 10.0) -> dict[str, Any]:
    while True:
        message: dict[str, Any] = json.loads(ws.recv(timeout=timeout))
        if message["type"] != "ping":
            return message


@contextmanager
def open_session(live: LiveServer, payload: dict[str, Any] | None) -> Iterator[ClientConnection]:
    with connect(live.ws_url, subprotocols=[PROTOCOL]) as ws:  # type: ignore[list-item]
        send(ws, {"type": "connection_init", **({} if payload is None else {"payload": payload})})
        yield ws


@pytest.mark.parametrize(
    "init", [None, {}, {"authorization": "Bearer mlk_wrong"}, {"authorization": "not bearer"}]
)
def test_a_websocket_without_a_valid_key_is_rejected(live: LiveServer, init: dict[str, Any] | None) -> None:
    with open_session(live, init) as ws:
        with pytest.raises(ConnectionClosed) as closed:
            receive(ws, timeout=5)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403


def test_subscribing_before_connection_init_is_refused(live: LiveServer, scenario: Scenario) -> None:
    with connect(live.ws_url, subprotocols=[PROTOCOL]) as ws:  # type: ignore[list-item]
        send(ws, {"id": "1", "type": "subscribe", "payload": {"query": EVENTS, "variables": {"id": scenario.run_id}}})
        with pytest.raises(ConnectionClosed) as closed:
            receive(ws, timeout=5)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401


def test_events_are_pushed_as_they_are_recorded(live: LiveServer, scenario: Scenario) -> None:
    with open_session(live, {"authorization": f"Bearer {live.read_key}"}) as ws:
        assert receive(ws)["type"] == "connection_ack"
        send(ws, {"id": "s1", "type": "subscribe", "payload": {"query": EVENTS, "variables": {"id": scenario.run_id, "after": 1}}})
        for edit in range(3):
            payload(live.writer.data(UPDATE_CONFIG, runId=scenario.run_id, config={"edit": edit}), "updateModelRunConfig")
        pushed = [receive(ws) for _ in range(3)]
        assert [m["type"] for m in pushed] == ["next"] * 3 and {m["id"] for m in pushed} == {"s1"}
        events = [m["payload"]["data"]["modelRunEvents"] for m in pushed]
        assert [e["version"] for e in events] == [2, 3, 4]
        assert {(e["type"], e["actor"], e["runId"]) for e in events} == {("ConfigUpdated", "writer", scenario.run_id)}
        assert [e["summary"]["config"] for e in events] == [{"edit": 0}, {"edit": 1}, {"edit": 2}]

        # Later events keep coming on the same subscription.
        live.writer.data(
            """mutation($id: ID!) { renameModelRun(input: {runId: $id, name: "live"}) { __typename } }""",
            id=scenario.run_id,
        )
        later = receive(ws)["payload"]["data"]["modelRunEvents"]
        assert (later["version"], later["type"]) == (5, "Renamed")
        send(ws, {"id": "s1", "type": "complete"})


def test_without_after_version_only_new_events_come(live: LiveServer, scenario: Scenario) -> None:
    latest = live.reader.data("query($id: ID!) { modelRun(id: $id) { version } }", id=scenario.run_id)["modelRun"]["version"]
    with open_session(live, {"authorization": f"Bearer {live.read_key}"}) as ws:
        assert receive(ws)["type"] == "connection_ack"
        send(ws, {"id": "now", "type": "subscribe", "payload": {"query": EVENTS, "variables": {"id": scenario.run_id}}})
        # The protocol has no "subscribed" message, so changes are made until one is pushed:
        # the first pushed is one of them (never an event from before the subscription).
        made: dict[int, int] = {}
        for attempt in range(50):
            changed = live.writer.data(UPDATE_CONFIG, runId=scenario.run_id, config={"now": attempt})
            made[payload(changed, "updateModelRunConfig")["version"]] = attempt
            try:
                event = receive(ws, timeout=0.2)["payload"]["data"]["modelRunEvents"]
            except TimeoutError:
                continue
            break
        else:
            raise AssertionError("no change was pushed")
        assert event["version"] in made and event["version"] > latest
        assert event["summary"]["config"] == {"now": made[event["version"]]}


def test_an_unknown_run_is_an_error_message(live: LiveServer) -> None:
    with open_session(live, {"authorization": f"Bearer {live.read_key}"}) as ws:
        assert receive(ws)["type"] == "connection_ack"
        missing = "00000000-0000-4000-8000-000000000000"
        send(ws, {"id": "x", "type": "subscribe", "payload": {"query": EVENTS, "variables": {"id": missing}}})
        message = receive(ws)
        assert message["type"] == "error" or message["payload"].get("errors")
        assert missing in json.dumps(message)
