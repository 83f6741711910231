"""Commands on background computations: request, record a chunk, fail, retry.

A change of a run that affects its metrics records a metric computation in the same save
(`metrics_for_upload`, `metrics_for_settings`), so the work is derived from the log: a
sweeper finds every computation requested and not finished, whatever became of the queue.
"""

from __future__ import annotations

import math
from typing import Any
from uuid import UUID

from application.ledger import LedgerCore
from domain.computations import FAILED, METRICS, Computation, new_result
from domain.errors import Conflict, NotFound, ValidationFailed
from domain.metric_settings import MetricSettings
from domain.model_runs import ModelRun
from domain.uploads import Upload

# Rows per chunk when every row of a run is recomputed (new confidence thresholds): a
# chunk's match table then stays a few events, and the work spreads over the workers.
ROWS_PER_FULL_CHUNK = 1_000
# An upload's computation is cut into about this many pieces (an upload chunk's rows may be
# matched in several), so that its progress moves even when the upload is one chunk; but a
# piece has at least MIN_PIECE_ROWS rows, as each costs a fixed overhead (reading inputs,
# recording its result): large uploads keep one piece per upload chunk.
TARGET_PIECES = 10
MIN_PIECE_ROWS = 100
# Concurrent chunk completions of one computation conflict on its version; each retry
# reloads it (cheap: its events are small) and saves again.
CONFLICT_RETRIES = 50


def metric_parameters(run: ModelRun) -> dict[str, Any]:
    """What a metric chunk is computed with: fixed at request time, whatever changes later."""
    settings = run.settings
    return {
        "model_id": str(run.model_id),
        "confidence_thresholds": list(settings.confidence_thresholds),
        "point_radius": settings.point_radius,
    }


def piece_rows(rows: int) -> int:
    """Rows per piece of an upload's computation over `rows` rows (see TARGET_PIECES)."""
    return max(MIN_PIECE_ROWS, math.ceil(rows / TARGET_PIECES))


def needs_rematch(before: MetricSettings, after: MetricSettings) -> bool:
    """IoU thresholds cut the match results at query time; only these change the matching."""
    return (
        before.confidence_thresholds != after.confidence_thresholds
        or before.point_radius != after.point_radius
    )


class MetricCommands(LedgerCore):
    snapshotting_intervals = {**LedgerCore.snapshotting_intervals, Computation: 50}  # noqa: RUF012

    # -- requests, recorded by the commands that change a run ---------------------------

    def metrics_for_upload(
        self, run: ModelRun, upload: Upload, chunk_rows: list[tuple[int, int]], rows: int, actor: str
    ) -> Computation | None:
        """Recompute the rows an upload changed. `chunk_rows` names each upload chunk that
        names rows, with how many; each becomes computation chunks of at most `piece_rows(rows)`
        of its rows, planned as [upload chunk, first row, end row].

        Call after the run's change is applied, so the run's version is the new one.
        """
        size = piece_rows(rows)
        pieces = [
            [index, start, min(start + size, count)]
            for index, count in chunk_rows
            for start in range(0, count, size)
        ]
        if rows == 0 or not pieces:
            return None
        plan = {"scope": "upload", "upload_id": str(upload.id), "upload_chunks": pieces}
        return Computation(
            kind=METRICS,
            owner_id=run.id,
            owner_version=run.version,
            chunks=len(pieces),
            rows=rows,
            plan=plan,
            parameters=metric_parameters(run),
            actor=actor,
        )

    def metrics_for_all_rows(self, run: ModelRun, actor: str) -> Computation:
        """Recompute every row of the run, split into ranges of row ids."""
        chunks = max(1, math.ceil(run.row_count / ROWS_PER_FULL_CHUNK))
        return Computation(
            kind=METRICS,
            owner_id=run.id,
            owner_version=run.version,
            chunks=chunks,
            rows=run.row_count,
            plan={"scope": "all"},
            parameters=metric_parameters(run),
            actor=actor,
        )

    def metrics_for_settings(self, run: ModelRun, before: MetricSettings, actor: str) -> Computation | None:
        return self.metrics_for_all_rows(run, actor) if needs_rematch(before, run.settings) else None

    # -- what workers record -------------------------------------------------------------

    def computation(self, computation_id: UUID) -> Computation:
        return self.load(Computation, computation_id, "computation")

    def record_chunk_result(
        self, computation_id: UUID, chunk: int, rows: int, parts: list[dict[str, Any]]
    ) -> bool:
        """Record a chunk's result once. False when it was recorded before (by a retried
        message, or another worker that got there first): nothing is recorded then."""
        for _ in range(CONFLICT_RETRIES):
            computation = self.computation(computation_id)
            if computation.is_done(chunk):
                return False
            result = new_result(computation, chunk, rows, parts)
            computation.complete_chunk(chunk, rows)
            try:
                # The result's events first: a reader that sees the chunk completed can
                # count on its result being before it in the log.
                self.store(result, computation)
            except Conflict:
                continue  # another chunk (or this one) was recorded meanwhile: look again
            return True
        raise Conflict(f"computation {computation_id} kept changing; chunk {chunk} not recorded")

    def fail_computation(self, computation_id: UUID, chunk: int, reason: str) -> bool:
        for _ in range(CONFLICT_RETRIES):
            computation = self.computation(computation_id)
            if computation.is_done(chunk) or not computation.fail(chunk, reason):
                return False
            try:
                self.store(computation)
            except Conflict:
                continue
            return True
        raise Conflict(f"computation {computation_id} kept changing; its failure was not recorded")

    # -- what users ask for --------------------------------------------------------------

    def retry_computations(self, run_id: UUID, computation_ids: list[UUID], actor: str) -> list[Computation]:
        """Resume failed computations of a run (their missing chunks are computed again)."""
        self.load_run(run_id)
        if not computation_ids:
            raise ValidationFailed(f"model run {run_id} has no failed metric computation to retry")
        retried = []
        for computation_id in computation_ids:
            try:
                computation = self.computation(computation_id)
            except NotFound:
                raise ValidationFailed(f"computation {computation_id} not found") from None
            if computation.owner_id != run_id:
                raise ValidationFailed(f"computation {computation_id} is not of model run {run_id}")
            if computation.state == FAILED:
                computation.retry(actor=actor)
                retried.append(computation)
        if not retried:
            raise ValidationFailed(f"model run {run_id} has no failed metric computation to retry")
        self.store(*retried)
        return retried

    def recompute_metrics(self, run_id: UUID, actor: str) -> Computation:
        """Match every row of the run again (e.g. after a failure that a retry cannot mend)."""
        run = self.load_run(run_id)
        computation = self.metrics_for_all_rows(run, actor)
        self.store(computation)
        return computation
