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
from psycopg.rows import DictRow
from psycopg.sql import Composed

from projections.embeddings.view import EmbeddingsView
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
        """Which of these rows have a vector in the space as of `version`."""
        rows = self.view.fetch(
            "SELECT v.row_id FROM unnest(%(ids)s::uuid[]) AS u(id), LATERAL ("
            " SELECT v.row_id FROM {s}.embedding_vectors v WHERE v.space_id = %(space)s"
            " AND v.row_id = u.id AND " + _AS_OF + " OFFSET 0) AS v",
            {"ids": list(row_ids), "space": space_id, "v": version},
        )
        return {r["row_id"] for r in rows}

    def vectors(
        self, space_id: UUID, version: int, dimension: int, row_ids: Sequence[UUID]
    ) -> NDArray[np.float32]:
        """The rows' vectors as of `version`, one per row in the order asked (every row must
        have one: ask `rows_with_vectors` first)."""
        with self.view.reading() as curs:
            return read_vectors(curs, self.view.sql(VECTORS), space_id, version, dimension, row_ids)


# The vectors of some rows as of a version, probed per row (see the view's writes).
VECTORS = (
    "SELECT v.row_id, v.vector FROM unnest(%(ids)s::uuid[]) AS u(id), LATERAL ("
    " SELECT v.row_id, v.vector FROM {s}.embedding_vectors v"
    " WHERE v.space_id = %(space)s AND v.row_id = u.id AND " + _AS_OF + " OFFSET 0) AS v"
)


def read_vectors(
    curs: Cursor[Any], statement: Composed, space_id: UUID, version: int, dimension: int, row_ids: Sequence[UUID]
) -> NDArray[np.float32]:
    position = {row_id: i for i, row_id in enumerate(row_ids)}
    out = np.empty((len(row_ids), dimension), dtype=np.float32)
    found = 0
    curs.execute(statement, {"ids": list(row_ids), "space": space_id, "v": version}, binary=True)
    # In batches, each copied into the one array as it comes: never all rows as objects.
    while batch := curs.fetchmany(8192):
        for row in batch:
            out[position[row["row_id"]]] = np.frombuffer(row["vector"], dtype="<f4")
        found += len(batch)
    if found != len(row_ids):
        raise LookupError(
            f"embedding space {space_id} version {version} has {found} of the {len(row_ids)} vectors asked for"
        )
    return out
