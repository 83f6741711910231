"""Reading projections: status, coordinates, and what colours each point.

The colouring columns (split, global key, metadata, features present) are read from the
model runs' and the catalog's tables, in the same schema, at query time: they follow the
run version shown and the catalog's current metadata, while the coordinates stay fixed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

import numpy as np
from numpy.typing import NDArray
from psycopg.rows import DictRow

from projections.embeddings.queries import EmbeddingQueries
from projections.ids import as_uuid
from projections.model_runs.queries import ModelRunQueries
from projections.projector.view import ProjectorView

COMPUTING = "COMPUTING"
READY = "READY"
FAILED = "FAILED"

Source = Literal["labels", "predictions"]


@dataclass(frozen=True, slots=True)
class ProjectionRecord:
    id: str
    run_id: str
    run_version: int
    space: str
    method: str
    sphereize: bool
    point_count: int
    selected: bool
    source_projection_id: str | None
    state: str  # COMPUTING, READY or FAILED
    progress: float
    stage: str
    error: str | None
    attempt: int
    requested_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class ProjectionPoints:
    row_ids: bytes  # 16 bytes per point, in point order
    xy: NDArray[np.float32]  # (n, 2)

    @property
    def ids(self) -> list[UUID]:
        packed = self.row_ids
        return [UUID(bytes=packed[i : i + 16]) for i in range(0, len(packed), 16)]


def _record(row: DictRow) -> ProjectionRecord:
    expected = row["parts_expected"]
    if row["error"] is not None:
        state = FAILED
    elif row["completed"] and expected is not None and row["parts_received"] >= expected:
        state = READY
    else:
        state = COMPUTING
    return ProjectionRecord(
        id=str(row["id"]),
        run_id=str(row["run_id"]),
        run_version=row["run_version"],
        space=row["space"],
        method=row["method"],
        sphereize=row["sphereize"],
        point_count=row["point_count"],
        selected=row["selected"],
        source_projection_id=None if row["source_projection_id"] is None else str(row["source_projection_id"]),
        state=state,
        progress=1.0 if state == READY else float(row["progress"]),
        stage="done" if state == READY else row["stage"],
        error=row["error"],
        attempt=row["attempt"],
        requested_at=row["requested_at"],
        updated_at=row["updated_at"],
    )


_PROJECTION = (
    "SELECT p.*, (SELECT count(*) FROM {s}.projector_points x WHERE x.projection_id = p.id)"
    " AS parts_received FROM {s}.projector_projections p"
)


class ProjectorQueries:
    def __init__(self, view: ProjectorView, embeddings: EmbeddingQueries, runs: ModelRunQueries) -> None:
        self.view = view
        self.embeddings = embeddings
        self.runs = runs

    # -- projections ---------------------------------------------------------------------

    def projection(self, run_id: UUID | str, projection_id: UUID | str) -> ProjectionRecord | None:
        run, pid = as_uuid(str(run_id)), as_uuid(str(projection_id))
        if run is None or pid is None:
            return None
        row = self.view.fetch_one(_PROJECTION + " WHERE p.id = %s AND p.run_id = %s", (pid, run))
        return None if row is None else _record(row)

    def projections(self, run_id: UUID | str) -> list[ProjectionRecord]:
        """The run's projections, oldest first."""
        rows = self.view.fetch(_PROJECTION + " WHERE p.run_id = %s ORDER BY p.seq", (as_uuid(str(run_id)),))
        return [_record(r) for r in rows]

    def points(self, projection_id: UUID | str) -> ProjectionPoints:
        """The coordinates of a READY projection, in point order."""
        parts = self.view.fetch(
            "SELECT row_ids, xy FROM {s}.projector_points WHERE projection_id = %s ORDER BY part",
            (as_uuid(str(projection_id)),),
        )
        ids = b"".join(bytes(p["row_ids"]) for p in parts)
        xy = np.frombuffer(b"".join(bytes(p["xy"]) for p in parts), dtype="<f4").reshape(-1, 2)
        return ProjectionPoints(ids, xy.astype(np.float32, copy=False))

    # -- for commands (application.projector_commands.ProjectorDirectory) ----------------

    def run_rows_by_dataset(self, run_id: UUID) -> dict[UUID, list[UUID]]:
        return self.runs.run_rows_by_dataset(run_id)

    def rows_with_vectors(self, space_id: UUID, version: int, row_ids: Sequence[UUID]) -> set[UUID]:
        return self.embeddings.rows_with_vectors(space_id, version, row_ids)

    def vectors(self, space_id: UUID, version: int, dimension: int, row_ids: Sequence[UUID]) -> NDArray[np.float32]:
        return self.embeddings.vectors(space_id, version, dimension, row_ids)


def projector_queries(runners: dict[str, Any], runs: ModelRunQueries) -> ProjectorQueries:
    """The queries over the running "embeddings" and "projector" read models (and the
    model runs' read model, for the rows of a run a projection takes)."""
    from projections.embeddings.view import EmbeddingsView

    embeddings, projector = runners["embeddings"].view, runners["projector"].view
    assert isinstance(embeddings, EmbeddingsView) and isinstance(projector, ProjectorView)
    return ProjectorQueries(projector, EmbeddingQueries(embeddings), runs)
