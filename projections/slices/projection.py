"""Fills the slices view from slice events."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.dispatch import singledispatchmethod
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import Tracking
from eventsourcing.projection import Projection
from eventsourcing.utils import get_topic

from domain.slices import Slice
from projections.slices.view import SlicesView


class SlicesProjection(Projection[SlicesView]):
    name = "slices"
    topics = tuple(get_topic(cls) for cls in (Slice.Created, Slice.Renamed, Slice.FilterUpdated, Slice.Deleted))

    @singledispatchmethod
    def process_event(self, domain_event: DomainEventProtocol[UUID], tracking: Tracking) -> None:
        self.view.skip(tracking)

    @process_event.register
    def _(self, event: Slice.Created, tracking: Tracking) -> None:
        self.view.create_slice(
            event.originator_id, event.model_id, event.name, event.filter, event.timestamp, tracking
        )

    @process_event.register
    def _(self, event: Slice.Renamed, tracking: Tracking) -> None:
        self.view.update_slice(
            event.originator_id, event.originator_version, event.timestamp, tracking, name=event.name
        )

    @process_event.register
    def _(self, event: Slice.FilterUpdated, tracking: Tracking) -> None:
        self.view.update_slice(
            event.originator_id, event.originator_version, event.timestamp, tracking, filter_json=event.filter
        )

    @process_event.register
    def _(self, event: Slice.Deleted, tracking: Tracking) -> None:
        self.view.update_slice(
            event.originator_id, event.originator_version, event.timestamp, tracking, deleted=True
        )
