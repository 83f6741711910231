"""The embeddings' tables: spaces, and every data row's vector as a temporal record.

A vector record holds from space version `valid_from` (inclusive) until `valid_to`
(exclusive; NULL while current), so the vectors a projection was computed from (the space
as of one version) stay readable after later uploads replace some of them. A vector is
stored as it travels in the event: float32 little-endian bytes, in the row itself up to
about 8 KB (2,000 floats): PostgreSQL's default moved any row past 2 KB (a vector of 512
floats) out to its TOAST table after trying to compress it, which random floats never
repay; writing 20,000 such rows took 0.94 s that way and 0.45 s in the row.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import numpy as np
from eventsourcing.persistence import Tracking

from projections.postgres_view import PostgresView

# PostgreSQL's binary COPY: its header (signature, flags, no extension), and each row's
# field count and field lengths around the values (big-endian).
COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + b"\x00" * 8
COPY_TRAILER = b"\xff\xff"


def _copy_rows(space_id: UUID, version: int, row_ids: bytes, vectors: bytes) -> bytes:
    """The rows (space_id, row_id, valid_from, vector) in COPY's binary format, built in one
    go from the packed ids and vectors (a row at a time took 47 us per 2 KB vector)."""
    count = len(row_ids) // 16
    width = len(vectors) // count if count else 0
    layout = np.dtype([("fields", ">i2"), ("space_len", ">i4"), ("space", "V16"), ("row_len", ">i4"), ("row", "V16"),
                       ("from_len", ">i4"), ("from", ">i4"), ("vector_len", ">i4"), ("vector", f"V{max(width, 1)}")])  # fmt: skip
    rows = np.zeros(count, dtype=layout)
    rows["fields"], rows["space_len"], rows["row_len"], rows["from_len"], rows["vector_len"] = 4, 16, 16, 4, width
    rows["space"] = np.frombuffer(space_id.bytes, dtype="V16")[0]
    rows["row"] = np.frombuffer(row_ids, dtype="V16")
    rows["from"] = version
    if width:
        rows["vector"] = np.frombuffer(vectors, dtype=f"V{width}")
    return COPY_HEADER + rows.tobytes() + COPY_TRAILER


class EmbeddingsView(PostgresView):

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
            " PRIMARY KEY (space_id, row_id, valid_from)) WITH (toast_tuple_target = 8160)",
        ),
    )
    # Tables made before the setting was in their DDL (new rows only).
    indexes = ("ALTER TABLE {s}.embedding_vectors SET (toast_tuple_target = 8160)",)

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

    def put_vectors(self, space_id: UUID, version: int, row_ids: bytes, vectors: bytes, tracking: Tracking) -> None:
        """The rows' vectors from `version` on (row ids as 16 bytes each, the vectors packed
        in the same order); a row's earlier vector ends there. (One upload names a row
        once, so no record can already begin at `version`.)"""
        count = len(row_ids) // 16
        ids = [UUID(bytes=row_ids[i : i + 16]) for i in range(0, len(row_ids), 16)]
        with self.tracked(tracking) as curs:
            # Probed per row (a nested loop over the chunk's ids): the planner's estimate for
            # `row_id = ANY(...)` on a freshly filled table walks every vector of the space.
            curs.execute(
                self.sql(
                    "SELECT x.ctid::text AS ctid FROM unnest(%s::uuid[]) AS u(id), LATERAL ("
                    " SELECT t.ctid FROM {s}.embedding_vectors t WHERE t.space_id = %s"
                    " AND t.row_id = u.id AND t.valid_to IS NULL OFFSET 0) AS x"
                ),
                (ids, space_id),
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
                copy.write(_copy_rows(space_id, version, row_ids, vectors))
            curs.execute(
                self.sql("UPDATE {s}.embedding_spaces SET vector_count = vector_count + %s WHERE id = %s"),
                (count - replaced, space_id),
            )
