"""Background computations as events: requested, chunk by chunk completed, failed, retried.

A computation is work derived from an owner's change (a model run's new predictions, say):
it is requested at the owner's version with a plan of chunks and the parameters to use, in
the same save as the change, so the log never holds a change without its work nor work
without its cause. Workers complete chunks in any order; each chunk is recorded at most
once, its result in a `ComputationResult` whose id is derived from (computation, chunk), so
a chunk computed twice (a redelivered message, a race between two workers) cannot be
recorded twice: the second save conflicts and the second completion is a no-op.

The kind names what is computed ("metrics" now; projector reductions later); the plan and
the parameters are the kind's own plain JSON. The aggregate itself stays small: the chunk
results live in their own events, read by projections.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import ValidationFailed

# Kinds of computation.
METRICS = "metrics"

REQUESTED = "REQUESTED"
COMPLETED = "COMPLETED"
FAILED = "FAILED"

# Reasons are shown to users as is; a traceback is not a reason.
MAX_REASON = 2_000


class Computation(Aggregate):
    @event("Requested")
    def __init__(
        self,
        kind: str,
        owner_id: UUID,
        owner_version: int,
        chunks: int,
        rows: int,
        plan: dict[str, Any],
        parameters: dict[str, Any],
        actor: str,
    ) -> None:
        if chunks < 1:
            raise ValidationFailed("a computation needs at least one chunk")
        self.kind = kind
        self.owner_id = owner_id
        self.owner_version = owner_version
        self.chunk_count = chunks
        self.rows_planned = rows
        self.plan = plan
        self.parameters = parameters
        self.done: list[int] = []
        self.rows_done = 0
        self.state = REQUESTED
        self.reason: str | None = None
        self.attempt = 1

    @property
    def finished(self) -> bool:
        return self.state != REQUESTED

    def is_done(self, chunk: int) -> bool:
        return chunk in self.done

    def pending_chunks(self) -> list[int]:
        done = set(self.done)
        return [i for i in range(self.chunk_count) if i not in done]

    def complete_chunk(self, chunk: int, rows: int) -> bool:
        """Record a chunk's completion once; False (and nothing recorded) if it was already.

        A chunk may complete after the computation failed (another chunk's failure): its
        result is as good as ever, and it counts when the computation is retried.
        """
        self._check_chunk(chunk)
        if chunk in self.done:
            return False
        self._chunk_completed(chunk=chunk, rows=rows)
        if len(self.done) == self.chunk_count and self.state == REQUESTED:
            self._completed()
        return True

    def fail(self, chunk: int, reason: str) -> bool:
        """The chunk failed for good (its retries are spent). False if already finished."""
        self._check_chunk(chunk)
        if self.state != REQUESTED:
            return False
        self._failed(chunk=chunk, reason=reason[:MAX_REASON])
        return True

    def retry(self, actor: str) -> None:
        if self.state != FAILED:
            raise ValidationFailed(f"computation {self.id} has not failed: it is {self.state}")
        self._retried(actor=actor)
        if len(self.done) == self.chunk_count:
            self._completed()

    def _check_chunk(self, chunk: int) -> None:
        if not 0 <= chunk < self.chunk_count:
            raise ValidationFailed(f"computation {self.id} has no chunk {chunk}")

    @event("ChunkCompleted")
    def _chunk_completed(self, chunk: int, rows: int) -> None:
        self.done.append(chunk)
        self.rows_done += rows

    @event("Completed")
    def _completed(self) -> None:
        self.state = COMPLETED

    @event("Failed")
    def _failed(self, chunk: int, reason: str) -> None:
        self.state = FAILED
        self.reason = reason

    @event("Retried")
    def _retried(self, actor: str) -> None:
        self.state = REQUESTED
        self.reason = None
        self.attempt += 1


def result_id(computation_id: UUID, chunk: int) -> UUID:
    """The one id a chunk's result can have: recording it twice is a conflict."""
    return uuid5(computation_id, f"chunk:{chunk}")


class ComputationResult(Aggregate):
    """One chunk's result, in parts each small enough for one event (saved together).

    It repeats the computation's kind and owner so that a projection reads a part without
    looking anything else up.
    """

    @event("Recorded")
    def __init__(
        self,
        id: UUID,  # noqa: A002 (eventsourcing takes the aggregate id by this name)
        computation_id: UUID,
        chunk: int,
        kind: str,
        owner_id: UUID,
        owner_version: int,
        parts: int,
        rows: int,
    ) -> None:
        self.computation_id = computation_id
        self.chunk = chunk
        self.kind = kind
        self.owner_id = owner_id
        self.owner_version = owner_version
        self.parts = parts
        self.rows = rows
        self.parts_added = 0

    @event("PartAdded")
    def add_part(
        self,
        index: int,
        kind: str,
        owner_id: UUID,
        owner_version: int,
        computation_id: UUID,
        chunk: int,
        payload: dict[str, Any],
    ) -> None:
        # The payload is read by projections, never kept here.
        self.parts_added += 1


def new_result(computation: Computation, chunk: int, rows: int, parts: list[dict[str, Any]]) -> ComputationResult:
    result = ComputationResult(
        id=result_id(computation.id, chunk),
        computation_id=computation.id,
        chunk=chunk,
        kind=computation.kind,
        owner_id=computation.owner_id,
        owner_version=computation.owner_version,
        parts=len(parts),
        rows=rows,
    )
    for index, payload in enumerate(parts):
        result.add_part(
            index=index,
            kind=computation.kind,
            owner_id=computation.owner_id,
            owner_version=computation.owner_version,
            computation_id=computation.id,
            chunk=chunk,
            payload=payload,
        )
    return result
