"""API keys on HTTP (`Authorization: Bearer <key>`) and on websockets (`connection_init`)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import anyio.to_thread
from starlette.requests import HTTPConnection
from starlette.responses import JSONResponse

from domain.api_keys import ApiKey, key_hash

if TYPE_CHECKING:
    from runtime import Runtime

SCHEME = "bearer"


def bearer_secret(value: object) -> str | None:
    """The key in an `Authorization` value ("Bearer <key>"), or None."""
    if not isinstance(value, str):
        return None
    scheme, _, secret = value.strip().partition(" ")
    if scheme.lower() != SCHEME or not secret.strip():
        return None
    return secret.strip()


class ApiKeys:
    """Authenticates keys, remembering a good key for a few seconds.

    Every request carries its key, and looking one up costs an event-store query and a
    worker thread, a large share of a small request. The price: a revoked key keeps
    working for up to `remember_seconds` on a server that saw it just before.
    """

    def __init__(self, runtime: Runtime, remember_seconds: float = 5.0, max_keys: int = 1_000) -> None:
        self._runtime = runtime
        self._remember_seconds = remember_seconds
        self._max_keys = max_keys
        self._known: dict[str, tuple[ApiKey, float]] = {}

    async def authenticate(self, authorization: object) -> ApiKey | None:
        secret = bearer_secret(authorization)
        if secret is None:
            return None
        hashed = key_hash(secret)
        now = time.monotonic()
        known = self._known.get(hashed)
        if known is not None and known[1] > now:
            return known[0]
        key = await anyio.to_thread.run_sync(self._runtime.app.authenticate, secret)
        if key is None:
            # Unknown keys are not remembered: a client guessing keys gets no cheap answers.
            self._known.pop(hashed, None)
            return None
        if len(self._known) >= self._max_keys:
            self._known.clear()
        self._known[hashed] = (key, now + self._remember_seconds)
        return key


    def forget(self, key: ApiKey) -> None:
        """Stop trusting a key without a look-up (it was just revoked)."""
        self._known.pop(key.hashed, None)


def api_keys(connection: HTTPConnection) -> ApiKeys:
    return connection.app.state.api_keys


def refusal(authorization: object) -> str:
    """Why a request's key was refused: none sent, a header of another form, or a key the
    server does not know (mistyped, revoked, or made for another server)."""
    if authorization is None or (isinstance(authorization, str) and not authorization.strip()):
        return "an API key is required: send 'Authorization: Bearer <key>'"
    if bearer_secret(authorization) is None:
        return "the Authorization header must be 'Bearer <key>'"
    return "API key not accepted: it is not a key of this server, or it was revoked (make one with `modelledger api-key create`)"


def unauthorized(authorization: object) -> JSONResponse:
    return JSONResponse(
        {"errors": [{"message": refusal(authorization)}]},
        status_code=401,
        headers={"WWW-Authenticate": 'Bearer realm="modelledger"'},
    )


def read_only(key: ApiKey) -> JSONResponse:
    return JSONResponse(
        {"errors": [{"message": f"API key {key.name!r} is read-only; uploads need a read-write key"}]},
        status_code=403,
    )


async def caller(connection: HTTPConnection, write: bool = False) -> ApiKey | JSONResponse:
    """The request's API key, or the answer that refuses it: 401 without a key the server
    knows, 403 for a read-only key when the request writes."""
    authorization = connection.headers.get("authorization")
    key = await api_keys(connection).authenticate(authorization)
    if key is None:
        return unauthorized(authorization)
    if write and key.read_only:
        return read_only(key)
    return key
