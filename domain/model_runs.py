"""Model runs: one experiment of a model, an exact, versioned snapshot.

Every change is an event on the run, so the run's version counts its changes. Commands
that carry many rows reference an Upload aggregate saved in the same transaction (see
domain/uploads.py); the run itself keeps only small state: names, counts and settings.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.datasets import check_name
from domain.errors import ValidationFailed
from domain.metric_settings import MetricSettings
from domain.run_config import CONFIG_TEMPLATE, check_config, same_config


class ModelRun(Aggregate):
    @event("Created")
    def __init__(
        self,
        id: UUID,  # noqa: A002 (eventsourcing takes the aggregate id by this name)
        model_id: UUID,
        name: str,
        upload_id: UUID | None,
        rows: int,
        source: dict[str, Any],
        actor: str,
    ) -> None:
        self.model_id = model_id
        self.name = check_name(name, "model run")
        self.row_count = rows
        self.config: dict[str, Any] = dict(CONFIG_TEMPLATE)
        self.metric_settings = MetricSettings().to_dict()
        self.deleted = False

    @property
    def settings(self) -> MetricSettings:
        return MetricSettings.from_dict(self.metric_settings)

    def check_live(self) -> None:
        if self.deleted:
            raise ValidationFailed(f"model run {self.id} is deleted")

    def rename(self, name: str, actor: str) -> None:
        """A new name; the name it has (once cleaned) records nothing."""
        cleaned = check_name(name, "model run")
        if cleaned != self.name:
            self._rename(name=cleaned, actor=actor)

    @event("Renamed")
    def _rename(self, name: str, actor: str) -> None:
        # Still cleaned here: events recorded before the check moved out hold the raw name.
        self.name = check_name(name, "model run")

    @event("RowsUpserted")
    def upsert_rows(self, upload_id: UUID, rows: int, added: int, actor: str) -> None:
        self.row_count += added

    @event("SplitsReassigned")
    def reassign_splits(self, upload_id: UUID, rows: int, actor: str) -> None:
        pass

    @event("RowsRemoved")
    def remove_rows(self, upload_id: UUID, rows: int, actor: str) -> None:
        self.row_count -= rows

    @event("PredictionsUploaded")
    def upload_predictions(self, upload_id: UUID, rows: int, predictions: int, actor: str) -> None:
        pass

    @event("CustomMetricsUploaded")
    def upload_custom_metrics(self, upload_id: UUID, values: int, actor: str) -> None:
        pass

    def update_config(self, config: Any, actor: str) -> None:
        self._change_config(check_config(config), actor, "edit")

    def reset_config(self, actor: str) -> None:
        self._change_config(dict(CONFIG_TEMPLATE), actor, "reset")

    def copy_config(self, source_run: ModelRun, actor: str) -> None:
        self._change_config(dict(source_run.config), actor, f"copied from {source_run.id}")

    def _change_config(self, config: dict[str, Any], actor: str, reason: str) -> None:
        """The same config again records nothing: a version is a change."""
        if not same_config(config, self.config):
            self._record_config(config=config, actor=actor, reason=reason)

    @event("ConfigUpdated")
    def _record_config(self, config: dict[str, Any], actor: str, reason: str) -> None:
        self.config = config

    def change_metric_settings(self, actor: str, **changes: Any) -> None:
        """Settings not given stay; if none of them changes, nothing is recorded."""
        before = self.settings
        after = before.changed(**changes)
        if after != before:
            self._record_settings(settings=after.to_dict(), actor=actor)

    @event("MetricSettingsChanged")
    def _record_settings(self, settings: dict[str, Any], actor: str) -> None:
        self.metric_settings = settings

    @event("Deleted")
    def delete(self, actor: str) -> None:
        self.deleted = True
