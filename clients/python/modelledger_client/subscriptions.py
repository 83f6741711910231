"""GraphQL subscriptions over a websocket (the graphql-transport-ws protocol), and waiting
for a run's metrics with them: the server pushes each change, so nothing is polled."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

from tqdm import tqdm
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect
from websockets.typing import Subprotocol

from modelledger_client.errors import (
    AuthenticationError,
    MetricsFailedError,
    MetricsTimeoutError,
    ModelLedgerError,
    from_graphql_errors,
)
from modelledger_client.tables import MetricsStatus, parse, selection
from modelledger_client.transport import Transport

PROTOCOL = Subprotocol("graphql-transport-ws")
# The server closes a socket whose connection_init carries no valid key with this code.
REJECTED = 4403

METRICS_STATUS = f"subscription($id: ID!) {{ metricsStatus(runId: $id) {{ {selection(MetricsStatus)} }} }}"


class Deadline:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds

    def left(self) -> float:
        left = self.end - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"nothing new within {self.seconds} s")
        return left


def subscribe(transport: Transport, query: str, variables: dict[str, Any], deadline: Deadline) -> Iterator[dict[str, Any]]:
    """The data of each `next` message, until the server completes the subscription.
    Raises TimeoutError when `deadline` passes between two messages."""
    try:
        with connect(transport.ws_url, subprotocols=[PROTOCOL], open_timeout=deadline.left()) as ws:
            _send(ws, {"type": "connection_init", "payload": {"authorization": f"Bearer {transport.api_key or ''}"}})
            _acknowledged(ws, deadline)
            _send(ws, {"id": "1", "type": "subscribe", "payload": {"query": query, "variables": variables}})
            yield from _messages(ws, deadline)
    except ConnectionClosed as exc:
        if exc.rcvd is not None and exc.rcvd.code == REJECTED:
            raise AuthenticationError("the server refused the API key on the websocket", 401) from None
        raise ModelLedgerError(f"the subscription's websocket closed: {exc}") from exc


def _send(ws: ClientConnection, message: dict[str, Any]) -> None:
    ws.send(json.dumps(message))


def _receive(ws: ClientConnection, deadline: Deadline) -> dict[str, Any]:
    """The next message that is not a keep-alive (a ping is answered)."""
    while True:
        message: dict[str, Any] = json.loads(ws.recv(timeout=deadline.left()))
        if message["type"] == "ping":
            _send(ws, {"type": "pong"})
        elif message["type"] != "pong":
            return message


def _acknowledged(ws: ClientConnection, deadline: Deadline) -> None:
    message = _receive(ws, deadline)
    if message["type"] != "connection_ack":
        raise ModelLedgerError(f"the server did not acknowledge the connection: {message}")


def _messages(ws: ClientConnection, deadline: Deadline) -> Iterator[dict[str, Any]]:
    while True:
        message = _receive(ws, deadline)
        if message["type"] == "complete":
            return
        if message["type"] == "error":
            raise from_graphql_errors(message.get("payload") or [])
        payload = message.get("payload") or {}
        if payload.get("errors"):
            raise from_graphql_errors(payload["errors"])
        yield payload["data"]


def wait_until_metrics_in_sync(transport: Transport, run_id: str, timeout: float, progress: bool) -> MetricsStatus:
    """Follow the run's metrics status until IN_SYNC, showing the pending rows as they are
    done. FAILED and the timeout raise."""
    deadline = Deadline(timeout)
    status: MetricsStatus | None = None
    with tqdm(total=0, unit="rows", desc="metrics", disable=not progress) as bar:
        try:
            for data in subscribe(transport, METRICS_STATUS, {"id": run_id}, deadline):
                status = parse(MetricsStatus, data["metricsStatus"])
                _show(bar, status)
                if status.state == "IN_SYNC":
                    return status
                if status.state == "FAILED":
                    raise MetricsFailedError(
                        f"metrics of run {run_id} failed: {status.error}", status.pending_data_rows
                    )
        except TimeoutError:
            pending = None if status is None else status.pending_data_rows
            raise MetricsTimeoutError(
                f"metrics of run {run_id} not in sync after {timeout} s ({pending} data rows pending)", pending
            ) from None
    raise ModelLedgerError(f"the metrics status subscription of run {run_id} ended before IN_SYNC")


def _show(bar: tqdm[Any], status: MetricsStatus) -> None:
    """The bar's total is the most rows seen pending; done is how many of them are no longer."""
    if status.pending_data_rows > (bar.total or 0):
        bar.total = status.pending_data_rows
    bar.n = (bar.total or 0) - status.pending_data_rows if status.state != "IN_SYNC" else bar.total
    bar.refresh()
