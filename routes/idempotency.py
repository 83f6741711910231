"""Idempotency keys on write requests: what scopes a key (its caller and route) and the
record a request is saved with, shared by the upload routes and GraphQL mutations."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from starlette.requests import Request

from domain.answered_requests import AnsweredRequest, answered_request_id, check_idempotency_key

REPLAYED = {"Idempotent-Replayed": "true"}


@dataclass(frozen=True)
class Idempotency:
    """A request's idempotency key, scoped to its caller and route."""

    caller: str
    route: str
    key: str

    @property
    def request_id(self) -> UUID:
        return answered_request_id(self.caller, self.route, self.key)

    def record(self, body_digest: str, answer: dict[str, Any]) -> AnsweredRequest:
        return AnsweredRequest(caller=self.caller, route=self.route, key=self.key, body_digest=body_digest, answer=answer)

    def other_body(self) -> str:
        return (
            f"Idempotency-Key {self.key!r} was used on this route for another request body; "
            "nothing was recorded (a new request needs a new key)"
        )


def idempotency_of(request: Request, caller_id: str) -> Idempotency | None:
    """The request's `Idempotency-Key`, if it has one (ValidationFailed if malformed)."""
    key = request.headers.get("idempotency-key")
    if key is None:
        return None
    return Idempotency(caller_id, f"{request.method} {request.url.path}", check_idempotency_key(key))
