"""Fills the projector view from projection, computation and result events."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.dispatch import singledispatchmethod
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import Tracking
from eventsourcing.projection import Projection
from eventsourcing.utils import get_topic

from domain.computations import Computation, ComputationResult
from domain.projector.layout import FORMER_TOPIC, PROJECTION_KIND, Layout
from projections.projector.view import ProjectorView


class ProjectorProjection(Projection[ProjectorView]):
    name = "projector"
    topics = (
        *(
            get_topic(cls)
            for cls in (
                Layout.Requested,
                Layout.ProgressNoted,
                Computation.Completed,
                Computation.Failed,
                Computation.Retried,
                ComputationResult.Recorded,
                ComputationResult.PartAdded,
            )
        ),
        # A log written before the layout aggregate's rename holds its events by the old name.
        f"{FORMER_TOPIC}.Requested",
        f"{FORMER_TOPIC}.ProgressNoted",
    )

    @singledispatchmethod
    def process_event(self, domain_event: DomainEventProtocol[UUID], tracking: Tracking) -> None:
        self.view.skip(tracking)

    @process_event.register
    def _(self, event: Layout.Requested, tracking: Tracking) -> None:
        fields = {
            "run_id": event.run_id,
            "run_version": event.run_version,
            "space": event.space,
            "spaces": event.spaces,
            "method": event.params["method"],
            "sphereize": bool(event.params["sphereize"]),
            "points": event.points,
            "selected": event.selected,
            "source": event.source_projection_id,
            "computation_id": event.computation_id,
            "actor": event.actor,
        }
        self.view.request(event.originator_id, fields, event.timestamp, tracking)

    @process_event.register
    def _(self, event: Layout.ProgressNoted, tracking: Tracking) -> None:
        self.view.note_progress(event.originator_id, event.fraction, event.stage, event.timestamp, tracking)

    @process_event.register
    def _(self, event: Computation.Completed, tracking: Tracking) -> None:
        self.view.change_computation(event.originator_id, event.timestamp, tracking, completed=True)

    @process_event.register
    def _(self, event: Computation.Failed, tracking: Tracking) -> None:
        self.view.change_computation(event.originator_id, event.timestamp, tracking, error=event.reason)

    @process_event.register
    def _(self, event: Computation.Retried, tracking: Tracking) -> None:
        self.view.change_computation(event.originator_id, event.timestamp, tracking, retried=True)

    @process_event.register
    def _(self, event: ComputationResult.Recorded, tracking: Tracking) -> None:
        if event.kind != PROJECTION_KIND:
            self.view.skip(tracking)
            return
        self.view.expect_parts(event.owner_id, event.parts, tracking)

    @process_event.register
    def _(self, event: ComputationResult.PartAdded, tracking: Tracking) -> None:
        if event.kind != PROJECTION_KIND:
            self.view.skip(tracking)
            return
        payload = event.payload
        self.view.add_points(event.owner_id, event.index, payload["rowIds"], payload["xy"], tracking)
