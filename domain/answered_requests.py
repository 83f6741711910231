"""Answers to write requests sent with an idempotency key, so that repeating one is safe.

A client that sent an upload and lost the answer (a dropped connection, a timeout, a proxy's
502) cannot know whether it was recorded. Sent with an `Idempotency-Key`, the request is
recorded together with its answer, in the same atomic save as its write; the same key again
gets that answer back instead of a second write. The record's id derives from who asked,
where, and the key: a key is the caller's own, and is scoped to one route.

A GraphQL mutation's answer is made after its write (it reads what the write changed), so
its record is saved with the write naming what was recorded, and the answer as sent is
kept by a second event (`keep_response`).
"""

from __future__ import annotations

import re
from typing import Any
from uuid import UUID, uuid5

import orjson
from eventsourcing.domain import Aggregate, event

from domain.errors import ValidationFailed

_NAMESPACE = UUID("0b6f7d0e-5a8e-4f43-9a6d-2f1c8e44b7a1")
MAX_KEY_LENGTH = 255
# Printable ASCII without spaces: what a client generates (a UUID, a hash, a counter).
_KEY = re.compile(rf"[!-~]{{1,{MAX_KEY_LENGTH}}}")


def check_idempotency_key(key: str) -> str:
    if not _KEY.fullmatch(key):
        raise ValidationFailed(
            f"Idempotency-Key {key[:MAX_KEY_LENGTH]!r} is not 1 to {MAX_KEY_LENGTH} printable ASCII "
            "characters without spaces (a UUID is a good key)"
        )
    return key


def answered_request_id(caller: str, route: str, key: str) -> UUID:
    return uuid5(_NAMESPACE, orjson.dumps([caller, route, key]).decode())


class AnsweredRequest(Aggregate):
    """A write request's answer, kept under (caller, route, key); `body_digest` tells a repeat
    of the request from another request sent with the same key by mistake."""

    @event("Answered")
    def __init__(self, caller: str, route: str, key: str, body_digest: str, answer: dict[str, Any]) -> None:
        self.caller = caller
        self.route = route
        self.key = key
        self.body_digest = body_digest
        self.answer = answer
        # A GraphQL mutation's whole answer, kept after it was made (see keep_response);
        # None until then, and for uploads, whose answer is `answer`.
        self.response: dict[str, Any] | None = None

    @event("ResponseKept")
    def keep_response(self, status: int, body: str | None) -> None:
        """The answer as sent: its HTTP status and body (None when it was too large to keep)."""
        self.response = {"status": status, "body": body}

    @staticmethod
    def create_id(caller: str, route: str, key: str, body_digest: str, answer: dict[str, Any]) -> UUID:
        return answered_request_id(caller, route, key)
