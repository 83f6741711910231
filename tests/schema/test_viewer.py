"""`viewer`: the key a request is made with, so the web app can hide writes from read-only keys."""

from __future__ import annotations

import json

from websockets.sync.client import connect

from tests.server.live import LiveServer

VIEWER = "{ viewer { name readOnly } }"


def test_viewer_names_the_key_and_whether_it_may_write(live: LiveServer) -> None:
    assert live.writer.data(VIEWER)["viewer"] == {"name": "writer", "readOnly": False}
    assert live.reader.data(VIEWER)["viewer"] == {"name": "reader", "readOnly": True}


def test_viewer_over_a_websocket_is_the_key_of_connection_init(live: LiveServer) -> None:
    with connect(live.ws_url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        ws.send(json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {live.read_key}"}}))
        assert json.loads(ws.recv(timeout=10))["type"] == "connection_ack"
        ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": VIEWER}}))
        message = json.loads(ws.recv(timeout=10))
        assert message["type"] == "next", message
        assert message["payload"]["data"]["viewer"] == {"name": "reader", "readOnly": True}
