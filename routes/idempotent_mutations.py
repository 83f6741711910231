"""GraphQL mutations sent with an `Idempotency-Key` header: a retry after a lost answer
gets the first answer again instead of a second write.

A mutation's answer is made after its write (it reads what the write changed), so it is
kept in two steps: the write is saved together with a record of the request (its key, the
digest of its body, what was recorded), then the answer as sent is kept on that record
before it is sent. A repeat gets that answer, marked `Idempotent-Replayed: true`. If the
server stopped between the two steps, the repeat is told that the request was recorded and
what it recorded, never that it failed.

A key covers one mutation field (a document with several is refused, nothing run), and not
`createApiKey`, whose secret is shown once and never kept. Queries ignore the key.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import anyio
import anyio.to_thread
import orjson
from eventsourcing.domain import Aggregate
from graphql import FieldNode, GraphQLError, OperationDefinitionNode, OperationType, parse
from starlette.responses import JSONResponse, Response
from starlette.types import Message, Receive, Scope, Send

from application.ledger import Answering
from domain.answered_requests import AnsweredRequest
from domain.errors import ValidationFailed
from routes.idempotency import REPLAYED, Idempotency

if TYPE_CHECKING:
    from application import ModelLedger

log = logging.getLogger(__name__)

# Where the GraphQL context finds the request's Answering (see schema.context.Context.write).
ANSWERING = "modelledger.answering"
# Answers larger than this are not kept: a repeat is told what was recorded instead.
KEEP_MAX_BYTES = 1024**2
# A repeat waits for the answer of its twin still being made this long after the twin's
# own wait for the read models (Limits.read_model_wait_seconds).
PENDING_MARGIN_SECONDS = 5.0
_NOT_KEYED = ("createApiKey",)

Execute = Callable[[Send], Awaitable[None]]


def takes_idempotency_key(body: bytes) -> bool:
    """Whether the request is a mutation its key covers (False for a query, and for a body
    that is no GraphQL request: the GraphQL layer answers that). ValidationFailed for a
    mutation a key cannot cover."""
    try:
        request = orjson.loads(body)
        document = parse(request["query"]) if isinstance(request, dict) else None
    except (orjson.JSONDecodeError, KeyError, TypeError, GraphQLError):
        return False
    if document is None:
        return False
    name = request.get("operationName")
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    chosen = [o for o in operations if name is None or (o.name is not None and o.name.value == name)]
    if len(chosen) != 1 or chosen[0].operation != OperationType.MUTATION:
        return False
    fields = chosen[0].selection_set.selections
    if len(fields) != 1 or not isinstance(fields[0], FieldNode):
        raise ValidationFailed(
            f"an Idempotency-Key covers one mutation field; this request has {len(fields)} selections "
            "(send each mutation as its own request with its own key)"
        )
    if fields[0].name.value in _NOT_KEYED:
        raise ValidationFailed(
            f"{fields[0].name.value} takes no Idempotency-Key: the key's secret is shown once and never kept"
        )
    return True


class _Captured:
    """The GraphQL layer's answer, held back until it is kept."""

    def __init__(self) -> None:
        self.start: Message | None = None
        self.parts: list[Message] = []

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.start = message
        else:
            self.parts.append(message)

    @property
    def status(self) -> int:
        return int(self.start["status"]) if self.start is not None else 500

    @property
    def body(self) -> bytes:
        return b"".join(m.get("body", b"") for m in self.parts)

    async def forward(self, send: Send) -> None:
        if self.start is not None:
            await send(self.start)
        for part in self.parts:
            await send(part)


async def answer_once(
    app: ModelLedger,
    idempotency: Idempotency,
    body: bytes,
    execute: Execute,
    wait_seconds: float,
    scope: Scope,
    receive: Receive,
    send: Send,
) -> None:
    """Runs the mutation once per key: its first answer is kept and given to every repeat,
    which waits up to `wait_seconds` (+ a margin) for an answer still being made."""
    wait = wait_seconds + PENDING_MARGIN_SECONDS
    digest = hashlib.sha256(body).hexdigest()
    earlier = await anyio.to_thread.run_sync(app.answered_request, idempotency.request_id)
    if earlier is not None:
        await (await _replayed(app, earlier, digest, wait))(scope, receive, send)
        return

    def record(saved: Aggregate) -> AnsweredRequest:
        return idempotency.record(digest, {"recorded": {"id": str(saved.id), "version": saved.version}})

    answering = Answering(record)
    scope[ANSWERING] = answering
    captured = _Captured()
    await execute(captured.send)
    if answering.answered is None:
        # Nothing recorded by this request; a copy sent at the same moment may have been
        # (this one was then refused for what the copy wrote): the copy's answer stands.
        twin = await anyio.to_thread.run_sync(app.answered_request, idempotency.request_id)
        if twin is not None:
            await (await _replayed(app, twin, digest, wait))(scope, receive, send)
            return
        await captured.forward(send)
        return
    answer = captured.body
    kept = answer.decode("utf-8", "replace") if len(answer) <= KEEP_MAX_BYTES else None
    try:
        await anyio.to_thread.run_sync(app.keep_response, idempotency.request_id, captured.status, kept)
    except Exception:  # the write is recorded either way: its answer is sent, a repeat is told what was recorded
        log.exception("the answer to request %r could not be kept", idempotency.key)
    await captured.forward(send)


async def _replayed(app: ModelLedger, earlier: AnsweredRequest, body_digest: str, wait: float) -> Response:
    """The first answer, to a repeat of the request (a 422 for another body with its key)."""
    idempotency = Idempotency(earlier.caller, earlier.route, earlier.key)
    if earlier.body_digest != body_digest:
        return JSONResponse({"errors": [{"message": idempotency.other_body()}]}, status_code=422)
    deadline = time.monotonic() + wait
    while earlier.response is None and time.monotonic() < deadline:
        await anyio.sleep(0.1)  # its twin is still making the answer
        earlier = await anyio.to_thread.run_sync(app.answered_request, idempotency.request_id) or earlier
    if earlier.response is not None and earlier.response["body"] is not None:
        return Response(
            earlier.response["body"], status_code=earlier.response["status"], media_type="application/json", headers=REPLAYED
        )
    return JSONResponse(_recorded_answer(earlier), headers=REPLAYED)


def _recorded_answer(earlier: AnsweredRequest) -> dict[str, Any]:
    recorded = earlier.answer["recorded"]
    why = "it was too large to keep" if earlier.response is not None else "the server stopped before keeping it"
    message = (
        f"this request (Idempotency-Key {earlier.key!r}) was recorded: it wrote version {recorded['version']} "
        f"of {recorded['id']}; its answer was not kept ({why}): read that object to see the result"
    )
    return {"data": None, "errors": [{"message": message, "extensions": {"code": "RECORDED", "recorded": recorded}}]}
