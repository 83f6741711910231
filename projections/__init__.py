"""Read models: event-sourced projections of the event log into PostgreSQL.

`start_read_models` starts one projection runner per read model (see projections.runners)
and returns the `ReadModels` facade the API and the commands read through.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from time import monotonic
from uuid import UUID

from domain.annotations.box_columns import BoxColumns
from domain.annotations.box_labels import RowObjects
from domain.annotations.objects import Annotation
from domain.data_rows import RowInfo
from domain.errors import Conflict
from projections.catalog.projection import CatalogProjection
from projections.catalog.queries import CatalogQueries
from projections.catalog.view import CatalogView
from projections.embeddings.projection import EmbeddingsProjection
from projections.gallery.projection import GalleryProjection
from projections.gallery.queries import GalleryQueries
from projections.gallery.view import GalleryView
from projections.healing import ReadModelHealer, Runner
from projections.leases import Leases, StandbyLog, StandbyRunner
from projections.metrics.read_models import MetricReadModels
from projections.model_runs.projection import ModelRunsProjection
from projections.model_runs.queries import ModelRunQueries
from projections.model_runs.view import ModelRunsView
from projections.projector.projection import ProjectorProjection
from projections.projector.queries import projector_queries
from projections.records import (
    DatasetRecord,
    ModelRecord,
    ModelRunRecord,
    Page,
    RunDiffRecord,
)
from projections.runners import (
    READ_MODELS,
    ReadModelRunner,
    ReadModelStopped,
    Stopped,
    make_view,
    read_model_env,
    views_datastore,
    wait_for,
)
from projections.slice_membership.projection import SliceMembershipProjection
from projections.slice_membership.refresher import MembershipRefresher
from projections.slice_membership.view import SliceMembershipView
from projections.slices.queries import slice_queries
from projections.stop_board import StopBoard
from storage.database import Database
from storage.event_log import EventLog

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 60.0


class ReadModelRows:
    """What commands ask of the read models (application.row_directory.RowDirectory): the
    catalog's rows and labels and the runs' rows and labels; and the wait before a command
    validates."""

    # The read models commands validate against: these rows, and what the projector's
    # commands read (application.projector_commands.ProjectorDirectory: a run's rows by
    # dataset, which rows have a vector). A command waits for them only, so a gallery or a
    # metrics read model busy with a large upload does not hold up a command elsewhere.
    READ_MODELS = (
        CatalogProjection.name, ModelRunsProjection.name, EmbeddingsProjection.name, ProjectorProjection.name,
    )

    def __init__(self, read_models: ReadModels, timeout: float = DEFAULT_TIMEOUT) -> None:
        self._read_models = read_models
        self.timeout = timeout

    def wait_until_current(self, timeout: float | None = None) -> None:
        """Wait until these read models hold every event recorded before the call. A command
        calls it after loading its aggregates, so the rows it then reads include at least
        what those aggregates include (a key check cannot miss rows a loaded dataset has)."""
        timeout = self.timeout if timeout is None else timeout
        try:
            self._read_models.wait_until_current(timeout, only=self.READ_MODELS)
        except TimeoutError as exc:
            raise Conflict(
                f"the server has not caught up with the writes before this one within {timeout:g} s ({exc}); "
                "nothing was recorded: send the request again"
            ) from None
        except ReadModelStopped as exc:
            raise Conflict(
                f"the server cannot check this write now: {exc}. It starts that read model again by itself; "
                "nothing was recorded: send the request again later"
            ) from None

    def dataset_rows(
        self, dataset_id: UUID, ids: Sequence[str] = (), global_keys: Sequence[str] = ()
    ) -> dict[str, RowInfo]:
        return self._read_models.catalog.dataset_rows(dataset_id, ids, global_keys)

    def all_dataset_rows(self, dataset_id: UUID) -> list[RowInfo]:
        return self._read_models.catalog.all_dataset_rows(dataset_id)

    def dataset_labels(self, dataset_id: UUID, row_ids: Sequence[str]) -> dict[str, list[Annotation]]:
        return self._read_models.catalog.dataset_labels(dataset_id, row_ids)

    def dataset_label_columns(
        self, dataset_id: UUID, row_ids: Sequence[str], every_row: bool = False
    ) -> tuple[BoxColumns, RowObjects]:
        return self._read_models.catalog.dataset_label_columns(dataset_id, row_ids, every_row)

    def run_rows(
        self, run_id: UUID, ids: Sequence[str] = (), global_keys: Sequence[str] = ()
    ) -> dict[str, RowInfo]:
        return self._read_models.runs.current_rows(run_id, ids, global_keys)

    def run_labels(self, run_id: UUID, row_ids: Sequence[str]) -> dict[str, list[Annotation]]:
        return self._read_models.runs.current_labels(run_id, row_ids)


class ReadModels:
    """The running read models and every query on them."""

    def __init__(
        self,
        database: Database,
        runners: dict[str, Runner],
        leases: Leases | None = None,
        standby_log: StandbyLog | None = None,
        board: StopBoard | None = None,
    ) -> None:
        self.database = database
        # Runners by read model; the healer replaces a stopped one in place, and one on
        # standby by a running one when it takes over its lease.
        self._runners = runners
        self._leases = leases
        self._standby_log = standby_log
        self.healer = ReadModelHealer(runners, leases, standby_log, board)
        catalog_view = runners["catalog"].view
        runs_view = runners["model_runs"].view
        assert isinstance(catalog_view, CatalogView) and isinstance(runs_view, ModelRunsView)
        self.catalog = CatalogQueries(catalog_view)
        self.runs = ModelRunQueries(runs_view)
        self.projector = projector_queries(runners, self.runs)
        self.slices = slice_queries(runners)
        self.rows = ReadModelRows(self)
        metric_read_models = MetricReadModels(runners, self.runs)
        self.computation_status = metric_read_models.computation_status
        self.metrics = metric_read_models.metrics
        gallery_view = runners[GalleryProjection.name].view
        assert isinstance(gallery_view, GalleryView)
        self.gallery = GalleryQueries(gallery_view, self.catalog, self.runs, self.metrics, self.slices)
        membership_view = runners[SliceMembershipProjection.name].view
        assert isinstance(membership_view, SliceMembershipView)
        self.memberships = membership_view
        # Started by start_read_models once every read model runs.
        self.refresher = MembershipRefresher(membership_view, self)

    # -- catching up ---------------------------------------------------------------------

    def stopped(self) -> list[Stopped]:
        """The read models that are stopped now, each with the event and the error it
        stopped on; the healer starts them again (projections.healing)."""
        return [runner.report() for runner in list(self._runners.values()) if runner.is_interrupted.is_set()]

    def wait(
        self, notification_id: int | None, timeout: float = DEFAULT_TIMEOUT, only: Sequence[str] | None = None
    ) -> None:
        """Block until every read model (or those named in `only`) has processed the events
        up to this notification; TimeoutError past the timeout."""
        deadline = monotonic() + timeout
        for name, runner in self._runners.items():
            if only is None or name in only:
                wait_for(runner, notification_id, deadline)

    def wait_for_events(self, events: Sequence[tuple[int, str]], timeout: float = DEFAULT_TIMEOUT) -> None:
        """Block until each read model has processed those of these (notification id, topic)
        events it takes; read models that take none of them are not waited for."""
        deadline = monotonic() + timeout
        for runner in self._runners.values():
            topics = set(runner.projection.topics)  # empty: it takes every event
            relevant = [notification for notification, topic in events if not topics or topic in topics]
            if relevant:
                wait_for(runner, max(relevant), deadline)

    def show_written(self, events: Sequence[tuple[int, str]], timeout: float) -> None:
        """After a write: wait until the read models that take these (notification id,
        topic) events show them, so the answer's next read sees the write. Past the timeout,
        or with a read model stopped, the write is still recorded and the answer goes out as
        a success (the read models show it once they catch up); it is never reported as
        failed. The one after-write policy of uploads and mutations."""
        try:
            self.wait_for_events(events, timeout)
        except (TimeoutError, ReadModelStopped):
            pass
        except Exception:  # the database went away after the write was recorded
            logger.warning("a recorded write could not be waited for", exc_info=True)

    def log_position(self) -> int:
        """The position of the last event recorded."""
        first = next(iter(self._runners.values()))
        return first.app.recorder.max_notification_id() or 0

    def wait_until_current(self, timeout: float = DEFAULT_TIMEOUT, only: Sequence[str] | None = None) -> None:
        """Block until every read model (or those named in `only`) holds all events recorded
        before this call."""
        self.wait(self.log_position(), timeout, only)

    def written_here(self) -> list[str]:
        """The read models this process writes (holds the lease of); the others are written
        by another process on the same database."""
        return [name for name, runner in self._runners.items() if isinstance(runner, ReadModelRunner)]

    def stop(self) -> None:
        self.healer.stop()
        self.refresher.stop()
        try:
            self.stop_runners(self._runners)
        finally:
            if self._standby_log is not None:
                self._standby_log.close()
            if self._leases is not None:
                self._leases.close()

    @staticmethod
    def stop_runners(runners: dict[str, Runner]) -> None:
        errors: list[BaseException] = []
        for runner in runners.values():
            try:
                runner.__exit__(None, None, None)
            except Exception as exc:  # noqa: BLE001 (every runner is stopped; the first error is raised)
                errors.append(exc)
        # Once every runner is stopped: the views share one pool.
        for datastore in {id(r.view.datastore): r.view.datastore for r in runners.values()}.values():
            datastore.close()
        if errors:
            raise errors[0]

    # -- queries -------------------------------------------------------------------------

    def datasets(self, first: int | None = None, after: str | None = None) -> Page:
        return self.catalog.datasets(first, after)

    def dataset(self, dataset_id: UUID | str) -> DatasetRecord | None:
        return self.catalog.dataset(dataset_id)

    def datasets_by_id(self, dataset_ids: Sequence[UUID | str]) -> list[DatasetRecord | None]:
        return self.catalog.datasets_by_id(dataset_ids)

    def data_rows(self, dataset_id: UUID | str, first: int | None = None, after: str | None = None) -> Page:
        return self.catalog.data_rows(dataset_id, first, after)

    def models(self, first: int | None = None, after: str | None = None) -> Page:
        return self.catalog.models(first, after)

    def model(self, model_id: UUID | str) -> ModelRecord | None:
        return self.catalog.model(model_id)

    def models_by_id(self, model_ids: Sequence[UUID | str]) -> list[ModelRecord | None]:
        return self.catalog.models_by_id(model_ids)

    def model_runs(self, model_id: UUID | str, first: int | None = None, after: str | None = None) -> Page:
        return self.runs.model_runs(model_id, first, after)

    def model_run(self, run_id: UUID | str, version: int | None = None) -> ModelRunRecord | None:
        return self.runs.model_run(run_id, version)

    def run_rows(
        self,
        run_id: UUID | str,
        version: int | None = None,
        first: int | None = None,
        after: str | None = None,
        split: str | None = None,
    ) -> Page:
        return self.runs.run_rows(run_id, version, first, after, split)

    def run_history(self, run_id: UUID | str, first: int | None = None, after: str | None = None) -> Page:
        return self.runs.run_history(run_id, first, after)

    def run_diff(self, run_id: UUID | str, from_version: int, to_version: int) -> RunDiffRecord:
        return self.runs.run_diff(run_id, from_version, to_version)


def start_read_models(database: Database, app_env: dict[str, str], writing: bool = True) -> ReadModels:
    """Start a projection runner per read model whose lease this process takes, each
    following the application's log; the others are on standby (projections.leases).
    Not `writing`: every read model on standby and nothing running in the background (the
    slice-membership refresher, the healer): queries over what other processes wrote."""
    runners: dict[str, Runner] = {}
    leases = Leases(database)
    standby_log = StandbyLog(read_model_env(app_env, READ_MODELS[0], EventLog.name))
    views = views_datastore(app_env)
    board = StopBoard(views)
    try:
        board.create_table()  # within the set-up lock (runtime.open_runtime)
        for model in READ_MODELS:
            env = read_model_env(app_env, model, EventLog.name)
            view = make_view(model, env, views)
            if writing and leases.take(model.name):
                # Entered as a context manager now, left in `ReadModels.stop`.
                runners[model.name] = ReadModelRunner(model, env, view).__enter__()
            else:
                runners[model.name] = StandbyRunner(model, env, standby_log.get(), view)
    except BaseException:
        ReadModels.stop_runners(runners)
        views.close()
        standby_log.close()
        leases.close()
        raise
    read_models = ReadModels(database, runners, leases, standby_log, board)
    if writing:
        read_models.refresher.start()
        read_models.healer.start()
    return read_models


__all__ = ["ReadModelRows", "ReadModels", "start_read_models"]
