"""The metrics read model: the runs' match tables in parts, and their custom metric values.

- metric_parts: one record per recorded part of a chunk's match table (match_table.pack);
- metric_rows: which part holds the current result of each data row, the newest version
  winning (a late result of an older version never replaces a newer one); parts no row
  refers to any more are deleted, so a run's parts stay about the size of its results;
- metric_stamps: per run, the position of the last write, so queries know when the
  run's results in memory are stale;
- custom_metric_values: the current value per (data row, metric, feature);
- custom_metric_history: every value with its run version, for reads of older versions.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import orjson
from eventsourcing.persistence import Tracking
from psycopg import Cursor
from psycopg.rows import DictRow

from projections.postgres_view import PostgresView


class MetricsView(PostgresView):
    tables = (
        (
            "metric_parts",
            "CREATE TABLE IF NOT EXISTS {s}.metric_parts ("
            " id uuid PRIMARY KEY, run_id uuid NOT NULL, run_version integer NOT NULL,"
            " seq bigint NOT NULL, computation_id uuid NOT NULL, chunk integer NOT NULL,"
            " part integer NOT NULL, row_count integer NOT NULL, payload bytea NOT NULL)",
        ),
        (
            "metric_rows",
            "CREATE TABLE IF NOT EXISTS {s}.metric_rows ("
            " run_id uuid NOT NULL, row_id uuid NOT NULL, run_version integer NOT NULL,"
            " part_id uuid NOT NULL, PRIMARY KEY (run_id, row_id))",
        ),
        (
            "metric_stamps",
            "CREATE TABLE IF NOT EXISTS {s}.metric_stamps (run_id uuid PRIMARY KEY, stamp bigint NOT NULL)",
        ),
        (
            "custom_metric_values",
            "CREATE TABLE IF NOT EXISTS {s}.custom_metric_values ("
            " run_id uuid NOT NULL, row_id uuid NOT NULL, name text NOT NULL,"
            # '' for a value of the whole data row: a key column cannot be NULL.
            " feature text NOT NULL, run_version integer NOT NULL, value double precision,"
            " curve jsonb, aggregation text NOT NULL,"
            " PRIMARY KEY (run_id, row_id, name, feature))",
        ),
        (
            # Every value with the run version it was uploaded at: a run read as of an older
            # version takes, per (row, metric, feature), the newest value up to it.
            "custom_metric_history",
            "CREATE TABLE IF NOT EXISTS {s}.custom_metric_history ("
            " run_id uuid NOT NULL, row_id uuid NOT NULL, name text NOT NULL,"
            " feature text NOT NULL, run_version integer NOT NULL, value double precision,"
            " curve jsonb, aggregation text NOT NULL,"
            " PRIMARY KEY (run_id, row_id, name, feature, run_version))",
        ),
    )
    indexes = (
        "CREATE INDEX IF NOT EXISTS metric_parts_run ON {s}.metric_parts (run_id, seq)",
        "CREATE INDEX IF NOT EXISTS metric_rows_part ON {s}.metric_rows (part_id)",
    )

    def _stamp(self, curs: Cursor[DictRow], run_id: UUID, tracking: Tracking) -> None:
        curs.execute(
            self.sql(
                "INSERT INTO {s}.metric_stamps (run_id, stamp) VALUES (%s, %s)"
                " ON CONFLICT (run_id) DO UPDATE SET stamp = excluded.stamp"
            ),
            (run_id, tracking.notification_id),
        )

    def add_part(
        self,
        part_id: UUID,
        run_id: UUID,
        run_version: int,
        seq: int,
        source: tuple[UUID, int, int],
        row_ids: list[UUID],
        packed: bytes,
        tracking: Tracking,
    ) -> None:
        computation_id, chunk, part = source
        with self.tracked(tracking) as curs:
            curs.execute(
                self.sql(
                    "INSERT INTO {s}.metric_parts (id, run_id, run_version, seq, computation_id, chunk,"
                    " part, row_count, payload) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)"
                ),
                (part_id, run_id, run_version, seq, computation_id, chunk, part, len(row_ids), packed),
            )
            curs.execute(
                self.sql(
                    "INSERT INTO {s}.metric_rows (run_id, row_id, run_version, part_id)"
                    " SELECT %s, r, %s, %s FROM unnest(%s::uuid[]) AS r"
                    " ON CONFLICT (run_id, row_id) DO UPDATE"
                    " SET run_version = excluded.run_version, part_id = excluded.part_id"
                    " WHERE metric_rows.run_version <= excluded.run_version"
                ),
                (run_id, run_version, part_id, row_ids),
            )
            # Superseded parts stay: they are the results of the run's older versions, which
            # a run read as of such a version looks up (metric_rows points at the newest).
            self._stamp(curs, run_id, tracking)

    def put_custom_values(
        self, run_id: UUID, run_version: int, values: list[list[Any]], tracking: Tracking
    ) -> None:
        """[row id, name, feature | None, value | None, curve | None, aggregation] each;
        a value replaces the one of the same (row, metric, feature) from an earlier version."""
        latest: dict[tuple[str, str, str], list[Any]] = {}
        for row_id, name, feature, value, curve, aggregation in values:
            latest[(row_id, name, feature or "")] = [value, curve, aggregation]
        params = [
            (run_id, UUID(row_id), name, feature, run_version, value,
             None if curve is None else orjson.dumps(curve).decode(), aggregation)
            for (row_id, name, feature), (value, curve, aggregation) in latest.items()
        ]  # fmt: skip
        with self.tracked(tracking) as curs:
            curs.executemany(
                self.sql(
                    "INSERT INTO {s}.custom_metric_values (run_id, row_id, name, feature, run_version,"
                    " value, curve, aggregation) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
                    " ON CONFLICT (run_id, row_id, name, feature) DO UPDATE SET"
                    " run_version = excluded.run_version, value = excluded.value,"
                    " curve = excluded.curve, aggregation = excluded.aggregation"
                    " WHERE custom_metric_values.run_version <= excluded.run_version"
                ),
                params,
            )
            curs.executemany(
                self.sql(
                    "INSERT INTO {s}.custom_metric_history (run_id, row_id, name, feature, run_version,"
                    " value, curve, aggregation) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
                    " ON CONFLICT (run_id, row_id, name, feature, run_version) DO UPDATE SET"
                    " value = excluded.value, curve = excluded.curve, aggregation = excluded.aggregation"
                ),
                params,
            )
            self._stamp(curs, run_id, tracking)
