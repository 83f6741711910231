"""One answer's size is bounded: items are counted per request, but what one item holds (a
row's labels and predictions) is not, so the answer's bytes are bounded too."""

from __future__ import annotations

import pytest

from schema.limits import Limits
from server import Settings
from tests.server.live import LiveServer
from tests.server.operations import build_scenario

LIMIT = 4_000
ROWS = "query($id: ID!, $n: Int!) { modelRun(id: $id) { dataRows(first: $n) { nodes { globalKey labels } } } }"


@pytest.fixture(scope="module")
def server_settings() -> Settings:
    return Settings(limits=Limits(max_answer_bytes=LIMIT))


def test_an_answer_too_large_is_refused_with_its_size(live: LiveServer) -> None:
    s = build_scenario(live.writer, rows=40, prefix="big")
    small = live.reader.data(ROWS, id=s.run_id, n=2)
    assert len(small["modelRun"]["dataRows"]["nodes"]) == 2
    answer = live.reader.client.post("/graphql", json={"query": ROWS, "variables": {"id": s.run_id, "n": 40}})
    assert answer.status_code == 200 and answer.json()["data"] is None
    message = answer.json()["errors"][0]["message"]
    assert message.startswith("the answer would be ") and f"more than the {LIMIT} one answer may hold" in message
    assert int(message.split()[4]) > LIMIT and len(answer.content) < 1_000
