"""What the read models answer: plain records, shared by every view and by the API."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a list: `items`, the total count, and the cursor after the last item."""

    items: list[Any]
    total_count: int
    end_cursor: str | None
    has_next_page: bool


@dataclass(frozen=True, slots=True)
class DatasetRecord:
    id: str
    name: str
    row_count: int
    version: int
    created_at: datetime
    metadata_fields: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class DataRowRecord:
    id: str
    dataset_id: str
    global_key: str
    row_data: str
    media_type: str
    width: int | None
    height: int | None
    metadata: dict[str, Any]
    labels: list[dict[str, Any]]  # annotation objects in the NDJSON line format


@dataclass(frozen=True, slots=True)
class ModelRecord:
    id: str
    name: str
    version: int
    created_at: datetime
    ontology: dict[str, Any]  # Ontology.to_dict(): features with their stable ids


@dataclass(frozen=True, slots=True)
class ModelRunRecord:
    id: str
    model_id: str
    name: str
    version: int  # the version this record shows (the latest, or the one asked for)
    latest_version: int
    created_at: datetime
    updated_at: datetime
    config: dict[str, Any]
    metric_settings: dict[str, Any]
    row_count: int
    deleted: bool


@dataclass(frozen=True, slots=True)
class RunRowRecord:
    """A data row of a run as of some version."""

    id: str
    global_key: str
    split: str
    width: int | None
    height: int | None
    labels: list[dict[str, Any]]
    covered: bool  # some prediction upload covered it (docs/metrics.md §4)
    predictions: list[dict[str, Any]]
    # The asset, from its dataset: read for the gallery, not for a run as of a version.
    row_data: str | None = None
    media_type: str | None = None
    metadata: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class RunEventRecord:
    version: int
    type: str  # the event's name, e.g. "ConfigUpdated"
    actor: str
    at: datetime
    summary: dict[str, Any]  # the event's small attributes (counts, ids, config, settings)


@dataclass(frozen=True, slots=True)
class RunDiffRecord:
    from_version: int
    to_version: int
    rows_added: list[str]  # global keys
    rows_removed: list[str]
    splits_changed: list[dict[str, Any]]  # {globalKey, from, to}
    labels_changed: list[str]
    predictions_changed: list[str]
    config_before: dict[str, Any]
    config_after: dict[str, Any]
    metric_settings_before: dict[str, Any]
    metric_settings_after: dict[str, Any]
