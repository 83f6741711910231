"""Queries and mutations generated from schema.graphql, sent to a live server with a
read-write key over a seeded dataset, model and run. Whatever the operation, the server
answers JSON, never 5xx, never an unexpected exception ("Internal error."), and every read
model keeps running (/ready 200).

IDs are the seeded objects' ids most of the time, so the fuzzer reaches past "not found"
into the commands and resolvers; strings are often real global keys and feature names.
"""

from __future__ import annotations

from pathlib import Path

import graphql
import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis_graphql import from_schema

from tests.fuzz.seed import Seeded, wait_ready
from tests.fuzz.strategies import budget, graphql_scalars, printer
from tests.server.live import LiveServer

SCHEMA = (Path(__file__).resolve().parents[2] / "schema.graphql").read_text(encoding="utf-8")
PARSED = graphql.build_schema(SCHEMA)
# Mutations that take the seeded objects (or the spare key) away: fuzzed last, on their own.
DESTRUCTIVE = ("deleteDataset", "deleteModel", "deleteModelRun", "revokeApiKey")
READY_EVERY = 25

# The server runs in this process: its threads may use `random` while an example is drawn,
# which Hypothesis would take for a strategy doing so.
pytestmark = pytest.mark.filterwarnings(
    "ignore:Do not use the `random` module:hypothesis.errors.HypothesisDeprecationWarning"
)


def _root_fields(type_name: str) -> list[str]:
    root = PARSED.get_type(type_name)
    assert isinstance(root, graphql.GraphQLObjectType)
    return list(root.fields)


QUERIES = _root_fields("Query")
MUTATIONS = [name for name in _root_fields("Mutation") if name not in DESTRUCTIVE]


class Sender:
    def __init__(self, live: LiveServer, client: httpx.Client) -> None:
        self.live = live
        self.client = client
        self.sent = 0

    def send(self, operation: str) -> None:
        response = self.client.post("/graphql", json={"query": operation})
        assert response.status_code < 500, (response.status_code, response.text, operation)
        try:
            response.json()
        except ValueError:
            pytest.fail(
                f"not JSON ({response.status_code}): {response.text[:500]!r} for {operation}"
            )
        assert "Internal error." not in response.text, (response.text, operation)
        self.sent += 1
        if self.sent % READY_EVERY == 0:
            self.assert_ready()

    def assert_ready(self) -> None:
        ready = wait_ready(self.live)
        assert ready.status_code == 200, ready.text


def fuzz(
    live: LiveServer, writer: httpx.Client, seeded: Seeded, fields: list[str], examples: int
) -> None:
    operations = from_schema(
        PARSED, fields=fields, custom_scalars=graphql_scalars(seeded), print_ast=printer(PARSED)
    )
    sender = Sender(live, writer)

    @budget(examples)
    @given(data=st.data())
    def each(data: st.DataObject) -> None:
        sender.send(data.draw(operations, label="operation"))

    each()
    assert sender.sent > 0
    sender.assert_ready()


def test_generated_queries(live: LiveServer, writer: httpx.Client, seeded: Seeded) -> None:
    fuzz(live, writer, seeded, QUERIES, examples=160)


def test_generated_mutations(live: LiveServer, writer: httpx.Client, seeded: Seeded) -> None:
    fuzz(live, writer, seeded, MUTATIONS, examples=150)


def test_generated_deletions_and_queries(
    live: LiveServer, writer: httpx.Client, seeded: Seeded
) -> None:
    """Last: the seeded objects may be deleted (and the spare key revoked), then read again."""
    fuzz(live, writer, seeded, [*DESTRUCTIVE, *QUERIES], examples=80)
