"""API keys, per-request limits, masked errors, health and readiness."""

from __future__ import annotations

import httpx
import pytest

from server import Settings
from tests.server.live import LiveServer

QUERY = {"query": "{ datasets { totalCount } }"}


@pytest.fixture(scope="module")
def server_settings() -> Settings:
    return Settings(graphql_max_body_bytes=32 * 1024)


def test_graphql_needs_a_valid_key(live: LiveServer) -> None:
    messages = []
    for client in (live.api().client, live.api("mlk_not-a-key").client):
        response = client.post("/graphql", json=QUERY)
        assert response.status_code == 401
        messages.append(response.json()["errors"][0]["message"])
        assert response.headers["www-authenticate"].startswith("Bearer")
    # A missing key and a wrong one are told apart: the first needs sending, the second replacing.
    assert messages[0] == "an API key is required: send 'Authorization: Bearer <key>'"
    assert messages[1].startswith("API key not accepted") and "modelledger api-key create" in messages[1]
    bad_scheme = live.api().client.post("/graphql", json=QUERY, headers={"Authorization": f"Basic {live.read_key}"})
    assert bad_scheme.status_code == 401
    assert bad_scheme.json()["errors"][0]["message"] == "the Authorization header must be 'Bearer <key>'"
    assert live.reader.client.post("/graphql", json=QUERY).status_code == 200
    assert live.reader.client.get("/graphql", params=QUERY).json()["data"]["datasets"]["totalCount"] >= 0


def test_graphiql_page_is_served_without_a_key(live: LiveServer) -> None:
    response = live.api().client.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200 and "graphiql" in response.text.lower()


@pytest.mark.parametrize("path", ["/graphql", "/", "/health", "/upload/datasets/x/data-rows"])
def test_answers_carry_security_headers(live: LiveServer, path: str) -> None:
    response = httpx.get(f"{live.url}{path}", headers={"Accept": "text/html"}, timeout=10)
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


def test_depth_aliases_and_tokens_are_limited(live: LiveServer) -> None:
    deep = "{ models { edges { node { modelRuns { edges { node { model { modelRuns { edges { node { model { id } } } } } } } } } } } }"
    answer = live.reader.graphql(deep)
    assert "data" not in answer or answer.get("data") is None
    assert "depth" in answer["errors"][0]["message"]

    aliases = "{ " + " ".join(f"a{i}: modelRunConfigTemplate" for i in range(31)) + " }"
    assert "aliases" in live.reader.graphql(aliases)["errors"][0]["message"]
    assert live.reader.graphql("{ " + " ".join(f"a{i}: modelRunConfigTemplate" for i in range(30)) + " }").get("errors") is None

    tokens = "{ " + " ".join("a" for _ in range(5_001)) + " }"
    assert "token" in live.reader.graphql(tokens)["errors"][0]["message"].lower()

    first = live.reader.graphql("{ datasets(first: 5000) { totalCount } }")
    assert "between 0 and 1000" in first["errors"][0]["message"]


def test_the_pages_of_one_request_share_a_budget(live: LiveServer) -> None:
    """Aliases multiply what a page may hold: each page counts its `first` against 5,000 items
    for the whole request (a new request starts afresh)."""
    five = " ".join(f"a{i}: datasets(first: 1000) {{ totalCount }}" for i in range(5))
    assert "errors" not in live.reader.graphql("{ " + five + " }")
    six = " ".join(f"a{i}: datasets(first: 1000) {{ totalCount }}" for i in range(6))
    answer = live.reader.graphql("{ " + six + " }")
    assert answer["errors"][0]["message"] == (
        "this request asks for more than 5000 items in all its pages (5000 before this page of 1000): "
        "ask for fewer, or page through with `after`"
    )
    nested = "{ models(first: 100) { edges { node { modelRuns(first: 100) { totalCount } } } } }"
    assert "errors" not in live.reader.graphql(nested)


def test_a_large_graphql_body_gets_413(live: LiveServer) -> None:
    padding = "#" + "x" * 40_000 + "\n"
    response = live.reader.client.post("/graphql", json={"query": padding + QUERY["query"]})
    assert response.status_code == 413
    assert "bytes" in response.json()["errors"][0]["message"]


def test_unexpected_errors_are_masked(live: LiveServer, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("password=hunter2 at /srv/secret/path.py line 12")

    monkeypatch.setattr(live.runtime.read_models, "datasets", broken)
    response = live.reader.client.post("/graphql", json=QUERY)
    assert response.status_code == 200
    body = response.text
    assert "hunter2" not in body and "secret" not in body and "Traceback" not in body
    assert response.json()["errors"][0]["message"] == "Internal error."


def test_health_and_ready(live: LiveServer) -> None:
    client = live.api().client
    assert client.get("/health").json() == {"status": "ok"}
    ready = client.get("/ready")
    assert ready.status_code == 200 and ready.json() == {"status": "ready"}


@pytest.mark.parametrize("path", ["/upload/datasets/x/embeddings/", "/upload/nowhere", "/graphql/x"])
def test_a_request_no_route_takes_is_refused_in_json(live: LiveServer, path: str) -> None:
    answer = live.writer.client.post(path, content=b"{}")
    assert answer.status_code in (404, 405), answer.text
    message = answer.json()["errors"][0]["message"]
    assert message.startswith(f"POST {path} is not taken by this server")
    if answer.status_code == 405:
        assert answer.headers["allow"] and answer.headers["allow"] in message
