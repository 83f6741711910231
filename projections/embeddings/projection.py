"""Fills the embeddings view from embedding space events and their upload chunks."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.dispatch import singledispatchmethod
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import Tracking
from eventsourcing.utils import get_topic

from domain.embeddings import EmbeddingSpace
from domain.uploads import Upload, UploadKind
from projections.embeddings.view import EmbeddingsView
from projections.upload_owners import UploadFollowingProjection


class EmbeddingsProjection(UploadFollowingProjection[EmbeddingsView]):
    name = "embeddings"
    upload_kinds = frozenset({UploadKind.EMBEDDINGS})
    topics = tuple(
        get_topic(cls)
        for cls in (EmbeddingSpace.Created, EmbeddingSpace.VectorsUploaded, Upload.Started, Upload.ChunkAdded)
    )

    @singledispatchmethod
    def process_event(self, domain_event: DomainEventProtocol[UUID], tracking: Tracking) -> None:
        self.view.skip(tracking)

    @process_event.register
    def _(self, event: EmbeddingSpace.Created, tracking: Tracking) -> None:
        self.view.create_space(
            event.originator_id, event.dataset_id, event.name, event.dimension, event.timestamp, tracking
        )

    @process_event.register
    def _(self, event: EmbeddingSpace.VectorsUploaded, tracking: Tracking) -> None:
        self.view.advance_space(event.originator_id, event.originator_version, event.timestamp, tracking)

    @process_event.register
    def _(self, event: Upload.Started, tracking: Tracking) -> None:
        self.uploads.started(event, tracking)

    @process_event.register
    def _(self, event: Upload.ChunkAdded, tracking: Tracking) -> None:
        upload = self.uploads.of_chunk(event, tracking)
        if upload is None:
            return
        payload = event.payload
        self.view.put_vectors(upload.owner_id, upload.owner_version, payload["rowIds"], payload["vectors"], tracking)
