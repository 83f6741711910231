"""Bulk NDJSON uploads: data rows (with labels), metadata updates and label updates of a
dataset; predictions and custom metric values of a model run.

The body is streamed and validated whole before anything is recorded: the answer is
`200 {"accepted": lines, "version": V}` or, with nothing recorded,
`422 {"errors": [{"line": n, "message": ...}]}` (413 too large, 404 unknown dataset or
run, 409 a concurrent write got there first, 401 no key, 403 read-only key).

With an `Idempotency-Key` header the request is recorded with its answer: the same key on
the same route again (a retry after a lost answer) gets that answer back, marked
`Idempotent-Replayed: true`, and records nothing; the same key with another body is 422.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import nullcontext
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from uuid import UUID

import anyio.to_thread
from eventsourcing.domain import Aggregate
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from application.ledger import AlreadyAnswered
from application.upload_lines import decode_lines
from domain.answered_requests import AnsweredRequest
from domain.errors import Conflict, DomainError, Forbidden, NotFound, ValidationFailed
from routes.auth import caller
from routes.idempotency import REPLAYED, Idempotency, idempotency_of
from routes.ndjson import Counted, pull, split_lines
from routes.request_body import (
    BodyTooLarge,
    UnsupportedBody,
    check_bulk_body,
    check_declared_length,
    gunzipped,
    limited_stream,
    too_large,
    unsupported,
)
from schema.ids import try_parse_id

if TYPE_CHECKING:
    from application import ModelLedger
    from runtime import Runtime

Lines = Iterable[tuple[int, Any]]
# A command takes (ledger, owner id, lines, actor) and gives (new version, notification id).
UploadCommand = Callable[["ModelLedger", UUID, Lines, str], tuple[int, int]]


@dataclass(frozen=True)
class UploadLimits:
    max_body_bytes: int = 2 * 1024**3
    # One line is held whole while it is decoded; a mask PNG is a few MB at most.
    max_line_bytes: int = 64 * 1024**2
    # How long the answer waits for the read models to show the upload.
    read_model_wait_seconds: float = 60.0


def add_data_rows(app: ModelLedger, dataset_id: UUID, lines: Lines, actor: str) -> tuple[int, int]:
    dataset, notification_id = app.add_data_rows(dataset_id, lines, actor)
    return dataset.version, notification_id


def update_metadata(app: ModelLedger, dataset_id: UUID, lines: Lines, actor: str) -> tuple[int, int]:
    dataset, notification_id = app.update_metadata(dataset_id, lines, actor)
    return dataset.version, notification_id


def update_labels(app: ModelLedger, dataset_id: UUID, lines: Lines, actor: str) -> tuple[int, int]:
    dataset, notification_id = app.update_labels(dataset_id, lines, actor)
    return dataset.version, notification_id


def upload_predictions(app: ModelLedger, run_id: UUID, lines: Lines, actor: str) -> tuple[int, int]:
    run, notification_id, _ = app.upload_predictions(run_id, lines, actor)
    return run.version, notification_id


def upload_custom_metrics(app: ModelLedger, run_id: UUID, lines: Lines, actor: str) -> tuple[int, int]:
    run, notification_id, _ = app.upload_custom_metrics(run_id, lines, actor)
    return run.version, notification_id


async def data_rows_route(request: Request) -> Response:
    return await _upload(request, request.path_params["dataset_id"], "dataset", add_data_rows)


async def metadata_route(request: Request) -> Response:
    return await _upload(request, request.path_params["dataset_id"], "dataset", update_metadata)


async def labels_route(request: Request) -> Response:
    return await _upload(request, request.path_params["dataset_id"], "dataset", update_labels)


async def custom_metrics_route(request: Request) -> Response:
    return await _upload(request, request.path_params["run_id"], "model run", upload_custom_metrics)


async def predictions_route(request: Request) -> Response:
    return await _upload(request, request.path_params["run_id"], "model run", upload_predictions)


def upload_routes() -> list[Route]:
    return [
        Route("/upload/datasets/{dataset_id}/data-rows", data_rows_route, methods=["POST"]),
        Route("/upload/datasets/{dataset_id}/metadata", metadata_route, methods=["POST"]),
        Route("/upload/datasets/{dataset_id}/labels", labels_route, methods=["POST"]),
        Route("/upload/model-runs/{run_id}/predictions", predictions_route, methods=["POST"]),
        Route("/upload/model-runs/{run_id}/custom-metrics", custom_metrics_route, methods=["POST"]),
    ]


async def _upload(request: Request, owner: str, what: str, command: UploadCommand) -> Response:
    runtime: Runtime = request.app.state.runtime
    limits: UploadLimits = request.app.state.upload_limits
    key = await caller(request, write=True)
    if isinstance(key, Response):
        return key
    owner_id = try_parse_id(owner)
    if owner_id is None:
        return _error(404, f"{what} {owner!r} not found")
    try:
        check_declared_length(request, limits.max_body_bytes)
        compressed = check_bulk_body(request)
        idempotency = idempotency_of(request, str(key.id))
    except BodyTooLarge as exc:
        return too_large(exc)
    except UnsupportedBody as exc:
        return unsupported(exc)
    except ValidationFailed as exc:
        return _error(400, exc.message)

    body = limited_stream(request, limits.max_body_bytes)
    if compressed:
        body = gunzipped(body, limits.max_body_bytes)
    digest = hashlib.sha256()
    body = _digested(body, digest)

    async def answered_before() -> Response | None:
        """The answer to an earlier request with this key, if there is one."""
        if idempotency is None:
            return None
        earlier = await anyio.to_thread.run_sync(runtime.app.answered_request, idempotency.request_id)
        if earlier is None:
            return None
        async for _ in body:  # the rest of the body, for its digest
            pass
        return _replayed(earlier, digest.hexdigest())

    try:
        if (replay := await answered_before()) is not None:
            return replay
    except BodyTooLarge as exc:
        return too_large(exc)
    except DomainError as exc:  # a gzip body that does not inflate, read for its digest
        return _domain_error(exc)
    lines = Counted(decode_lines(split_lines(pull(body), limits.max_line_bytes)))

    def answer(saved: Aggregate) -> AnsweredRequest:
        assert idempotency is not None
        return idempotency.record(digest.hexdigest(), {"accepted": lines.count, "version": saved.version})

    def record() -> int:
        runtime.app.forget_saved_here()
        with runtime.app.answering(answer) if idempotency is not None else nullcontext():
            version, _ = command(runtime.app, owner_id, lines, key.name)
        # Recorded: the answer is a success whether or not the read models show it in time.
        runtime.read_models.show_written(runtime.app.saved_here(), limits.read_model_wait_seconds)
        return version

    try:
        version = await anyio.to_thread.run_sync(record)
    except BodyTooLarge as exc:
        return too_large(exc)
    except DomainError as exc:
        # A copy of this request sent at the same moment may have been recorded while this
        # one was checked (and is refused for what the copy wrote): the copy's answer stands.
        try:
            replay = await answered_before()
        except (BodyTooLarge, DomainError):
            replay = None
        return replay if replay is not None else _domain_error(exc)
    except AlreadyAnswered as exc:  # the same request, sent twice at once: one write, one answer
        return _replayed(exc.answered, digest.hexdigest())
    return JSONResponse({"accepted": lines.count, "version": version})


async def _digested(stream: AsyncIterator[bytes], digest: Any) -> AsyncIterator[bytes]:
    async for chunk in stream:
        digest.update(chunk)
        yield chunk


def _replayed(earlier: AnsweredRequest, body_digest: str) -> Response:
    """The answer given to the first request with this key, if this one is its repeat."""
    if earlier.body_digest != body_digest:
        message = Idempotency(earlier.caller, earlier.route, earlier.key).other_body()
        return JSONResponse({"errors": [{"line": None, "message": message}]}, status_code=422)
    return JSONResponse(earlier.answer, headers=REPLAYED)


def _domain_error(exc: DomainError) -> Response:
    if isinstance(exc, ValidationFailed):
        # Errors not tied to one line (an empty upload, a deleted dataset) have line null.
        errors = [{"line": e.line, "message": e.message} for e in exc.errors]
        return JSONResponse({"errors": errors or [{"line": None, "message": exc.message}]}, status_code=422)
    status = 404 if isinstance(exc, NotFound) else 409 if isinstance(exc, Conflict) else 403 if isinstance(exc, Forbidden) else 400
    return _error(status, exc.message)


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"errors": [{"message": message}]}, status_code=status)
