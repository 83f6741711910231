"""Fills the computation status view from the computations' events."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.dispatch import singledispatchmethod
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import Tracking
from eventsourcing.projection import Projection
from eventsourcing.utils import get_topic

from domain.computations import COMPLETED, FAILED, REQUESTED, Computation
from projections.computation_status.view import ComputationStatusView

# Every lifecycle event of a computation; chunk results are another aggregate's events.
LIFECYCLE = (
    Computation.Requested,
    Computation.ChunkCompleted,
    Computation.Completed,
    Computation.Failed,
    Computation.Retried,
)


class ComputationStatusProjection(Projection[ComputationStatusView]):
    name = "computation_status"
    topics = tuple(get_topic(cls) for cls in LIFECYCLE)

    @singledispatchmethod
    def process_event(self, domain_event: DomainEventProtocol[UUID], tracking: Tracking) -> None:
        self.view.skip(tracking)

    @process_event.register
    def _(self, event: Computation.Requested, tracking: Tracking) -> None:
        self.view.requested(
            event.originator_id,
            event.kind,
            (event.owner_id, event.owner_version),
            str(event.plan.get("scope", "")),
            event.chunks,
            event.rows,
            tracking,
        )

    @process_event.register
    def _(self, event: Computation.ChunkCompleted, tracking: Tracking) -> None:
        self.view.chunk_completed(event.originator_id, event.rows, tracking)

    @process_event.register
    def _(self, event: Computation.Completed, tracking: Tracking) -> None:
        self.view.set_state(event.originator_id, COMPLETED, None, tracking)

    @process_event.register
    def _(self, event: Computation.Failed, tracking: Tracking) -> None:
        self.view.set_state(event.originator_id, FAILED, event.reason, tracking)

    @process_event.register
    def _(self, event: Computation.Retried, tracking: Tracking) -> None:
        self.view.set_state(event.originator_id, REQUESTED, None, tracking)
