"""A run's computation status, derived from its computations' records."""

from __future__ import annotations

from dataclasses import dataclass, field
from uuid import UUID

from projections.computation_status.view import ComputationStatusView

IN_SYNC = "IN_SYNC"
COMPUTING = "COMPUTING"
FAILED = "FAILED"


@dataclass(frozen=True, slots=True)
class StatusRecord:
    """IN_SYNC, COMPUTING (pending data rows, progress) or FAILED (the first reason).

    COMPUTING wins over FAILED while work is under way: the failure is still reported in
    `error`, and the state turns FAILED when nothing is left running.
    """

    state: str
    pending_data_rows: int
    pending_chunks: int
    total_chunks: int
    error: str | None
    failed: list[str] = field(default_factory=list)  # ids of the computations to retry
    position: int = 0  # the last status change: equal positions, equal status

    @property
    def progress(self) -> float | None:
        """The share of the unfinished computations' chunks that is done."""
        if self.total_chunks == 0:
            return None
        return 1.0 - self.pending_chunks / self.total_chunks


class ComputationStatusQueries:
    def __init__(self, view: ComputationStatusView) -> None:
        self.view = view

    def status(self, owner_id: UUID | str, kind: str) -> StatusRecord:
        rows = self.view.fetch(
            "SELECT id, state, chunks, chunks_done, rows_planned, rows_done, reason, changed_at"
            " FROM {s}.computations WHERE owner_id = %s AND kind = %s AND state IN ('REQUESTED', 'FAILED')"
            " ORDER BY requested_at",
            (UUID(str(owner_id)), kind),
        )
        last = self.view.fetch_one(
            "SELECT max(changed_at) AS at FROM {s}.computations WHERE owner_id = %s AND kind = %s",
            (UUID(str(owner_id)), kind),
        )
        position = int(last["at"]) if last and last["at"] is not None else 0
        running = [r for r in rows if r["state"] == "REQUESTED"]
        failed = [r for r in rows if r["state"] == "FAILED"]
        unfinished = running + failed
        pending_chunks = sum(r["chunks"] - r["chunks_done"] for r in unfinished)
        total_chunks = sum(r["chunks"] for r in unfinished)
        pending_rows = sum(max(r["rows_planned"] - r["rows_done"], 0) for r in unfinished)
        error = failed[0]["reason"] if failed else None
        state = COMPUTING if running else FAILED if failed else IN_SYNC
        return StatusRecord(
            state=state,
            pending_data_rows=pending_rows,
            pending_chunks=pending_chunks,
            total_chunks=total_chunks,
            error=error,
            failed=[str(r["id"]) for r in failed],
            position=position,
        )

    def rows_finished_since(self, owner_id: UUID | str, kind: str, position: int) -> int:
        """Rows of the computations that finished after a position of the log."""
        row = self.view.fetch_one(
            "SELECT coalesce(sum(rows_planned), 0) AS n FROM {s}.computations"
            " WHERE owner_id = %s AND kind = %s AND state = 'COMPLETED' AND changed_at > %s",
            (UUID(str(owner_id)), kind, position),
        )
        return int(row["n"]) if row else 0

    def recent_owners(self, kind: str, limit: int) -> list[UUID]:
        """The owners whose computations of a kind changed last, newest first."""
        rows = self.view.fetch(
            "SELECT owner_id FROM {s}.computations WHERE kind = %s GROUP BY owner_id"
            " ORDER BY max(changed_at) DESC LIMIT %s",
            (kind, limit),
        )
        return [r["owner_id"] for r in rows]

    def computation(self, computation_id: UUID) -> dict[str, object] | None:
        row = self.view.fetch_one("SELECT * FROM {s}.computations WHERE id = %s", (computation_id,))
        return None if row is None else dict(row)
