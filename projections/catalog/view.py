"""The catalog's tables: datasets, their data rows with metadata and current labels, models.

Only the current state is kept (the catalog is not versioned; model runs take snapshots).
Each write method is one processed event: its rows and its tracking record commit together.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import orjson
from eventsourcing.persistence import Tracking

from projections.postgres_view import PostgresView

# Rows of one chunk get consecutive positions after the chunk's notification id, so upload
# order is a plain integer that a rebuild from the log reproduces exactly.
ROWS_PER_NOTIFICATION = 1_000_000


class CatalogView(PostgresView):

    tables = (
        (
            "catalog_datasets",
            "CREATE TABLE IF NOT EXISTS {s}.catalog_datasets ("
            " id uuid PRIMARY KEY, seq bigint NOT NULL, name text NOT NULL,"
            " row_count integer NOT NULL, version integer NOT NULL,"
            " created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL,"
            " metadata_fields jsonb NOT NULL, deleted boolean NOT NULL)",
        ),
        (
            "catalog_data_rows",
            "CREATE TABLE IF NOT EXISTS {s}.catalog_data_rows ("
            " dataset_id uuid NOT NULL, id uuid NOT NULL, ord bigint NOT NULL,"
            " global_key text NOT NULL, row_data text NOT NULL, media_type text NOT NULL,"
            " width integer, height integer, metadata jsonb NOT NULL,"
            " labels jsonb NOT NULL, label_count integer NOT NULL, labels_version integer,"
            " metadata_at bigint NOT NULL DEFAULT 0,"
            " PRIMARY KEY (dataset_id, id), UNIQUE (dataset_id, global_key))",
        ),
        (
            "catalog_models",
            "CREATE TABLE IF NOT EXISTS {s}.catalog_models ("
            " id uuid PRIMARY KEY, seq bigint NOT NULL, name text NOT NULL,"
            " version integer NOT NULL, created_at timestamptz NOT NULL,"
            " updated_at timestamptz NOT NULL, ontology jsonb NOT NULL, deleted boolean NOT NULL)",
        ),
    )
    indexes = (
        "CREATE INDEX IF NOT EXISTS catalog_data_rows_ord ON {s}.catalog_data_rows (dataset_id, ord)",
        # Which rows' metadata changed after a position: read models holding a metadata
        # column (the gallery's index) update those rows alone.
        "CREATE INDEX IF NOT EXISTS catalog_data_rows_metadata_at ON {s}.catalog_data_rows (dataset_id, metadata_at)",
        "CREATE INDEX IF NOT EXISTS catalog_datasets_seq ON {s}.catalog_datasets (seq)",
        "CREATE INDEX IF NOT EXISTS catalog_models_seq ON {s}.catalog_models (seq)",
    )

    # -- datasets ------------------------------------------------------------------------

    def create_dataset(self, dataset_id: UUID, name: str, at: datetime, tracking: Tracking) -> None:
        with self.tracked(tracking) as curs:
            curs.execute(
                self.sql(
                    "INSERT INTO {s}.catalog_datasets (id, seq, name, row_count, version,"
                    " created_at, updated_at, metadata_fields, deleted)"
                    " VALUES (%s, %s, %s, 0, 1, %s, %s, '[]', false)"
                ),
                (dataset_id, tracking.notification_id, name, at, at),
            )

    def update_dataset(
        self,
        dataset_id: UUID,
        version: int,
        at: datetime,
        tracking: Tracking,
        *,
        name: str | None = None,
        new_fields: Sequence[dict[str, Any]] = (),
        added_rows: int = 0,
        deleted: bool = False,
    ) -> None:
        """A dataset event that changes only the dataset's own record."""
        with self.tracked(tracking) as curs:
            curs.execute(
                self.sql(
                    "UPDATE {s}.catalog_datasets SET version = %s, updated_at = %s,"
                    " name = coalesce(%s, name), metadata_fields = metadata_fields || %s::jsonb,"
                    " row_count = row_count + %s, deleted = deleted OR %s WHERE id = %s"
                ),
                (version, at, name, orjson.dumps(list(new_fields)).decode(), added_rows, deleted, dataset_id),
            )

    # -- models --------------------------------------------------------------------------

    def create_model(
        self, model_id: UUID, name: str, ontology: dict[str, Any], at: datetime, tracking: Tracking
    ) -> None:
        with self.tracked(tracking) as curs:
            curs.execute(
                self.sql(
                    "INSERT INTO {s}.catalog_models (id, seq, name, version, created_at,"
                    " updated_at, ontology, deleted) VALUES (%s, %s, %s, 1, %s, %s, %s, false)"
                ),
                (model_id, tracking.notification_id, name, at, at, orjson.dumps(ontology).decode()),
            )

    def update_model(
        self,
        model_id: UUID,
        version: int,
        at: datetime,
        tracking: Tracking,
        *,
        name: str | None = None,
        ontology: dict[str, Any] | None = None,
        deleted: bool = False,
    ) -> None:
        with self.tracked(tracking) as curs:
            curs.execute(
                self.sql(
                    "UPDATE {s}.catalog_models SET version = %s, updated_at = %s,"
                    " name = coalesce(%s, name), ontology = coalesce(%s::jsonb, ontology),"
                    " deleted = deleted OR %s WHERE id = %s"
                ),
                (
                    version,
                    at,
                    name,
                    None if ontology is None else orjson.dumps(ontology).decode(),
                    deleted,
                    model_id,
                ),
            )

    def model_ontology(self, model_id: UUID) -> dict[str, Any] | None:
        row = self.fetch_one("SELECT ontology FROM {s}.catalog_models WHERE id = %s", (model_id,))
        return None if row is None else row["ontology"]

    # -- uploads -------------------------------------------------------------------------

    def add_rows(self, dataset_id: UUID, rows: list[list[Any]], tracking: Tracking) -> None:
        """Rows as uploaded: [id, globalKey, rowData, mediaType, width, height, metadata]."""
        base = tracking.notification_id * ROWS_PER_NOTIFICATION
        with self.tracked(tracking) as curs:
            with curs.copy(
                self.sql(
                    "COPY {s}.catalog_data_rows (dataset_id, id, ord, global_key, row_data,"
                    " media_type, width, height, metadata, labels, label_count, metadata_at) FROM STDIN"
                )
            ) as copy:
                for position, (row_id, key, row_data, media, width, height, metadata) in enumerate(rows):
                    copy.write_row(
                        (
                            dataset_id, row_id, base + position, key, row_data, media, width,
                            height, orjson.dumps(metadata or {}).decode(), "[]", 0,
                            tracking.notification_id,
                        )
                    )

    def merge_metadata(self, dataset_id: UUID, updates: list[list[Any]], tracking: Tracking) -> None:
        """[[row id, {key: value | null}]]: merged in; a null removes the key."""
        with self.tracked(tracking) as curs:
            curs.execute(
                self.sql(
                    "UPDATE {s}.catalog_data_rows d"
                    " SET metadata = jsonb_strip_nulls(d.metadata || u.patch::jsonb), metadata_at = %(at)s"
                    " FROM (SELECT x.ctid, u.patch FROM unnest(%(ids)b::uuid[], %(patches)b::text[])"
                    "   AS u(id, patch), " + _PROBE + ") AS u"
                    " WHERE d.ctid = u.ctid"
                ),
                {
                    "ids": [row_id for row_id, _ in updates],
                    "patches": [orjson.dumps(patch).decode() for _, patch in updates],
                    "dataset": dataset_id,
                    "at": tracking.notification_id,
                },
            )

    def replace_labels(
        self,
        dataset_id: UUID,
        version: int,
        labels: list[tuple[str, str, int]],
        tracking: Tracking,
    ) -> None:
        """(row id, JSON list, count) per row: the row's labels become these.

        A row listed by several chunks of one upload (a row with very many labels) gathers
        them all: `labels_version` tells a first mention in this upload from a later one.
        """
        with self.tracked(tracking) as curs:
            curs.execute(
                self.sql(
                    "UPDATE {s}.catalog_data_rows d SET"
                    " labels = CASE WHEN d.labels_version = %(v)s"
                    "   THEN d.labels || u.labels::jsonb ELSE u.labels::jsonb END,"
                    " label_count = CASE WHEN d.labels_version = %(v)s"
                    "   THEN d.label_count + u.n ELSE u.n END,"
                    " labels_version = %(v)s"
                    " FROM (SELECT x.ctid, u.labels, u.n"
                    "   FROM unnest(%(ids)b::uuid[], %(labels)b::text[], %(counts)b::int[])"
                    "   AS u(id, labels, n), " + _PROBE + ") AS u"
                    " WHERE d.ctid = u.ctid"
                ),
                {
                    "v": version,
                    "ids": [row_id for row_id, _, _ in labels],
                    "labels": [text for _, text, _ in labels],
                    "counts": [n for _, _, n in labels],
                    "dataset": dataset_id,
                },
            )


# The listed rows found one by one through the primary key, then updated by address: an
# UPDATE ... FROM a list may otherwise hash-join against every row of the dataset, per
# chunk of an upload.
_PROBE = (
    "LATERAL (SELECT t.ctid FROM {s}.catalog_data_rows t"
    " WHERE t.dataset_id = %(dataset)s AND t.id = u.id OFFSET 0) AS x"
)
