"""Retries: a chunk whose answer was lost after the server recorded it, a chunk that never
arrived, a chunk that met an unavailable server (503) and a chunk that lost a race (409) all
end with every line recorded exactly once: every attempt at a chunk carries its key. So do
mutations: a lost answer or an unavailable server, and the mutation is recorded once."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from modelledger_client import Client, NetworkError, ValidationError

from tests.client import scene
from tests.client.conftest import CHUNK, RETRY
from tests.server.live import LiveServer

# Decides, for the n-th request (from 1) to a route, what goes wrong: nothing (None),
# "lost" (forwarded, then the answer never arrives), "refused" (never forwarded), "conflict"
# or "unavailable" (a proxy's 503, never forwarded).
Plan = Callable[[int], str | None]


class FlakyNetwork(httpx.BaseTransport):
    """A real transport with faults injected on requests whose path ends with `suffix`."""

    def __init__(self, suffix: str, plan: Plan) -> None:
        self.inner = httpx.HTTPTransport()
        self.suffix = suffix
        self.plan = plan
        self.sent = 0
        self.replayed = 0  # answers the server gave again to a repeated key
        self.keys: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if not request.url.path.endswith(self.suffix):
            return self.inner.handle_request(request)
        self.sent += 1
        self.keys.append(request.headers.get("Idempotency-Key", ""))
        fault = self.plan(self.sent)
        if fault == "refused":
            raise httpx.ConnectError("connection refused (injected)", request=request)
        if fault == "conflict":
            return httpx.Response(409, json={"errors": [{"message": "another write got there first (injected)"}]})
        if fault == "unavailable":
            return httpx.Response(503, text="<html>Service Unavailable</html>")
        response = self.inner.handle_request(request)
        self.replayed += response.headers.get("Idempotent-Replayed") == "true"
        if fault == "lost":
            response.read()
            raise httpx.ReadError("connection reset after the server answered (injected)", request=request)
        return response

    def close(self) -> None:
        self.inner.close()


# Opens a client whose requests to a route ending in the suffix follow the plan.
Connect = Callable[[str, Plan], tuple[Client, FlakyNetwork]]


@pytest.fixture
def flaky(live: LiveServer) -> Iterator[Connect]:
    opened: list[Client] = []

    def connect(suffix: str, plan: Plan) -> tuple[Client, FlakyNetwork]:
        network = FlakyNetwork(suffix, plan)
        opened.append(Client(live.url, live.write_key, chunk_size=CHUNK, retry=RETRY, transport=network))
        return opened[-1], network

    yield connect
    for client in opened:
        client.close()


def global_keys(client: Client, dataset_id: str) -> list[str]:
    return [row.global_key for row in client.get_dataset(dataset_id).data_rows(page_size=50)]


def test_a_data_row_chunk_recorded_but_unanswered_is_not_doubled(flaky: Connect, tmp_path: Path) -> None:
    client, network = flaky("/data-rows", lambda n: "lost" if n == 2 else None)
    dataset = client.create_dataset("lost answer")
    path = scene.write_ndjson(tmp_path / "rows.ndjson", scene.data_rows("lost"))
    result = dataset.upsert_data_rows(path, progress=False)
    # Chunk 2 went twice under one key; the server answered the repeat as the first.
    assert network.sent == 4 and network.replayed == 1
    assert network.keys[1] == network.keys[2] and len(set(network.keys)) == 3
    assert (result.accepted, result.requests) == (30, 3)
    keys = global_keys(client, dataset.id)
    assert sorted(keys) == [scene.key("lost", i) for i in range(30)]
    assert dataset.refresh().row_count == 30


def test_a_lost_answer_then_a_lost_repeat_still_ends_once(flaky: Connect) -> None:
    client, network = flaky("/data-rows", lambda n: "lost" if n in (1, 2) else None)
    dataset = client.create_dataset("lost twice")
    result = dataset.upsert_data_rows(scene.data_rows("twice"), progress=False)
    assert network.sent == 5 and network.replayed == 2 and result.accepted == 30  # the lost repeat too
    assert sorted(global_keys(client, dataset.id)) == [scene.key("twice", i) for i in range(30)]


def test_a_chunk_that_never_arrived_is_sent_again(flaky: Connect) -> None:
    client, network = flaky("/data-rows", lambda n: "refused" if n == 3 else None)
    dataset = client.create_dataset("refused")
    result = dataset.upsert_data_rows(scene.data_rows("refused"), progress=False)
    assert network.sent == 4 and network.replayed == 0 and (result.accepted, result.requests) == (30, 3)
    assert sorted(global_keys(client, dataset.id)) == [scene.key("refused", i) for i in range(30)]


def test_an_unavailable_server_is_tried_again(flaky: Connect) -> None:
    client, network = flaky("/data-rows", lambda n: "unavailable" if n in (1, 2) else None)
    dataset = client.create_dataset("unavailable")
    result = dataset.upsert_data_rows(scene.data_rows("unavailable"), progress=False)
    assert network.sent == 5 and (result.accepted, result.requests) == (30, 3)
    assert dataset.refresh().row_count == 30


def test_an_existing_row_is_refused_after_a_retry_too(flaky: Connect) -> None:
    client, _ = flaky("/data-rows", lambda n: "lost" if n == 2 else None)
    dataset = client.create_dataset("other content")
    dataset.upsert_data_rows(scene.data_rows("other")[:10], progress=False)
    again = scene.data_rows("other")
    with pytest.raises(ValidationError) as refused:
        # The refusal's answer is lost; the repeat is refused the same way (nothing was recorded).
        dataset.upsert_data_rows(again[3:4] + again[10:12], progress=False)
    assert [e.line for e in refused.value.errors] == [1]
    assert "already exists" in refused.value.errors[0].message
    assert dataset.refresh().row_count == 10


def test_a_repeated_prediction_chunk_is_harmless(flaky: Connect) -> None:
    client, network = flaky("/predictions", lambda n: "lost" if n == 1 else None)
    dataset = client.create_dataset("predictions")
    dataset.upsert_data_rows(scene.data_rows("p"), progress=False)
    run = client.create_model("p", scene.ONTOLOGY).create_model_run("r", dataset=dataset)
    result = run.add_predictions(scene.predictions("p"), progress=False)
    assert network.sent == 4 and result.accepted == 30
    run.wait_until_metrics_in_sync(timeout=120, progress=False)
    rows = list(run.data_rows(page_size=30))
    assert sorted(len(r.predictions or ()) for r in rows) == [1] * 30


def test_a_conflict_is_retried(flaky: Connect) -> None:
    client, network = flaky("/labels", lambda n: "conflict" if n == 1 else None)
    dataset = client.create_dataset("conflict")
    dataset.upsert_data_rows(scene.data_rows("c", 3), progress=False)
    relabel = [{"dataRow": {"globalKey": scene.key("c", i)}, "labels": []} for i in range(3)]
    assert dataset.upsert_labels(relabel, progress=False).accepted == 3
    assert network.sent == 2
    assert all(row.labels == () for row in dataset.data_rows())


def test_retries_give_up_with_a_network_error(flaky: Connect) -> None:
    client, network = flaky("/data-rows", lambda n: "refused" if n > 1 else None)
    dataset = client.create_dataset("unreachable")
    with pytest.raises(NetworkError) as failed:
        dataset.upsert_data_rows(scene.data_rows("gone"), progress=False)
    assert network.sent == 1 + 4
    assert failed.value.accepted == 10
    assert dataset.refresh().row_count == 10


def _named(client: Client, name: str) -> list[str]:
    return [dataset.id for dataset in client.datasets() if dataset.name == name]


def test_a_mutation_recorded_but_unanswered_is_not_doubled(flaky: Connect) -> None:
    client, network = flaky("/graphql", lambda n: "lost" if n == 1 else None)
    dataset = client.create_dataset("mutation answer lost")
    assert network.keys[0] != "" and network.keys[0] == network.keys[1]
    assert network.replayed == 1
    assert _named(client, "mutation answer lost") == [dataset.id]


def test_a_mutation_that_met_an_unavailable_server_is_sent_again(flaky: Connect) -> None:
    client, network = flaky("/graphql", lambda n: "unavailable" if n <= 2 else None)
    dataset = client.create_dataset("mutation unavailable")
    assert network.keys[:3] == [network.keys[0]] * 3 and network.replayed == 0
    assert _named(client, "mutation unavailable") == [dataset.id]


def test_a_refused_mutation_is_not_sent_again(flaky: Connect) -> None:
    client, network = flaky("/graphql", lambda n: None)
    with pytest.raises(ValidationError, match="name"):
        client.create_dataset("   ")
    assert network.sent == 1
