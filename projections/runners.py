"""The read models that exist, and waiting for their projection runners to catch up."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from time import monotonic, sleep
from typing import Any

from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.projection import Projection, ProjectionRunner
from psycopg.sql import SQL, Identifier

from projections.catalog.projection import CatalogProjection
from projections.catalog.view import CatalogView
from projections.computation_status.projection import ComputationStatusProjection
from projections.computation_status.view import ComputationStatusView
from projections.embeddings.projection import EmbeddingsProjection
from projections.embeddings.view import EmbeddingsView
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


@dataclass(frozen=True)
class ReadModel:
    projection: type[Projection[Any]]
    view: type[PostgresView]

    @property
    def name(self) -> str:
        return self.projection.name


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

# Connections per read model: its projection writes on one at a time and queries read on
# others, so few are kept open but as many as the application's pools allow may be
# opened under load; its own copy of the application follows the log (one connection
# listens) and answers "what is the last event" for waits.
VIEW_POOL = {"POSTGRES_POOL_SIZE": "1", "POSTGRES_MAX_OVERFLOW": "15"}
FOLLOWER_POOL = {"POSTGRES_POOL_SIZE": "1", "POSTGRES_MAX_OVERFLOW": "15"}


def read_model_env(app_env: dict[str, str], model: ReadModel, application_name: str) -> dict[str, str]:
    """The environment of a read model's runner: the application's, with small pools."""
    env = dict(app_env)
    for prefix, pool in ((model.name, VIEW_POOL), (application_name, FOLLOWER_POOL)):
        for key, value in pool.items():
            env.setdefault(f"{prefix.upper()}_{key}", value)
    return env


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


def wait_for(runner: ProjectionRunner[Any, Any], notification_id: int | None, deadline: float) -> None:
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
            # Re-raises the projection's error, if it stopped on one.
            runner.run_forever(timeout=0)
            raise RuntimeError(f"read model {runner.projection.name!r} is stopped")
        remaining = deadline - monotonic()
        if remaining <= 0:
            raise TimeoutError(
                f"read model {runner.projection.name!r} has not processed notification "
                f"{target} yet (at {tracked})"
            )
        sleep(min(pause, remaining))
        pause = min(pause * 2, _LONGEST_POLL)
        tracked = runner.view.max_tracking_id(runner.app_name) or 0
