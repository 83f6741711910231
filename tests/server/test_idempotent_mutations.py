"""GraphQL mutations sent with an `Idempotency-Key`: a repeat (a retry after a lost answer)
gets the first answer back, byte for byte, and records nothing; a key reused for another
request is refused; a key cannot cover what it could not answer again (several mutation
fields, a new API key's secret); a request recorded whose answer was never kept is told
what it recorded, not that it failed."""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import orjson
import pytest

from routes.idempotency import Idempotency
from schema.limits import Limits
from server import Settings
from tests.server.live import LiveServer
from tests.server.operations import CREATE_DATASET, payload

DATASETS = "{ datasets(first: 100) { nodes { id name version } } }"
RENAME = """mutation($id: ID!, $name: String!) {
  renameDataset(input: {datasetId: $id, name: $name}) {
    __typename ... on RenameDatasetPayload { version dataset { name } } ... on UserError { code message }
  }
}"""


@pytest.fixture(scope="module")
def server_settings() -> Settings:
    # A repeat of a request whose answer is still being made waits for it this long (+ 5 s).
    return Settings(limits=Limits(read_model_wait_seconds=1.0))


def _body(query: str, **variables: Any) -> bytes:
    return orjson.dumps({"query": query, "variables": variables})


def _post(live: LiveServer, body: bytes, key: str | None, api_key: str | None = None) -> httpx.Response:
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {api_key or live.write_key}"}
    if key is not None:
        headers["Idempotency-Key"] = key
    return httpx.post(live.url + "/graphql", content=body, headers=headers, timeout=60)


def _named(live: LiveServer, name: str) -> list[dict[str, Any]]:
    return [d for d in live.reader.data(DATASETS)["datasets"]["nodes"] if d["name"] == name]


def test_a_repeated_mutation_is_answered_as_the_first_and_recorded_once(live: LiveServer) -> None:
    body = _body(CREATE_DATASET, name="im once")
    first = _post(live, body, "create-im-once")
    assert first.status_code == 200 and "errors" not in first.json(), first.text
    assert "Idempotent-Replayed" not in first.headers
    again = _post(live, body, "create-im-once")
    assert again.status_code == 200 and again.content == first.content
    assert again.headers["Idempotent-Replayed"] == "true"
    assert len(_named(live, "im once")) == 1
    # Without a key, or with another one, the same body is a new request.
    assert len(payload(_post(live, body, None).json()["data"], "createDataset")["dataset"]["id"]) > 0
    assert _post(live, body, "create-im-once-2").headers.get("Idempotent-Replayed") is None
    assert len(_named(live, "im once")) == 3


def test_a_repeat_gets_the_first_answer_even_after_later_changes(live: LiveServer) -> None:
    dataset = payload(live.writer.data(CREATE_DATASET, name="im later"), "createDataset")["dataset"]["id"]
    rename = _body(RENAME, id=dataset, name="im later 1")
    first = _post(live, rename, "rename-1").json()["data"]["renameDataset"]
    live.writer.data(RENAME, id=dataset, name="im later 2")
    repeated = _post(live, rename, "rename-1")
    assert repeated.json()["data"]["renameDataset"] == first == {
        "__typename": "RenameDatasetPayload", "version": 2, "dataset": {"name": "im later 1"},
    }  # fmt: skip
    assert _named(live, "im later 2")[0]["version"] == 3  # the repeat did not rename it back


def test_a_key_reused_for_another_request_is_refused_and_records_nothing(live: LiveServer) -> None:
    assert _post(live, _body(CREATE_DATASET, name="im reused a"), "reused-key").status_code == 200
    other = _post(live, _body(CREATE_DATASET, name="im reused b"), "reused-key")
    assert other.status_code == 422
    message = other.json()["errors"][0]["message"]
    assert "'reused-key'" in message and "another request body" in message
    assert _named(live, "im reused b") == []


def test_a_key_is_its_callers_own(live: LiveServer) -> None:
    _, other_key = live.runtime.app.create_api_key("im second writer", read_only=False, actor="test set-up")
    body = _body(CREATE_DATASET, name="im callers")
    _post(live, body, "callers-key")
    by_other = _post(live, body, "callers-key", api_key=other_key)
    assert by_other.status_code == 200 and "Idempotent-Replayed" not in by_other.headers
    assert len(_named(live, "im callers")) == 2


def test_what_a_key_cannot_cover_is_refused_by_name_and_nothing_runs(live: LiveServer) -> None:
    two = """mutation { a: createDataset(input: {name: "im two a"}) { __typename }
                         b: createDataset(input: {name: "im two b"}) { __typename } }"""
    refused = _post(live, _body(two), "two-fields")
    assert refused.status_code == 400 and "one mutation field" in refused.json()["errors"][0]["message"]
    assert _named(live, "im two a") == [] and _named(live, "im two b") == []

    new_key = 'mutation { createApiKey(input: {name: "im keyed", readOnly: true}) { __typename } }'
    refused = _post(live, _body(new_key), "new-key")
    assert refused.status_code == 400 and "createApiKey" in refused.json()["errors"][0]["message"]
    assert "im keyed" not in {k.name for k in live.runtime.app.api_keys()}

    for bad in ("two words", "x" * 256, ""):
        refused = _post(live, _body(CREATE_DATASET, name="im malformed"), bad)
        assert refused.status_code == 400 and "Idempotency-Key" in refused.json()["errors"][0]["message"], bad
    assert _named(live, "im malformed") == []


def test_a_query_ignores_the_key(live: LiveServer) -> None:
    live.writer.data(CREATE_DATASET, name="im query")
    first = _post(live, _body(DATASETS), "query-key")
    live.writer.data(CREATE_DATASET, name="im query 2")
    second = _post(live, _body(DATASETS), "query-key")
    assert "Idempotent-Replayed" not in second.headers
    assert len(second.json()["data"]["datasets"]["nodes"]) == len(first.json()["data"]["datasets"]["nodes"]) + 1


def test_a_refused_mutation_records_no_answer(live: LiveServer) -> None:
    """Nothing was written: a repeat runs again (and is refused again, or succeeds once the
    cause is gone)."""
    body = _body(RENAME, id="00000000-0000-0000-0000-000000000000", name="x")
    first = _post(live, body, "refused-rename")
    assert first.json()["data"]["renameDataset"]["code"] == "NOT_FOUND"
    again = _post(live, body, "refused-rename")
    assert again.json() == first.json() and "Idempotent-Replayed" not in again.headers


def test_a_mutation_repeated_at_once_lands_once(live: LiveServer) -> None:
    body = _body(CREATE_DATASET, name="im at once")
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: _post(live, body, "at-once"), range(8)))
    assert [a.status_code for a in answers] == [200] * 8, [a.text for a in answers]
    assert len({a.content for a in answers}) == 1, [a.text for a in answers]
    assert sum(a.headers.get("Idempotent-Replayed") == "true" for a in answers) == 7
    assert len(_named(live, "im at once")) == 1


def test_a_recorded_request_whose_answer_was_not_kept_is_told_what_it_recorded(live: LiveServer) -> None:
    """The server stopped between recording the write and keeping its answer: the repeat is
    not run again, and is not told it failed."""
    key, secret = live.runtime.app.create_api_key("im lost answers", read_only=False, actor="test set-up")
    body = _body(CREATE_DATASET, name="im lost")
    idempotency = Idempotency(str(key.id), "POST /graphql", "lost-answer")
    digest = hashlib.sha256(body).hexdigest()

    def record(saved: Any) -> Any:
        return idempotency.record(digest, {"recorded": {"id": str(saved.id), "version": saved.version}})

    with live.runtime.app.answering(record):
        dataset = live.runtime.app.create_dataset("im lost", "im lost answers")
    repeated = _post(live, body, "lost-answer", api_key=secret)
    assert repeated.status_code == 200 and repeated.headers["Idempotent-Replayed"] == "true"
    error = repeated.json()["errors"][0]
    assert error["extensions"] == {"code": "RECORDED", "recorded": {"id": str(dataset.id), "version": 1}}
    assert "was recorded" in error["message"] and "lost-answer" in error["message"]
    assert len(_named(live, "im lost")) == 1
