"""HTTP to one server with one API key: GraphQL, NDJSON posts and file puts, each answer
turned into data or a typed error."""

from __future__ import annotations

import json
import os
import random
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import IO, Any, TypeVar

import httpx

from modelledger_client.errors import (
    ModelLedgerError,
    NetworkError,
    from_graphql_errors,
    from_response,
    from_user_error,
)

DEFAULT_URL = "http://127.0.0.1:8000"
# Answers that say the server (or a proxy before it) could not take the request now.
UNAVAILABLE = frozenset({502, 503, 504})
T = TypeVar("T")


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
        retry: RetryPolicy | None = None,
    ) -> None:
        self.retry = retry or RetryPolicy()
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

    def graphql(
        self, query: str, variables: dict[str, Any] | None = None, idempotency_key: str | None = None
    ) -> dict[str, Any]:
        """The answer's data; GraphQL errors and refused requests raise."""
        headers = {} if idempotency_key is None else {"Idempotency-Key": idempotency_key}
        response = self.http.post("/graphql", json={"query": query, "variables": variables or {}}, headers=headers)
        body = _json(response)
        if response.status_code != 200:
            raise from_response(response.status_code, body)
        if body.get("errors"):
            raise from_graphql_errors(body["errors"])
        data: dict[str, Any] = body["data"]
        return data

    def mutate(self, query: str, field: str, variables: dict[str, Any]) -> dict[str, Any]:
        """The payload of mutation `field`, or its typed error raised. Sent with an
        `Idempotency-Key` and repeated with it when the outcome is unknown, so it is
        recorded once."""
        key = uuid.uuid4().hex
        data = self.repeating(lambda: self.graphql(query, variables, idempotency_key=key), f"mutation {field}")
        result: dict[str, Any] = data[field]
        if "code" in result:
            raise from_user_error(result)
        return result

    def repeating(self, send: Callable[[], T], what: str, also: tuple[type[Exception], ...] = ()) -> T:
        """`send`'s answer, sending it again (it must carry an idempotency key) while its
        outcome is unknown: a network error, a server or proxy unavailable, or one of `also`."""
        failures = 0
        unknown: tuple[type[Exception], ...] = (httpx.TransportError, *also)
        while True:
            try:
                return send()
            except unknown as exc:
                problem: Exception = exc
            except ModelLedgerError as exc:
                if exc.status not in UNAVAILABLE:
                    raise
                problem = exc
            failures += 1
            if failures >= self.retry.attempts:
                if isinstance(problem, ModelLedgerError) and problem.status not in UNAVAILABLE:
                    raise problem
                raise NetworkError(f"{what} failed {failures} times: {problem!r}") from problem
            time.sleep(self.retry.delay(failures))

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
        return answer

    def put(self, path: str, content: Iterable[bytes] | bytes, content_type: str) -> dict[str, Any]:
        response = self.http.put(path, content=content, headers={"Content-Type": content_type})
        answer = _json(response)
        if response.status_code not in (200, 201):
            raise from_response(response.status_code, answer)
        return answer

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
