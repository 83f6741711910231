"""Reading embedding spaces and their vectors as of a version."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import numpy as np
from numpy.typing import NDArray
from psycopg import Cursor
from psycopg.rows import DictRow, tuple_row
from psycopg.sql import SQL, Identifier

from projections.embeddings.view import COPY_HEADER, COPY_TRAILER, EmbeddingsView
from projections.ids import as_uuid

_AS_OF = "v.valid_from <= %(v)s AND (v.valid_to IS NULL OR v.valid_to > %(v)s)"


@dataclass(frozen=True, slots=True)
class EmbeddingSpaceRecord:
    id: str
    dataset_id: str
    name: str
    dimension: int
    version: int
    vector_count: int  # data rows with a vector now
    created_at: datetime
    updated_at: datetime


def _space(row: DictRow) -> EmbeddingSpaceRecord:
    return EmbeddingSpaceRecord(
        id=str(row["id"]),
        dataset_id=str(row["dataset_id"]),
        name=row["name"],
        dimension=row["dimension"],
        version=row["version"],
        vector_count=row["vector_count"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


class EmbeddingQueries:
    def __init__(self, view: EmbeddingsView) -> None:
        self.view = view

    def spaces(self, dataset_id: UUID | str) -> list[EmbeddingSpaceRecord]:
        parsed = as_uuid(str(dataset_id))
        rows = self.view.fetch(
            "SELECT * FROM {s}.embedding_spaces WHERE dataset_id = %s ORDER BY name", (parsed,)
        )
        return [_space(r) for r in rows]

    def space(self, dataset_id: UUID | str, name: str) -> EmbeddingSpaceRecord | None:
        row = self.view.fetch_one(
            "SELECT * FROM {s}.embedding_spaces WHERE dataset_id = %s AND name = %s",
            (as_uuid(str(dataset_id)), name),
        )
        return None if row is None else _space(row)

    def space_by_id(self, space_id: UUID | str) -> EmbeddingSpaceRecord | None:
        row = self.view.fetch_one("SELECT * FROM {s}.embedding_spaces WHERE id = %s", (as_uuid(str(space_id)),))
        return None if row is None else _space(row)

    def rows_with_vectors(self, space_id: UUID, version: int, row_ids: Sequence[UUID]) -> set[UUID]:
        """Which of these rows have a vector in the space as of `version` (probed per row,
        or the space scanned, as `read_vectors` reads them; 100,000 rows of a space of as
        many: 1.8 s probed, as dicts)."""
        with self.view.reading() as curs:
            curs.row_factory = tuple_row
            params: dict[str, Any] = {"space": space_id, "v": version}
            if _scanned(curs, self.view.schema, space_id, len(row_ids)):
                curs.execute(self.view.sql(_SCANNED_IDS), params, binary=True)
                return {row[0] for row in curs.fetchall()}.intersection(row_ids)
            curs.execute(self.view.sql(_PROBED_IDS), params | {"ids": list(row_ids)}, binary=True)
            return {row[0] for row in curs.fetchall()}

    def vectors(
        self, space_id: UUID, version: int, dimension: int, row_ids: Sequence[UUID]
    ) -> NDArray[np.float32]:
        """The rows' vectors as of `version`, one per row in the order asked (every row must
        have one: ask `rows_with_vectors` first)."""
        with self.view.reading() as curs:
            return read_vectors(curs, self.view.schema, space_id, version, dimension, row_ids)


# The vectors of some rows as of a version, read with COPY in PostgreSQL's binary format:
# every row is the same width, so the whole answer is read as one numpy array of records,
# with no object per row. Probed per row (see the view's writes) when the rows are a small
# share of the space; else every vector of the space as of the version is read in one scan
# and the rows asked for are picked out (100,000 vectors of 512 floats, all of a space:
# 1.24-1.34 s probed, 0.38-0.39 s scanned).
def _probed(columns: str) -> str:
    """The rows' columns as of the version, found one asked row at a time."""
    return (
        f"SELECT {columns} FROM unnest(%(ids)s::uuid[]) AS u(id), LATERAL ("
        f" SELECT {columns} FROM {{s}}.embedding_vectors v WHERE v.space_id = %(space)s"
        " AND v.row_id = u.id AND " + _AS_OF + " OFFSET 0) AS v"
    )


def _scanned_rows(columns: str) -> str:
    """The columns of every row of the space as of the version."""
    return f"SELECT {columns} FROM {{s}}.embedding_vectors v WHERE v.space_id = %(space)s AND " + _AS_OF


_PROBED = f"COPY ({_probed('v.row_id, v.vector')}) TO STDOUT (FORMAT BINARY)"
_SCANNED = f"COPY ({_scanned_rows('v.row_id, v.vector')}) TO STDOUT (FORMAT BINARY)"
_PROBED_IDS = _probed("v.row_id")
_SCANNED_IDS = _scanned_rows("v.row_id")
# Scanned when the rows asked for are at least this share of the space's current vectors.
_SCAN_SHARE = 0.25


def _scanned(curs: Cursor[Any], schema: str, space_id: UUID, asked: int) -> bool:
    """Whether to scan the space rather than probe per row for `asked` rows of it."""
    curs.execute(
        SQL("SELECT vector_count FROM {}.embedding_spaces WHERE id = %s").format(Identifier(schema)), (space_id,)
    )
    space = curs.fetchone()
    return space is not None and asked >= _SCAN_SHARE * space[0]


def read_vectors(
    curs: Cursor[Any], schema: str, space_id: UUID, version: int, dimension: int, row_ids: Sequence[UUID]
) -> NDArray[np.float32]:
    """The rows' vectors as of `version`, one per row in the order asked."""
    curs.row_factory = tuple_row
    scan = _scanned(curs, schema, space_id, len(row_ids))
    statement = SQL(_SCANNED if scan else _PROBED).format(s=Identifier(schema))
    params: dict[str, Any] = {"space": space_id, "v": version} | ({} if scan else {"ids": list(row_ids)})
    with curs.copy(statement, params) as copy:
        data = b"".join(copy)
    layout = np.dtype([("fields", ">i2"), ("id_len", ">i4"), ("id", "V16"), ("vector_len", ">i4"), ("vector", "<f4", (dimension,))])
    # Sliced in place: the answer is 200 MB at 100,000 x 512.
    body = memoryview(data)[len(COPY_HEADER) : len(data) - len(COPY_TRAILER)]
    if len(body) % layout.itemsize:
        raise ValueError(f"embedding space {space_id}: a stored vector is not {dimension} floats wide")
    records = np.frombuffer(body, dtype=layout)
    position = {row_id.bytes: i for i, row_id in enumerate(row_ids)}
    places = np.fromiter((position.get(key, -1) for key in records["id"].tolist()), dtype=np.int64, count=len(records))
    kept = places >= 0
    found = int(kept.sum())
    if found != len(row_ids):
        raise LookupError(
            f"embedding space {space_id} version {version} has {found} of the {len(row_ids)} vectors asked for"
        )
    # Each row asked for was found once: the records kept, ordered by where they go, are the
    # answer, gathered in one pass (a mask, then a scatter, was twice the memory traffic).
    taken = np.flatnonzero(kept)
    order = taken[np.argsort(places[taken], kind="stable")]
    return np.ascontiguousarray(records["vector"][order])
