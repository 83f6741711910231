"""The actor that computes one chunk of a computation, idempotently.

A message is only a hint: (computation, chunk, the request's position in the log). The
actor loads the computation; a chunk already recorded, or a computation finished, is a
no-op, so redelivered and duplicated messages cost a load and nothing else. A chunk that
keeps failing is retried with backoff; when its retries are spent its failure is recorded
on the computation, which the status then reports.
"""

from __future__ import annotations

import importlib
import logging
from uuid import UUID

from workers.broker import setup_broker

setup_broker()  # before the actor below binds to a broker

import dramatiq  # noqa: E402
from dramatiq.middleware import CurrentMessage, Interrupt  # noqa: E402

from workers.kinds import KIND_MODULES, handler_for  # noqa: E402
from workers.services import current  # noqa: E402

log = logging.getLogger(__name__)

for _module in KIND_MODULES:
    importlib.import_module(_module)

QUEUE = "computations"
MAX_RETRIES = 3
# Per attempt. A chunk is bounded (about a thousand rows), so minutes mean something is
# wrong; the limit interrupts the worker thread between its numeric steps.
TIME_LIMIT_MS = 10 * 60 * 1000


def final_attempt() -> bool:
    message = CurrentMessage.get_current_message()
    retries = 0 if message is None else int(message.options.get("retries", 0))
    return retries >= MAX_RETRIES


@dramatiq.actor(
    queue_name=QUEUE,
    max_retries=MAX_RETRIES,
    time_limit=TIME_LIMIT_MS,
    min_backoff=500,
    max_backoff=10_000,
)
def compute_chunk(computation_id: str, chunk: int, notification_id: int) -> None:
    run_chunk(UUID(computation_id), chunk, notification_id, final=final_attempt())


def run_chunk(computation_id: UUID, chunk: int, notification_id: int, final: bool) -> None:
    services = current()
    app = services.app
    computation = app.computation(computation_id)
    if computation.finished or computation.is_done(chunk):
        return
    handler = handler_for(computation.kind)
    if handler is None:
        log.warning("no handler for computation kind %r here; leaving it to another worker", computation.kind)
        return
    try:
        services.inputs.wait_for(app.recorder, app.name, notification_id, services.input_wait_seconds)
        rows, parts = handler(services, computation, chunk)
        app.record_chunk_result(computation_id, chunk, rows, parts)
    except (Exception, Interrupt) as exc:  # a time limit interrupts with a BaseException
        if not final:
            raise  # dramatiq retries it, with backoff
        log.exception("computation %s chunk %s failed for good", computation_id, chunk)
        app.fail_computation(computation_id, chunk, f"chunk {chunk} failed: {type(exc).__name__}: {exc}")


def enqueue(computation_id: UUID, chunk: int, notification_id: int) -> None:
    compute_chunk.send(str(computation_id), chunk, notification_id)
