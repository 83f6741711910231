"""The embeddings' tables: spaces, and every data row's vector as a temporal record.

A vector record holds from space version `valid_from` (inclusive) until `valid_to`
(exclusive; NULL while current), so the vectors a projection was computed from (the space
as of one version) stay readable after later uploads replace some of them. A vector is
stored as it travels in the event: float32 little-endian bytes.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from eventsourcing.persistence import Tracking

from projections.postgres_view import FollowsUploads, uploads_table


class EmbeddingsView(FollowsUploads):

    uploads = "embedding_uploads"
    tables = (
        (
            "embedding_spaces",
            "CREATE TABLE IF NOT EXISTS {s}.embedding_spaces ("
            " id uuid PRIMARY KEY, dataset_id uuid NOT NULL, name text NOT NULL,"
            " dimension integer NOT NULL, version integer NOT NULL, vector_count integer NOT NULL,"
            " created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL,"
            " UNIQUE (dataset_id, name))",
        ),
        (
            "embedding_vectors",
            "CREATE TABLE IF NOT EXISTS {s}.embedding_vectors ("
            " space_id uuid NOT NULL, row_id uuid NOT NULL,"
            " valid_from integer NOT NULL, valid_to integer, vector bytea NOT NULL,"
            " PRIMARY KEY (space_id, row_id, valid_from))",
        ),
        uploads_table("embedding_uploads"),
    )

    def create_space(
        self, space_id: UUID, dataset_id: UUID, name: str, dimension: int, at: datetime, tracking: Tracking
    ) -> None:
        with self.tracked(tracking) as curs:
            curs.execute(
                self.sql(
                    "INSERT INTO {s}.embedding_spaces (id, dataset_id, name, dimension, version,"
                    " vector_count, created_at, updated_at) VALUES (%s, %s, %s, %s, 1, 0, %s, %s)"
                ),
                (space_id, dataset_id, name, dimension, at, at),
            )

    def advance_space(self, space_id: UUID, version: int, at: datetime, tracking: Tracking) -> None:
        with self.tracked(tracking) as curs:
            curs.execute(
                self.sql("UPDATE {s}.embedding_spaces SET version = %s, updated_at = %s WHERE id = %s"),
                (version, at, space_id),
            )

    def put_vectors(
        self, space_id: UUID, version: int, row_ids: list[UUID], vectors: list[bytes], tracking: Tracking
    ) -> None:
        """The rows' vectors from `version` on; a row's earlier vector ends there. (One upload
        names a row once, so no record can already begin at `version`.)"""
        with self.tracked(tracking) as curs:
            # Probed per row (a nested loop over the chunk's ids): the planner's estimate for
            # `row_id = ANY(...)` on a freshly filled table walks every vector of the space.
            curs.execute(
                self.sql(
                    "SELECT x.ctid::text AS ctid FROM unnest(%s::uuid[]) AS u(id), LATERAL ("
                    " SELECT t.ctid FROM {s}.embedding_vectors t WHERE t.space_id = %s"
                    " AND t.row_id = u.id AND t.valid_to IS NULL OFFSET 0) AS x"
                ),
                (row_ids, space_id),
            )
            current = [r["ctid"] for r in curs.fetchall()]
            if current:
                # Just read in this transaction by this projection, the only writer: their
                # physical addresses still hold them.
                curs.execute(
                    self.sql("UPDATE {s}.embedding_vectors SET valid_to = %s WHERE ctid = ANY(%s::tid[])"),
                    (version, current),
                )
            replaced = len(current)
            with curs.copy(
                self.sql(
                    "COPY {s}.embedding_vectors (space_id, row_id, valid_from, vector)"
                    " FROM STDIN (FORMAT BINARY)"
                )
            ) as copy:
                copy.set_types(["uuid", "uuid", "int4", "bytea"])
                for row_id, vector in zip(row_ids, vectors, strict=True):
                    copy.write_row((space_id, row_id, version, vector))
            curs.execute(
                self.sql("UPDATE {s}.embedding_spaces SET vector_count = vector_count + %s WHERE id = %s"),
                (len(row_ids) - replaced, space_id),
            )
