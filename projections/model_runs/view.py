"""The model runs' tables: each run per version, its audit trail, and its rows, labels and
predictions as temporal records.

A temporal record holds from run version `valid_from` (inclusive) until `valid_to`
(exclusive; NULL while current), so a run as of version v is every record with
valid_from <= v < coalesce(valid_to, infinity). A change closes the current record and
opens a new one; nothing is overwritten, so every earlier version stays readable.

The heavy columns are compact: one JSON list of NDJSON items per (run, data row, version)
for labels and for predictions, stored as bytea (UTF-8) and written with binary COPY: the
server keeps the bytes as they are instead of parsing a million objects into jsonb, which
halves the cost of projecting a prediction upload. No labels record means no labels; a
predictions record (even an empty list) means the row is covered by a prediction upload
(docs/metrics.md §4).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import orjson
from eventsourcing.persistence import Tracking

from projections.model_runs.temporal import TemporalWrites

CURRENT = "valid_to IS NULL"


def as_of(alias: str) -> str:
    """The condition of a temporal record being valid at version %(v)s."""
    return f"{alias}.valid_from <= %(v)s AND ({alias}.valid_to IS NULL OR {alias}.valid_to > %(v)s)"


def _temporal(table: str, columns: str) -> tuple[str, str]:
    return (
        table,
        f"CREATE TABLE IF NOT EXISTS {{s}}.{table} ("
        " run_id uuid NOT NULL, row_id uuid NOT NULL,"
        " valid_from integer NOT NULL, valid_to integer,"
        f" {columns},"
        " PRIMARY KEY (run_id, row_id, valid_from))"
        # Room on each page for the new version of a record whose valid_to is set, so
        # that closing a record is a HOT update (no index entries to write).
        " WITH (fillfactor = 70)",
    )


class ModelRunsView(TemporalWrites):
    tables = (
        (
            "model_runs",
            "CREATE TABLE IF NOT EXISTS {s}.model_runs ("
            " id uuid PRIMARY KEY, model_id uuid NOT NULL, seq bigint NOT NULL,"
            " name text NOT NULL, version integer NOT NULL, created_at timestamptz NOT NULL,"
            " updated_at timestamptz NOT NULL, deleted boolean NOT NULL)",
        ),
        (
            "model_run_versions",
            "CREATE TABLE IF NOT EXISTS {s}.model_run_versions ("
            " run_id uuid NOT NULL, version integer NOT NULL, name text NOT NULL,"
            " config jsonb NOT NULL, metric_settings jsonb NOT NULL,"
            " row_count integer NOT NULL, deleted boolean NOT NULL, at timestamptz NOT NULL,"
            " PRIMARY KEY (run_id, version))",
        ),
        (
            "model_run_events",
            "CREATE TABLE IF NOT EXISTS {s}.model_run_events ("
            " run_id uuid NOT NULL, version integer NOT NULL, type text NOT NULL,"
            " actor text NOT NULL, at timestamptz NOT NULL, summary jsonb NOT NULL,"
            " PRIMARY KEY (run_id, version))",
        ),
        _temporal(
            "run_rows",
            "global_key text NOT NULL, split text NOT NULL, width integer, height integer,"
            " dataset_id uuid NOT NULL",
        ),
        _temporal("run_labels", "labels bytea NOT NULL, label_count integer NOT NULL"),
        _temporal("run_predictions", "predictions bytea NOT NULL, prediction_count integer NOT NULL"),
        (
            # Per run, the log position of the last write to its rows, labels or predictions.
            "run_input_stamps",
            "CREATE TABLE IF NOT EXISTS {s}.run_input_stamps (run_id uuid PRIMARY KEY, stamp bigint NOT NULL)",
        ),
    )
    indexes = (
        "CREATE INDEX IF NOT EXISTS model_runs_model ON {s}.model_runs (model_id, seq)",
        # Commands look current rows up by global key. Not a partial index on current rows:
        # the planner would then take it, with its predicate, for look-ups by row id too,
        # and walk every current row of the run per row looked up.
        "CREATE INDEX IF NOT EXISTS run_rows_key ON {s}.run_rows (run_id, global_key)",
    )

    # -- the run itself ------------------------------------------------------------------

    def create_run(
        self,
        run_id: UUID,
        model_id: UUID,
        name: str,
        state: dict[str, Any],
        event: dict[str, Any],
        tracking: Tracking,
    ) -> None:
        """`state`: config, metric_settings, row_count; `event`: type, actor, at, summary."""
        at: datetime = event["at"]
        with self.tracked(tracking) as curs:
            curs.execute(
                self.sql(
                    "INSERT INTO {s}.model_runs (id, model_id, seq, name, version, created_at,"
                    " updated_at, deleted) VALUES (%s, %s, %s, %s, 1, %s, %s, false)"
                ),
                (run_id, model_id, tracking.notification_id, name, at, at),
            )
            curs.execute(
                self.sql(
                    "INSERT INTO {s}.model_run_versions (run_id, version, name, config,"
                    " metric_settings, row_count, deleted, at)"
                    " VALUES (%s, 1, %s, %s, %s, %s, false, %s)"
                ),
                (
                    run_id,
                    name,
                    orjson.dumps(state["config"]).decode(),
                    orjson.dumps(state["metric_settings"]).decode(),
                    state["row_count"],
                    at,
                ),
            )
            self._record_event(curs, run_id, 1, event)

    def change_run(
        self,
        run_id: UUID,
        version: int,
        event: dict[str, Any],
        tracking: Tracking,
        *,
        name: str | None = None,
        config: dict[str, Any] | None = None,
        metric_settings: dict[str, Any] | None = None,
        row_delta: int = 0,
        deleted: bool = False,
    ) -> None:
        """A new version of the run: the previous one with these changes."""
        with self.tracked(tracking) as curs:
            curs.execute(
                self.sql(
                    "INSERT INTO {s}.model_run_versions (run_id, version, name, config,"
                    " metric_settings, row_count, deleted, at)"
                    " SELECT run_id, %(v)s, coalesce(%(name)s, name),"
                    " coalesce(%(config)s::jsonb, config),"
                    " coalesce(%(settings)s::jsonb, metric_settings), row_count + %(delta)s,"
                    " deleted OR %(deleted)s, %(at)s"
                    " FROM {s}.model_run_versions WHERE run_id = %(run)s AND version = %(v)s - 1"
                ),
                {
                    "run": run_id,
                    "v": version,
                    "name": name,
                    "config": None if config is None else orjson.dumps(config).decode(),
                    "settings": None if metric_settings is None else orjson.dumps(metric_settings).decode(),
                    "delta": row_delta,
                    "deleted": deleted,
                    "at": event["at"],
                },
            )
            if curs.rowcount != 1:
                raise LookupError(f"model run {run_id} has no version {version - 1} to follow")
            curs.execute(
                self.sql(
                    "UPDATE {s}.model_runs SET version = %s, updated_at = %s,"
                    " name = coalesce(%s, name), deleted = deleted OR %s WHERE id = %s"
                ),
                (version, event["at"], name, deleted, run_id),
            )
            self._record_event(curs, run_id, version, event)

    def _record_event(self, curs: Any, run_id: UUID, version: int, event: dict[str, Any]) -> None:
        curs.execute(
            self.sql(
                "INSERT INTO {s}.model_run_events (run_id, version, type, actor, at, summary)"
                " VALUES (%s, %s, %s, %s, %s, %s)"
            ),
            (
                run_id,
                version,
                event["type"],
                event["actor"],
                event["at"],
                orjson.dumps(event["summary"]).decode(),
            ),
        )

    # -- uploads -------------------------------------------------------------------------

