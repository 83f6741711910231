"""Notes which runs, datasets and slices had an event that may change slice memberships.

Only a mark per run / dataset / slice (the last such event's position): the members
themselves come from the gallery, metrics, catalog and slices read models, which the
refresher waits for before it recomputes (slice_membership/refresher.py).
"""

from __future__ import annotations

from uuid import UUID

from eventsourcing.dispatch import singledispatchmethod
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import Tracking
from eventsourcing.projection import Projection
from eventsourcing.utils import get_topic

from domain.computations import METRICS, ComputationResult
from domain.datasets import Dataset
from domain.model_runs import ModelRun
from domain.slices import Slice
from projections.slice_membership.view import DATASET, RUN, SLICE, SliceMembershipView

# Every event of a run may change its rows, labels, predictions, splits or settings.
_RUN_EVENTS = (
    ModelRun.Created,
    ModelRun.RowsUpserted,
    ModelRun.SplitsReassigned,
    ModelRun.RowsRemoved,
    ModelRun.PredictionsUploaded,
    ModelRun.CustomMetricsUploaded,
    ModelRun.MetricSettingsChanged,
    ModelRun.Deleted,
)
# A run's rows take their metadata from the catalog, live.
_DATASET_EVENTS = (Dataset.MetadataUpdated, Dataset.MetadataFieldsDeclared)
_SLICE_EVENTS = (Slice.Created, Slice.FilterUpdated, Slice.Deleted)


class SliceMembershipProjection(Projection[SliceMembershipView]):
    name = "slice_membership"
    topics = tuple(
        get_topic(cls) for cls in (*_RUN_EVENTS, *_DATASET_EVENTS, *_SLICE_EVENTS, ComputationResult.PartAdded)
    )

    @singledispatchmethod
    def process_event(self, domain_event: DomainEventProtocol[UUID], tracking: Tracking) -> None:
        if isinstance(domain_event, _RUN_EVENTS):
            self.view.mark(RUN, domain_event.originator_id, tracking)
        elif isinstance(domain_event, _DATASET_EVENTS):
            self.view.mark(DATASET, domain_event.originator_id, tracking)
        elif isinstance(domain_event, _SLICE_EVENTS):
            self.view.mark(SLICE, domain_event.originator_id, tracking)
        else:
            self.view.skip(tracking)

    @process_event.register
    def _(self, event: ComputationResult.PartAdded, tracking: Tracking) -> None:
        # New metric results of the run (a projector's results change no membership; custom
        # metric values come with the run's CustomMetricsUploaded, above).
        if event.kind == METRICS:
            self.view.mark(RUN, event.owner_id, tracking)
        else:
            self.view.skip(tracking)
