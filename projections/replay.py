"""Rebuild every read model from the event log and prove the live ones identical to it.

Each read model is rebuilt into a scratch schema by its own projection, reading the live
application's log up to the position the live read model has reached, then compared with
the live tables row for row (tracking tables excepted). The comparison runs in one
REPEATABLE READ snapshot that also re-reads the live position, so a server that keeps
projecting meanwhile cannot make the two sides differ by timing alone.

A live read model that has not applied every event of the log it takes (stopped, or
still behind) is a difference too: the log's last such event is found when its check
starts, and the live one must have reached it by the comparison. Slice memberships,
which a background refresher computes from the other read models rather than from the
log, are computed again and compared (slice_membership/verification.py); the report names
what was compared.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from eventsourcing.persistence import InfrastructureFactory, Tracking
from eventsourcing.utils import Environment
from psycopg import Cursor, IsolationLevel
from psycopg.sql import SQL, Identifier

from projections.following import FollowedLog
from projections.postgres_view import PostgresView
from projections.runners import (
    READ_MODELS,
    ReadModel,
    last_relevant_notification,
    make_projection,
    read_model_env,
)
from projections.slice_membership.verification import verify_memberships
from projections.upload_owners import started_events
from storage.database import Database, drop_schema, ensure_schema
from storage.event_log import EventLog

BATCH = 500
# A live server may move on while a read model is compared; the rebuild catches up this
# many times before the difference is reported.
ATTEMPTS = 5
SAMPLES = 3


def _view(model: ReadModel, database: Database) -> PostgresView:
    env = Environment(model.name, read_model_env(database.application_env(), model, EventLog.name))
    return InfrastructureFactory[Any].construct(env=env).tracking_recorder(model.view)


def _rebuild(app: FollowedLog, model: ReadModel, projection: Any, view: PostgresView, upto: int) -> None:
    """Process the log's events for this projection from where the view is, up to `upto`."""
    position = view.max_tracking_id(app.name) or 0
    while position < upto:
        notifications = app.recorder.select_notifications(
            start=position, limit=BATCH, stop=upto, topics=model.projection.topics, inclusive_of_start=False
        )
        if not notifications:
            break
        for notification in notifications:
            projection.process_event(app.mapper.to_domain_event(notification), Tracking(app.name, notification.id))
        position = notifications[-1].id
    view.flush_skipped()


def _compare_table(curs: Cursor[Any], live: str, scratch: str, table: str) -> str | None:
    sides = {}
    for name, first, second in (("live", live, scratch), ("rebuilt", scratch, live)):
        # Rows of one side missing from the other, duplicates counted: with every table
        # keyed, equal multisets are equal ordered contents.
        statement = SQL(
            "SELECT row_to_json(d)::text AS r FROM"
            " (SELECT * FROM {}.{} EXCEPT ALL SELECT * FROM {}.{}) d"
        ).format(Identifier(first), Identifier(table), Identifier(second), Identifier(table))
        curs.execute(statement)
        sides[name] = [row[0] for row in curs.fetchall()]
    if not sides["live"] and not sides["rebuilt"]:
        return None
    samples = [f"live {r[:200]}" for r in sides["live"][:SAMPLES]]
    samples += [f"rebuilt {r[:200]}" for r in sides["rebuilt"][:SAMPLES]]
    return (
        f"{table}: {len(sides['live'])} row(s) only in the live read model, "
        f"{len(sides['rebuilt'])} only in the rebuild; e.g. " + "; ".join(samples)
    )


def _verify_model(
    app: FollowedLog, model: ReadModel, database: Database, scratch: Database
) -> tuple[list[str], str]:
    """The differences of one read model, and what was compared."""
    live_view = _view(model, database)
    rebuilt_view = _view(model, scratch)
    log_end = app.recorder.max_notification_id() or 0
    target = last_relevant_notification(app.recorder, model.projection.topics, log_end) or 0
    try:
        projection = make_projection(model, rebuilt_view, started_events(lambda: app))
        tracking_table = Identifier(live_view.tracking_table_name)
        for _ in range(ATTEMPTS):
            _rebuild(app, model, projection, rebuilt_view, live_view.max_tracking_id(app.name) or 0)
            with database.connect() as conn:
                conn.isolation_level = IsolationLevel.REPEATABLE_READ
                with conn.transaction(), conn.cursor() as curs:
                    curs.execute(
                        SQL("SELECT max(notification_id) FROM {}.{} WHERE application_name = %s").format(
                            Identifier(database.schema), tracking_table
                        ),
                        (app.name,),
                    )
                    row = curs.fetchone()
                    position = (row[0] if row else None) or 0
                    if position > (rebuilt_view.max_tracking_id(app.name) or 0):
                        continue  # the live read model moved on: catch up and look again
                    tables = model.view.table_names()
                    found = [_compare_table(curs, database.schema, scratch.schema, table) for table in tables]
                    rows = sum(_count(curs, database.schema, table) for table in tables)
                    differences = [f"{model.name}.{d}" for d in found if d is not None]
                    if position < target:
                        differences.append(
                            f"{model.name}: behind the event log: it has applied its events up to {position}, "
                            f"the log holds them up to {target} (stopped, or still catching up)"
                        )
                    compared = f"{model.name}: {len(tables)} table(s), {rows} row(s), events up to {position}"
                    return differences, compared
        return [f"{model.name}: the live read model kept moving; no stable comparison was possible"], model.name
    finally:
        live_view.datastore.close()
        rebuilt_view.datastore.close()


def _count(curs: Cursor[Any], schema: str, table: str) -> int:
    curs.execute(SQL("SELECT count(*) FROM {}.{}").format(Identifier(schema), Identifier(table)))
    row = curs.fetchone()
    return int(row[0]) if row else 0


@dataclass(frozen=True)
class ReplayReport:
    differences: list[str]
    # One line per read model: its tables, rows and the last event compared.
    compared: list[str]


def verify_replay(database: Database) -> list[str]:
    """Every difference between the live read models and a rebuild from the log ([] = none)."""
    return replay_report(database).differences


def replay_report(database: Database) -> ReplayReport:
    """The differences between the live read models and a rebuild from the log, and what
    was compared."""
    scratch = database.with_schema(f"{database.schema}_replay_{uuid.uuid4().hex[:8]}"[:63])
    ensure_schema(scratch)
    app = FollowedLog(env=read_model_env(database.application_env(), READ_MODELS[0], EventLog.name))
    try:
        differences: list[str] = []
        compared: list[str] = []
        for model in READ_MODELS:
            found, summary = _verify_model(app, model, database, scratch)
            differences += found
            compared.append(summary)
        found, summary = verify_memberships(database, wait=not differences)
        return ReplayReport(differences + found, [*compared, summary])
    finally:
        app.close()
        drop_schema(scratch)
