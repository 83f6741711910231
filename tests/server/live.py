"""A real server for the API tests: a fresh schema on PostgreSQL, uvicorn on a free port.

Each test module gets its own schema and server (module-scoped fixtures), dropped and
stopped afterwards. Shared by tests/server and tests/schema.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
import pytest
import uvicorn

from runtime import Runtime, open_runtime
from server import Settings, create_app
from storage.database import Database
from tests.conftest import fresh_schema


@dataclass
class Api:
    """An HTTP client of the server holding one API key."""

    client: httpx.Client

    def graphql(self, query: str, **variables: Any) -> dict[str, Any]:
        """The full answer ({"data", "errors"?})."""
        response = self.client.post("/graphql", json={"query": query, "variables": variables})
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    def data(self, query: str, **variables: Any) -> dict[str, Any]:
        """The data of an answer that must have no errors."""
        answer = self.graphql(query, **variables)
        assert "errors" not in answer, answer["errors"]
        return answer["data"]  # type: ignore[no-any-return]

    def upload(self, path: str, lines: list[Any] | bytes) -> httpx.Response:
        body = lines if isinstance(lines, bytes) else b"\n".join(orjson.dumps(line) for line in lines) + b"\n"
        return self.client.post(path, content=body, headers={"Content-Type": "application/x-ndjson"})


@dataclass
class LiveServer:
    url: str
    runtime: Runtime
    write_key: str
    read_key: str

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://") + "/graphql"

    def api(self, key: str | None = None, timeout: float = 30.0) -> Api:
        headers = {} if key is None else {"Authorization": f"Bearer {key}"}
        return Api(httpx.Client(base_url=self.url, headers=headers, timeout=timeout))

    @property
    def writer(self) -> Api:
        return self.api(self.write_key)

    @property
    def reader(self) -> Api:
        return self.api(self.read_key)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve(runtime: Runtime, settings: Settings) -> tuple[str, uvicorn.Server, threading.Thread]:
    port = free_port()
    config = uvicorn.Config(
        create_app(runtime, settings), host="127.0.0.1", port=port, log_level="warning", lifespan="on"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.01)
    return f"http://127.0.0.1:{port}", server, thread


@pytest.fixture(scope="module", params=["embedded", "external"])
def module_database(request: pytest.FixtureRequest) -> Iterator[Database]:
    """Every API test module runs on both servers (see tests/conftest.py)."""
    with fresh_schema(request.getfixturevalue(f"{request.param}_server"), "t_api_") as scoped:
        yield scoped


@pytest.fixture(scope="module")
def server_settings() -> Settings:
    """Override in a module to change limits."""
    return Settings()


@pytest.fixture(scope="module")
def live(module_database: Database, server_settings: Settings) -> Iterator[LiveServer]:
    runtime = open_runtime(module_database)
    try:
        _, write_key = runtime.app.create_api_key("writer", read_only=False, actor="test set-up")
        _, read_key = runtime.app.create_api_key("reader", read_only=True, actor="test set-up")
        url, server, thread = serve(runtime, server_settings)
        try:
            yield LiveServer(url, runtime, write_key, read_key)
        finally:
            server.should_exit = True
            thread.join(timeout=10)
    finally:
        runtime.close()
