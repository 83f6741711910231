"""Datasets (catalogs): named collections of data rows and their current labels."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.data_rows import MAX_METADATA_FIELDS, MetadataField
from domain.errors import ValidationFailed


def check_name(name: str, what: str) -> str:
    cleaned = name.strip()
    if not 1 <= len(cleaned) <= 200:
        raise ValidationFailed(f"{what} name must have 1 to 200 characters, got {name!r}")
    return cleaned


class Dataset(Aggregate):
    """A dataset's identity and counters. The rows live in upload chunks and read models."""

    @event("Created")
    def __init__(self, name: str, actor: str) -> None:
        self.name = check_name(name, "dataset")
        self.row_count = 0
        self.metadata_fields: dict[str, dict[str, Any]] = {}
        self.deleted = False

    @property
    def fields(self) -> dict[str, MetadataField]:
        return {k: MetadataField.from_dict(v) for k, v in self.metadata_fields.items()}

    def check_live(self) -> None:
        if self.deleted:
            raise ValidationFailed(f"dataset {self.id} is deleted")

    def declare_metadata_fields(self, fields: list[MetadataField], actor: str) -> None:
        for field in fields:
            known = self.metadata_fields.get(field.key)
            if known is not None and known != field.to_dict():
                raise ValidationFailed(
                    f"metadata field {field.key!r} is already declared as {known['kind']}"
                )
        new = [f.to_dict() for f in fields if f.key not in self.metadata_fields]
        if len(self.metadata_fields) + len(new) > MAX_METADATA_FIELDS:
            raise ValidationFailed(f"a dataset has at most {MAX_METADATA_FIELDS} metadata fields")
        if new:
            self._record_fields(fields=new, actor=actor)

    @event("MetadataFieldsDeclared")
    def _record_fields(self, fields: list[dict[str, Any]], actor: str) -> None:
        for field in fields:
            self.metadata_fields[field["key"]] = field

    def rename(self, name: str, actor: str) -> None:
        """A new name; the name it has (once cleaned) records nothing."""
        cleaned = check_name(name, "dataset")
        if cleaned != self.name:
            self._rename(name=cleaned, actor=actor)

    @event("Renamed")
    def _rename(self, name: str, actor: str) -> None:
        # Still cleaned here: events recorded before the check moved out hold the raw name.
        self.name = check_name(name, "dataset")

    @event("DataRowsAdded")
    def add_data_rows(self, upload_id: UUID, rows: int, labels: int, actor: str) -> None:
        self.row_count += rows

    @event("MetadataUpdated")
    def update_metadata(self, upload_id: UUID, rows: int, actor: str) -> None:
        pass

    @event("LabelsUpdated")
    def update_labels(self, upload_id: UUID, rows: int, labels: int, actor: str) -> None:
        pass

    @event("Deleted")
    def delete(self, actor: str) -> None:
        self.deleted = True
