"""The read models that exist, and waiting for their projection runners to catch up."""

from __future__ import annotations

import logging
import os
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from time import monotonic, sleep
from typing import Any

from eventsourcing.persistence import InfrastructureFactory
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore, PostgresFactory
from eventsourcing.projection import BaseProjectionRunner, Projection
from eventsourcing.utils import Environment, get_topic
from psycopg.sql import SQL, Identifier

from domain.uploads import Upload
from projections.catalog.projection import CatalogProjection
from projections.catalog.view import CatalogView
from projections.computation_status.projection import ComputationStatusProjection
from projections.computation_status.view import ComputationStatusView
from projections.embeddings.projection import EmbeddingsProjection
from projections.embeddings.view import EmbeddingsView
from projections.following import FollowedLog, FollowingRecorder, LazyChunkAdded
from projections.gallery.projection import GalleryProjection
from projections.gallery.view import GalleryView
from projections.metrics.projection import MetricsProjection
from projections.metrics.view import MetricsView
from projections.model_runs.projection import ModelRunsProjection
from projections.model_runs.view import ModelRunsView
from projections.postgres_view import PostgresView
from projections.projector.projection import ProjectorProjection
from projections.projector.view import ProjectorView
from projections.slice_membership.projection import SliceMembershipProjection
from projections.slice_membership.view import SliceMembershipView
from projections.slices.projection import SlicesProjection
from projections.slices.view import SlicesView
from projections.upload_owners import StartedEvents, UploadFollowingProjection, started_events
from storage.event_log import shrinking_soon


@dataclass(frozen=True)
class ReadModel:
    projection: type[Projection[Any]]
    view: type[PostgresView]

    @property
    def name(self) -> str:
        return self.projection.name


logger = logging.getLogger(__name__)

# Every read model, in the order they are started and verified.
READ_MODELS: tuple[ReadModel, ...] = (
    ReadModel(CatalogProjection, CatalogView),
    ReadModel(ModelRunsProjection, ModelRunsView),
    ReadModel(ComputationStatusProjection, ComputationStatusView),
    ReadModel(MetricsProjection, MetricsView),
    ReadModel(EmbeddingsProjection, EmbeddingsView),
    ReadModel(ProjectorProjection, ProjectorView),
    ReadModel(GalleryProjection, GalleryView),
    ReadModel(SlicesProjection, SlicesView),
    ReadModel(SliceMembershipProjection, SliceMembershipView),
)

# Connections of the read models' views, one pool for all of them (READ_MODELS_POSTGRES_*
# overrides): each projection writes on one at a time and queries read on others, so two
# are kept open and up to 40 opened under load, each closed again once unused for a while
# (storage.event_log.shrinking_soon). A view made on its own (a rebuild) has a pool of its own.
VIEWS_ENV_NAME = "READ_MODELS"
VIEWS_POOL = {"POSTGRES_POOL_SIZE": "2", "POSTGRES_MAX_OVERFLOW": "38"}
VIEW_POOL = {"POSTGRES_POOL_SIZE": "1", "POSTGRES_MAX_OVERFLOW": "15"}
# Each runner's own copy of the application follows the log and answers "what is the last
# event" for waits: it opens connections to read, none kept while idle; the process's one
# listener wakes it (projections.log_listener). The log's tables are the application's own.
FOLLOWER_POOL = {
    "POSTGRES_POOL_SIZE": "0",
    "POSTGRES_MAX_OVERFLOW": "16",
    "APPLICATION_RECORDER_TOPIC": get_topic(FollowingRecorder),
    "CREATE_TABLE": "no",
}


def _stored_class(event: Any) -> type:
    """The event's class as the log names it (a chunk decoded on first use is a subclass)."""
    return Upload.ChunkAdded if isinstance(event, LazyChunkAdded) else type(event)


class ReadModelStopped(RuntimeError):
    """A wait for a read model that is stopped (see `Stopped`)."""

    def __init__(self, stopped: Stopped) -> None:
        where = "" if stopped.notification_id is None else f" at event {stopped.notification_id}"
        super().__init__(f"read model {stopped.read_model!r} is stopped{where}: {stopped.error}")
        self.stopped = stopped


def read_model_env(app_env: dict[str, str], model: ReadModel, application_name: str) -> dict[str, str]:
    """The environment of a read model's runner: the application's, with small pools."""
    env = dict(app_env)
    for prefix, pool in ((model.name, VIEW_POOL), (application_name, FOLLOWER_POOL)):
        for key, value in pool.items():
            env.setdefault(f"{prefix.upper()}_{key}", value)
    return env


def views_datastore(app_env: dict[str, str]) -> PostgresDatastore:
    """The connection pool every view of a running server shares (see VIEWS_POOL), sized
    by READ_MODELS_POSTGRES_POOL_SIZE / _MAX_OVERFLOW when the process's environment sets
    them."""
    env = dict(app_env)
    env.update({k: v for k, v in os.environ.items() if k.startswith(f"{VIEWS_ENV_NAME}_POSTGRES_")})
    for key, value in VIEWS_POOL.items():
        env.setdefault(f"{VIEWS_ENV_NAME}_{key}", value)
    factory = InfrastructureFactory[PostgresView].construct(env=Environment(VIEWS_ENV_NAME, env))
    assert isinstance(factory, PostgresFactory)
    shrinking_soon(factory.datastore)  # before its first use opens the pool
    return factory.datastore


def make_projection(model: ReadModel, view: PostgresView, started: StartedEvents) -> Projection[Any]:
    """The read model's projection over `view`; one that follows uploads reads the Started
    event of an upload it has not seen in memory from the log, through `started`."""
    if issubclass(model.projection, UploadFollowingProjection):
        return model.projection(view, started)
    return model.projection(view=view)


def make_view(model: ReadModel, env: dict[str, str], datastore: PostgresDatastore | None = None) -> PostgresView:
    """The read model's view (its tables, made if missing): on the shared `datastore`, or
    on a pool of its own configured from `env`."""
    if datastore is None:
        return (
            InfrastructureFactory[PostgresView]
            .construct(env=BaseProjectionRunner._construct_env(name=model.name, env=env))  # noqa: SLF001 (the runners' own)
            .tracking_recorder(model.view)
        )
    view = model.view(datastore=datastore, tracking_table_name=f"{model.name}_tracking")
    view.create_table()
    return view


# How much of a stopped read model's error is reported (on /ready and in logs' first line).
MAX_REPORTED_ERROR = 500


@dataclass(frozen=True)
class Stopped:
    """Why a read model stopped: the event it could not apply (None when reading the log
    failed), what went wrong, when, and how many times it has been started since."""

    read_model: str
    notification_id: int | None
    topic: str | None
    error: str
    at: datetime
    restarts: int

    def as_json(self) -> dict[str, Any]:
        return {
            "readModel": self.read_model,
            "notificationId": self.notification_id,
            "topic": self.topic,
            "error": self.error,
            "at": self.at.isoformat(),
            "restarts": self.restarts,
        }


class ReadModelRunner(BaseProjectionRunner[FollowedLog]):
    """A read model's projection following the log in a thread of its own, which records the
    event it stopped at, and why, when applying it (or reading the log) fails.

    The event's work is rolled back with its tracking record, so a runner started again
    over the same view (`restarted`) applies that event first: nothing is lost.
    """

    def __init__(self, model: ReadModel, env: dict[str, str], view: PostgresView | None = None, restarts: int = 0) -> None:
        self.model = model
        self.env = env
        self.restarts = restarts
        self.stopped: Stopped | None = None
        self._left = False
        self.view: PostgresView = view or make_view(model, env)
        # A new projection on each start: whatever one held in memory about an event it
        # failed on is not carried into the next attempt.
        self.projection = make_projection(model, self.view, started_events(lambda: self.app))
        super().__init__(
            projection=self.projection,
            application_class=FollowedLog,
            tracking_recorder=self.view,
            topics=self.projection.topics,
            env=env,
        )

    def report(self) -> Stopped:
        """Why this (stopped) runner stopped: what it recorded, or that it was stopped."""
        return self.stopped or Stopped(self.model.name, None, None, "stopped", datetime.now(UTC), self.restarts)

    def __exit__(self, *exc_info: Any) -> None:
        """Stop (once; a runner left for a restarted one is not stopped again)."""
        if not self._left:
            self._left = True
            super().__exit__(*exc_info)

    def restarted(self) -> ReadModelRunner:
        """A runner of the same read model over the same view, following the log from what
        the view has tracked; this one is left (its error already reported). If the new one
        cannot start, this one stays, stopped, its report updated with why."""
        try:
            self.__exit__(None, None, None)
        except Exception:  # noqa: BLE001, S110 (the error is in self.stopped and was logged)
            pass
        try:
            return ReadModelRunner(self.model, self.env, self.view, self.restarts + 1).__enter__()
        except Exception as exc:
            self.restarts += 1
            self._record_stop(None, exc)
            raise

    @staticmethod
    def _process_events_loop(  # type: ignore[override]  # the base's, recording the event
        subscription: Any, projection: Any, is_stopping: Any, runner: weakref.ReferenceType[ReadModelRunner]
    ) -> None:
        current: tuple[Any, Any] | None = None
        # Whether the next event is already read: skipped events are tracked once it is not
        # (PostgresView.skip). A subscription that cannot tell has it tracked at once.
        has_more = getattr(subscription.subscription, "has_more", lambda: False)
        try:
            for current in subscription:
                projection.process_event(*current)
                current = None
                if not has_more():
                    projection.view.flush_skipped()
        except BaseException as exc:
            owner = runner()
            if owner is not None:
                owner._thread_error = exc  # noqa: SLF001 (what the base's loop records)
                owner._record_stop(current, exc)  # noqa: SLF001
        finally:
            is_stopping.set()

    def _record_stop(self, current: tuple[Any, Any] | None, exc: BaseException) -> None:
        event, tracking = current if current is not None else (None, None)
        message = f"{type(exc).__name__}: {exc}"
        self.stopped = Stopped(
            read_model=self.model.name,
            notification_id=None if tracking is None else tracking.notification_id,
            topic=None if event is None else get_topic(_stored_class(event)),
            error=message if len(message) <= MAX_REPORTED_ERROR else message[:MAX_REPORTED_ERROR] + "...",
            at=datetime.now(UTC),
            restarts=self.restarts,
        )
        where = "reading the event log" if current is None else f"at event {self.stopped.notification_id} ({self.stopped.topic})"
        logger.error("read model %r stopped %s", self.model.name, where, exc_info=exc)


# Polling starts fine (a command usually waits for one small event) and backs off.
_FIRST_POLL = 0.002
_LONGEST_POLL = 0.05


def last_relevant_notification(
    recorder: PostgresApplicationRecorder, topics: Sequence[str], upto: int, after: int = 0
) -> int | None:
    """The last notification in (after, upto] that a projection subscribed to `topics` sees.

    A projection only tracks the events it subscribes to, so "caught up with N" means
    "tracked the last of its events at or before N". Pass the position the projection has
    tracked as `after`: the search then covers only what it may still have to process,
    not the log back to the last event it ever subscribed to.
    """
    statement = SQL(
        "SELECT notification_id FROM {schema}.{table} WHERE notification_id <= %s"
        " AND notification_id > %s AND topic = ANY(%s) ORDER BY notification_id DESC LIMIT 1"
    ).format(schema=Identifier(recorder.datastore.schema), table=Identifier(recorder.events_table_name))
    with recorder.datastore.get_connection() as conn, conn.cursor() as curs:
        curs.execute(statement, (upto, after, list(topics)))
        row = curs.fetchone()
    return None if row is None else row["notification_id"]


def wait_for(runner: ReadModelRunner, notification_id: int | None, deadline: float) -> None:
    """Block until the runner's view has processed everything it sees up to the id."""
    if notification_id is None:
        return
    tracked = runner.view.max_tracking_id(runner.app_name) or 0
    if tracked >= notification_id:
        return
    target = last_relevant_notification(runner.app.recorder, runner.projection.topics, notification_id, tracked)
    if target is None:
        return
    pause = _FIRST_POLL
    while True:
        if tracked >= target:
            return
        if runner.is_interrupted.is_set():
            raise ReadModelStopped(runner.report())
        remaining = deadline - monotonic()
        if remaining <= 0:
            raise TimeoutError(
                f"read model {runner.projection.name!r} has not processed notification "
                f"{target} yet (at {tracked})"
            )
        sleep(min(pause, remaining))
        pause = min(pause * 2, _LONGEST_POLL)
        tracked = runner.view.max_tracking_id(runner.app_name) or 0
