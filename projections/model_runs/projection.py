"""Fills the model runs view from model run and upload events."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.dispatch import singledispatchmethod
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import Tracking
from eventsourcing.utils import get_topic

from domain.metric_settings import MetricSettings
from domain.model_runs import ModelRun
from domain.run_config import CONFIG_TEMPLATE
from domain.uploads import Part, Upload, UploadKind, read_chunk
from projections.annotation_json import row_sets
from projections.model_runs.view import ModelRunsView
from projections.upload_owners import UploadFollowingProjection

# Attributes every event has; the history's summary holds the rest.
_NOT_SUMMARISED = frozenset({"originator_id", "originator_version", "originator_topic", "timestamp", "actor", "id"})


def _plain(value: Any) -> Any:
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def history_entry(event: Any) -> dict[str, Any]:
    """The event as the run's audit trail shows it: what, who, when, and its small attributes."""
    summary = {k: _plain(v) for k, v in vars(event).items() if k not in _NOT_SUMMARISED}
    return {"type": type(event).__name__, "actor": event.actor, "at": event.timestamp, "summary": summary}


class ModelRunsProjection(UploadFollowingProjection[ModelRunsView]):
    name = "model_runs"
    upload_kinds = frozenset({UploadKind.RUN_ROWS, UploadKind.SPLITS, UploadKind.REMOVE_ROWS, UploadKind.PREDICTIONS})
    topics = tuple(
        get_topic(cls)
        for cls in (
            ModelRun.Created,
            ModelRun.Renamed,
            ModelRun.RowsUpserted,
            ModelRun.SplitsReassigned,
            ModelRun.RowsRemoved,
            ModelRun.PredictionsUploaded,
            ModelRun.CustomMetricsUploaded,
            ModelRun.ConfigUpdated,
            ModelRun.MetricSettingsChanged,
            ModelRun.Deleted,
            Upload.Started,
            Upload.ChunkAdded,
        )
    )

    @singledispatchmethod
    def process_event(self, domain_event: DomainEventProtocol[UUID], tracking: Tracking) -> None:
        self.view.skip(tracking)

    def _change(self, event: Any, tracking: Tracking, **changes: Any) -> None:
        self.view.change_run(event.originator_id, event.originator_version, history_entry(event), tracking, **changes)

    # -- the run -------------------------------------------------------------------------

    @process_event.register
    def _(self, event: ModelRun.Created, tracking: Tracking) -> None:
        state = {
            "config": dict(CONFIG_TEMPLATE),
            "metric_settings": MetricSettings().to_dict(),
            "row_count": event.rows,
        }
        self.view.create_run(
            event.originator_id, event.model_id, event.name, state, history_entry(event), tracking
        )

    @process_event.register
    def _(self, event: ModelRun.Renamed, tracking: Tracking) -> None:
        self._change(event, tracking, name=event.name)

    @process_event.register
    def _(self, event: ModelRun.RowsUpserted, tracking: Tracking) -> None:
        self._change(event, tracking, row_delta=event.added)

    @process_event.register
    def _(self, event: ModelRun.SplitsReassigned, tracking: Tracking) -> None:
        self._change(event, tracking)

    @process_event.register
    def _(self, event: ModelRun.RowsRemoved, tracking: Tracking) -> None:
        self._change(event, tracking, row_delta=-event.rows)

    @process_event.register
    def _(self, event: ModelRun.PredictionsUploaded, tracking: Tracking) -> None:
        self._change(event, tracking)

    @process_event.register
    def _(self, event: ModelRun.CustomMetricsUploaded, tracking: Tracking) -> None:
        self._change(event, tracking)

    @process_event.register
    def _(self, event: ModelRun.ConfigUpdated, tracking: Tracking) -> None:
        self._change(event, tracking, config=event.config)

    @process_event.register
    def _(self, event: ModelRun.MetricSettingsChanged, tracking: Tracking) -> None:
        self._change(event, tracking, metric_settings=event.settings)

    @process_event.register
    def _(self, event: ModelRun.Deleted, tracking: Tracking) -> None:
        self._change(event, tracking, deleted=True)

    # -- uploads -------------------------------------------------------------------------

    @process_event.register
    def _(self, event: Upload.Started, tracking: Tracking) -> None:
        self.uploads.started(event, tracking)

    @process_event.register
    def _(self, event: Upload.ChunkAdded, tracking: Tracking) -> None:
        upload = self.uploads.of_chunk(event, tracking)
        if upload is None:
            return
        run_id, version = upload.owner_id, upload.owner_version
        part, value = read_chunk(upload.kind, event.payload)
        if part is Part.PREDICTIONS:
            self.view.put_sets("run_predictions", run_id, version, row_sets(value), tracking)
        elif part is Part.ROWS:
            self.view.snapshot_rows(run_id, version, value, tracking)
        elif part is Part.LABELS:
            self.view.put_sets("run_labels", run_id, version, row_sets(value), tracking)
        elif part is Part.SPLITS:
            self.view.reassign_splits(run_id, version, value, tracking)
        else:  # Part.REMOVE
            self.view.remove_rows(run_id, version, value, tracking)
