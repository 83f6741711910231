"""Whether a run's metrics reflect all its data (`metricsStatus`, on ModelRun and as a
subscription): in sync, computing or failed."""

from __future__ import annotations

from enum import Enum

import strawberry

from projections.computation_status.queries import StatusRecord


@strawberry.enum
class MetricsState(Enum):
    IN_SYNC = "IN_SYNC"
    COMPUTING = "COMPUTING"
    FAILED = "FAILED"


@strawberry.type(description="Whether a run's metrics reflect all its data; pushed live by the subscription.")
class MetricsStatus:
    state: MetricsState
    pending_data_rows: int = strawberry.field(description="Data rows whose metrics are not computed yet.")
    progress: float | None = strawberry.field(description="Share of the pending work done, 0 to 1.")
    error: str | None = strawberry.field(description="Why the computation failed; retryMetrics resumes it.")
    changed_at: int = strawberry.field(
        description="The event log position of the last change of the run's metric computations"
        " (0 before the first): the same state at a later position means results were computed"
        " since, however fast.",
    )

    @classmethod
    def from_record(cls, record: StatusRecord) -> MetricsStatus:
        return cls(
            state=MetricsState(record.state),
            pending_data_rows=record.pending_data_rows,
            progress=record.progress,
            error=record.error,
            changed_at=record.position,
        )
