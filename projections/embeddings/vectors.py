"""Reading vectors where no read model runs: a worker process's own small connection pool."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

import numpy as np
from numpy.typing import NDArray
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from projections.embeddings.queries import read_vectors
from storage.database import Database


class VectorReader:
    def __init__(self, database: Database, max_connections: int = 2) -> None:
        self._schema = database.schema
        self._pool = ConnectionPool(
            database.conninfo(), min_size=0, max_size=max_connections, kwargs={"row_factory": dict_row}, open=True
        )

    def vectors(self, space_id: UUID, version: int, dimension: int, row_ids: Sequence[UUID]) -> NDArray[np.float32]:
        with self._pool.connection() as conn, conn.cursor() as curs:
            return read_vectors(curs, self._schema, space_id, version, dimension, row_ids)

    def close(self) -> None:
        self._pool.close()
