"""HTTP to one server with one API key: GraphQL, NDJSON posts and file puts, each answer
turned into data or a typed error."""

from __future__ import annotations

import json
import os
import random
from collections.abc import Iterable
from dataclasses import dataclass
from typing import IO, Any

import httpx

from modelledger_client.errors import (
    NetworkError,
    from_graphql_errors,
    from_response,
    from_user_error,
)

DEFAULT_URL = "http://127.0.0.1:8000"


@dataclass(frozen=True)
class RetryPolicy:
    """How a request whose outcome is safe to repeat is retried: `attempts` in all, waiting
    `backoff` seconds doubled at each failure (with jitter, so clients that failed together
    do not retry together), never more than `max_backoff`."""

    attempts: int = 5
    backoff: float = 0.5
    max_backoff: float = 10.0

    def delay(self, failures: int) -> float:
        base = min(self.max_backoff, self.backoff * 2 ** (failures - 1))
        return base * random.uniform(0.5, 1.0)


class Transport:
    """The one place that knows the server's URL, the key and how answers look."""

    def __init__(
        self,
        url: str | None,
        api_key: str | None,
        timeout: float,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.url = (url or os.environ.get("MODELLEDGER_URL") or DEFAULT_URL).rstrip("/")
        self.api_key = api_key if api_key is not None else os.environ.get("MODELLEDGER_API_KEY")
        self.timeout = timeout
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        self.http = httpx.Client(base_url=self.url, headers=headers, timeout=timeout, transport=transport)

    @property
    def ws_url(self) -> str:
        scheme, _, rest = self.url.partition("://")
        return f"{'wss' if scheme == 'https' else 'ws'}://{rest}/graphql"

    def close(self) -> None:
        self.http.close()

    def graphql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """The answer's data; GraphQL errors and refused requests raise."""
        response = self.http.post("/graphql", json={"query": query, "variables": variables or {}})
        body = _json(response)
        if response.status_code != 200:
            raise from_response(response.status_code, body)
        if body.get("errors"):
            raise from_graphql_errors(body["errors"])
        data: dict[str, Any] = body["data"]
        return data

    def mutate(self, query: str, field: str, variables: dict[str, Any]) -> dict[str, Any]:
        """The payload of mutation `field`, or its typed error raised."""
        result: dict[str, Any] = self.graphql(query, variables)[field]
        if "code" in result:
            raise from_user_error(result)
        return result

    def post_ndjson(self, path: str, body: bytes, line_numbers: list[int], idempotency_key: str | None = None) -> dict[str, Any]:
        """One upload request; refused lines are reported with the caller's line numbers.
        Sent again with the same `idempotency_key`, it is recorded at most once."""
        headers = {"Content-Type": "application/x-ndjson"}
        if idempotency_key is not None:
            headers["Idempotency-Key"] = idempotency_key
        response = self.http.post(path, content=body, headers=headers)
        answer = _json(response)
        if response.status_code != 200:
            raise from_response(response.status_code, answer, line_numbers)
        return answer  # type: ignore[no-any-return]

    def put(self, path: str, content: Iterable[bytes] | bytes, content_type: str) -> dict[str, Any]:
        response = self.http.put(path, content=content, headers={"Content-Type": content_type})
        answer = _json(response)
        if response.status_code not in (200, 201):
            raise from_response(response.status_code, answer)
        return answer  # type: ignore[no-any-return]

    def download(
        self, path: str, params: dict[str, Any], into: IO[bytes], refused: str = "the request was refused"
    ) -> httpx.Headers:
        """A GET answer's body streamed into `into`; its headers. A refusal raises its typed
        error (`refused` heads a ValidationError's message). There is no read timeout: the
        server may prepare a file for a while before its first byte."""
        timeout = httpx.Timeout(self.timeout, read=None)
        try:
            with self.http.stream("GET", path, params=params, timeout=timeout) as response:
                if response.status_code != 200:
                    response.read()
                    raise from_response(response.status_code, _json(response), refused=refused)
                for chunk in response.iter_bytes():
                    into.write(chunk)
                return response.headers
        except httpx.TransportError as exc:
            raise NetworkError(f"the server could not be reached: {exc}") from exc


def _json(response: httpx.Response) -> Any:
    """The body as JSON; a proxy's HTML error page becomes an error message."""
    try:
        return response.json()
    except json.JSONDecodeError:
        return {"errors": [{"message": response.text or response.reason_phrase}]}
