"""Fills the catalog view from dataset, model and upload events."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.dispatch import singledispatchmethod
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import Tracking
from eventsourcing.utils import get_topic

from domain.datasets import Dataset
from domain.models import Model
from domain.ontology import Ontology
from domain.uploads import Part, Upload, UploadKind, read_chunk
from projections.annotation_json import row_sets
from projections.catalog.view import CatalogView
from projections.upload_owners import UploadFollowingProjection

EMPTY_ONTOLOGY: dict[str, Any] = Ontology().to_dict()


def extended_ontology(event: Model.OntologyExtended, stored: dict[str, Any]) -> dict[str, Any]:
    """The ontology after an extension, exactly as the model aggregate computes it.

    The event's own body is applied to a stand-in holding the only state it reads, the
    ontology so far: the read model agrees with the aggregate by construction, whatever
    the stored form of an extension is.
    """
    stand_in = Model.__new__(Model)
    stand_in.ontology = Ontology.from_dict(stored)
    event.apply(stand_in)
    return stand_in.ontology.to_dict()


class CatalogProjection(UploadFollowingProjection[CatalogView]):
    name = "catalog"
    upload_kinds = frozenset({UploadKind.DATA_ROWS, UploadKind.METADATA, UploadKind.LABELS})
    topics = tuple(
        get_topic(cls)
        for cls in (
            Dataset.Created,
            Dataset.Renamed,
            Dataset.MetadataFieldsDeclared,
            Dataset.DataRowsAdded,
            Dataset.MetadataUpdated,
            Dataset.LabelsUpdated,
            Dataset.Deleted,
            Model.Created,
            Model.Renamed,
            Model.OntologyExtended,
            Model.Deleted,
            Upload.Started,
            Upload.ChunkAdded,
        )
    )

    @singledispatchmethod
    def process_event(self, domain_event: DomainEventProtocol[UUID], tracking: Tracking) -> None:
        self.view.skip(tracking)

    # -- datasets ------------------------------------------------------------------------

    @process_event.register
    def _(self, event: Dataset.Created, tracking: Tracking) -> None:
        self.view.create_dataset(event.originator_id, event.name, event.timestamp, tracking)

    @process_event.register
    def _(self, event: Dataset.Renamed, tracking: Tracking) -> None:
        self.view.update_dataset(
            event.originator_id, event.originator_version, event.timestamp, tracking, name=event.name
        )

    @process_event.register
    def _(self, event: Dataset.MetadataFieldsDeclared, tracking: Tracking) -> None:
        self.view.update_dataset(
            event.originator_id,
            event.originator_version,
            event.timestamp,
            tracking,
            new_fields=event.fields,
        )

    @process_event.register
    def _(self, event: Dataset.DataRowsAdded, tracking: Tracking) -> None:
        self.view.update_dataset(
            event.originator_id, event.originator_version, event.timestamp, tracking, added_rows=event.rows
        )

    @process_event.register
    def _(self, event: Dataset.MetadataUpdated, tracking: Tracking) -> None:
        self.view.update_dataset(event.originator_id, event.originator_version, event.timestamp, tracking)

    @process_event.register
    def _(self, event: Dataset.LabelsUpdated, tracking: Tracking) -> None:
        self.view.update_dataset(event.originator_id, event.originator_version, event.timestamp, tracking)

    @process_event.register
    def _(self, event: Dataset.Deleted, tracking: Tracking) -> None:
        self.view.update_dataset(
            event.originator_id, event.originator_version, event.timestamp, tracking, deleted=True
        )

    # -- models --------------------------------------------------------------------------

    @process_event.register
    def _(self, event: Model.Created, tracking: Tracking) -> None:
        self.view.create_model(event.originator_id, event.name, EMPTY_ONTOLOGY, event.timestamp, tracking)

    @process_event.register
    def _(self, event: Model.Renamed, tracking: Tracking) -> None:
        self.view.update_model(
            event.originator_id, event.originator_version, event.timestamp, tracking, name=event.name
        )

    @process_event.register
    def _(self, event: Model.OntologyExtended, tracking: Tracking) -> None:
        stored = self.view.model_ontology(event.originator_id) or EMPTY_ONTOLOGY
        self.view.update_model(
            event.originator_id,
            event.originator_version,
            event.timestamp,
            tracking,
            ontology=extended_ontology(event, stored),
        )

    @process_event.register
    def _(self, event: Model.Deleted, tracking: Tracking) -> None:
        self.view.update_model(
            event.originator_id, event.originator_version, event.timestamp, tracking, deleted=True
        )

    # -- uploads -------------------------------------------------------------------------

    @process_event.register
    def _(self, event: Upload.Started, tracking: Tracking) -> None:
        self.uploads.started(event, tracking)

    @process_event.register
    def _(self, event: Upload.ChunkAdded, tracking: Tracking) -> None:
        upload = self.uploads.of_chunk(event, tracking)
        if upload is None:
            return
        part, value = read_chunk(upload.kind, event.payload)
        if part is Part.ROWS:
            self.view.add_rows(upload.owner_id, value, tracking)
        elif part is Part.LABELS:
            labels = [(row_id, data.decode(), n) for row_id, data, n in row_sets(value)]
            self.view.replace_labels(upload.owner_id, upload.owner_version, labels, tracking)
        else:  # Part.METADATA
            self.view.merge_metadata(upload.owner_id, value, tracking)
