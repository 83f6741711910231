"""Fills the gallery view from a run's upload chunks: labels, predictions, removed rows."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.dispatch import singledispatchmethod
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import Tracking
from eventsourcing.utils import get_topic

from domain.uploads import Part, Upload, UploadKind, read_chunk
from projections.gallery.parts import ANNOTATIONS, PREDICTIONS, cleared, pack, part_of_payload
from projections.gallery.view import GalleryView
from projections.upload_owners import UploadFollowingProjection


class GalleryProjection(UploadFollowingProjection[GalleryView]):
    name = "gallery"
    upload_kinds = frozenset({UploadKind.RUN_ROWS, UploadKind.REMOVE_ROWS, UploadKind.PREDICTIONS})
    topics = (get_topic(Upload.Started), get_topic(Upload.ChunkAdded))

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
        part, value = read_chunk(upload.kind, event.payload)
        if part is Part.PREDICTIONS:
            parts = [(PREDICTIONS, pack(part_of_payload(value)))]
        elif part is Part.LABELS:
            parts = [(ANNOTATIONS, pack(part_of_payload(value)))]
        elif part is Part.ROWS:
            # Rows taken (again) into the run: their labels are those of the label chunks
            # that follow, if any.
            parts = [(ANNOTATIONS, pack(cleared([row[0] for row in value])))]
        else:  # Part.REMOVE
            gone = cleared(value)
            parts = [(ANNOTATIONS, pack(gone)), (PREDICTIONS, pack(gone))]
        self.view.add_parts(upload.owner_id, upload.owner_version, parts, tracking)
