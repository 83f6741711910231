"""Fills the gallery view from a run's upload chunks: labels, predictions, removed rows."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.dispatch import singledispatchmethod
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import Tracking
from eventsourcing.projection import Projection
from eventsourcing.utils import get_topic

from domain.uploads import Upload
from projections.gallery.parts import ANNOTATIONS, PREDICTIONS, cleared, pack, part_of_payload
from projections.gallery.view import GalleryView
from projections.upload_owners import FollowedUploads

UPLOAD_KINDS = frozenset({"run_rows", "remove_rows", "predictions"})


class GalleryProjection(Projection[GalleryView]):
    name = "gallery"
    topics = (get_topic(Upload.Started), get_topic(Upload.ChunkAdded))

    def __init__(self, view: GalleryView) -> None:
        super().__init__(view)
        self.uploads = FollowedUploads(view, UPLOAD_KINDS)

    @singledispatchmethod
    def process_event(self, domain_event: DomainEventProtocol[UUID], tracking: Tracking) -> None:
        self.view.skip(tracking)

    @process_event.register
    def _(self, event: Upload.Started, tracking: Tracking) -> None:
        self.uploads.started(event, tracking)

    @process_event.register
    def _(self, event: Upload.ChunkAdded, tracking: Tracking) -> None:
        upload = self.uploads.of_chunk(event, tracking)
        if upload is None:
            return
        payload = event.payload
        if upload.kind == "predictions":
            parts = [(PREDICTIONS, pack(part_of_payload(payload["predictions"])))]
        elif upload.kind == "run_rows" and "labels" in payload:
            parts = [(ANNOTATIONS, pack(part_of_payload(payload["labels"])))]
        elif upload.kind == "run_rows" and "rows" in payload:
            # Rows taken (again) into the run: their labels are those of the label chunks
            # that follow, if any.
            parts = [(ANNOTATIONS, pack(cleared([row[0] for row in payload["rows"]])))]
        elif upload.kind == "remove_rows":
            gone = cleared(payload["remove"])
            parts = [(ANNOTATIONS, pack(gone)), (PREDICTIONS, pack(gone))]
        else:
            raise ValueError(f"upload {event.originator_id} chunk {event.index} holds {sorted(payload)}")
        self.view.add_parts(upload.owner_id, upload.owner_version, parts, tracking)
