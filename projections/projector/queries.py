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
import orjson
from numpy.typing import NDArray
from psycopg.rows import DictRow, tuple_row

from projections.embeddings.queries import EmbeddingQueries
from projections.ids import as_uuid
from projections.projector.view import ProjectorView

COMPUTING = "COMPUTING"
READY = "READY"
FAILED = "FAILED"

Source = Literal["labels", "predictions"]
_SET_TABLES: dict[str, tuple[str, str]] = {
    "labels": ("run_labels", "labels"),
    "predictions": ("run_predictions", "predictions"),
}
_AS_OF = "{a}.valid_from <= %(v)s AND ({a}.valid_to IS NULL OR {a}.valid_to > %(v)s)"


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


def _keys(row_ids: bytes | Sequence[UUID]) -> NDArray[np.bytes_]:
    """Row ids as fixed-width 16-byte strings (numpy compares them as raw bytes)."""
    if isinstance(row_ids, bytes | bytearray | memoryview):
        return np.frombuffer(bytes(row_ids), dtype="S16")
    return np.array([row_id.bytes for row_id in row_ids], dtype="S16")


def feature_names(items: list[dict[str, Any]]) -> set[str]:
    """Features of a row's stored objects; a classification answer is "<question>/<answer>"."""
    names: set[str] = set()
    for item in items:
        answer = item.get("answer")
        if isinstance(answer, dict):
            names.add(f"{item['name']}/{answer.get('name')}")
        elif isinstance(answer, list):
            names.update(f"{item['name']}/{a.get('name')}" for a in answer if isinstance(a, dict))
        else:
            names.add(item["name"])
    return names


class ProjectorQueries:
    def __init__(self, view: ProjectorView, embeddings: EmbeddingQueries) -> None:
        self.view = view
        self.embeddings = embeddings

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

    # -- colouring -----------------------------------------------------------------------

    def run_row_details(
        self, run_id: UUID | str, version: int, row_ids: bytes | Sequence[UUID]
    ) -> tuple[list[str | None], list[str | None]]:
        """Global key and split (None: not in the run at `version`) per row, in order.

        `row_ids` may come packed (16 bytes per row, as the points are stored): matched
        as fixed-width byte strings with numpy, 100,000 points need no UUID object.
        """
        wanted = _keys(row_ids)
        rows = self.view.fetch(
            "SELECT DISTINCT ON (r.row_id) uuid_send(r.row_id) AS key, r.global_key,"
            " CASE WHEN " + _AS_OF.format(a="r") + " THEN r.split END AS split"
            " FROM {s}.run_rows r WHERE r.run_id = %(run)s"
            " ORDER BY r.row_id, (" + _AS_OF.format(a="r") + ") DESC, r.valid_from DESC",
            {"run": as_uuid(str(run_id)), "v": version},
        )
        if not rows or not len(wanted):
            return [None] * len(wanted), [None] * len(wanted)
        known = np.array([bytes(r["key"]) for r in rows], dtype="S16")
        order = np.argsort(known, kind="stable")
        at = np.minimum(np.searchsorted(known[order], wanted), len(known) - 1)
        found = known[order][at] == wanted
        index = np.where(found, order[at], -1)
        keys = [rows[i]["global_key"] if i >= 0 else None for i in index.tolist()]
        splits = [rows[i]["split"] if i >= 0 else None for i in index.tolist()]
        return keys, splits

    def metadata_values(self, row_ids: Sequence[UUID], key: str) -> list[Any]:
        """The catalog's current value of one metadata field per row (None where unset)."""
        rows = self.view.fetch(
            "SELECT d.id, d.metadata -> %(key)s AS value FROM unnest(%(ids)s::uuid[]) AS u(id),"
            " LATERAL (SELECT c.id, c.metadata FROM {s}.catalog_data_rows c WHERE c.id = u.id"
            " LIMIT 1) AS d",
            {"ids": list(row_ids), "key": key},
        )
        by_id = {r["id"]: r["value"] for r in rows}
        return [by_id.get(row_id) for row_id in row_ids]

    def features_present(
        self, run_id: UUID | str, version: int, row_ids: Sequence[UUID], source: Source
    ) -> dict[str, list[int]]:
        """Per feature, the points (indexes) whose row has an object of it, as of `version`."""
        table, column = _SET_TABLES[source]
        position = {row_id: i for i, row_id in enumerate(row_ids)}
        found: dict[str, list[int]] = {}
        with self.view.reading() as curs:
            curs.execute(
                self.view.sql(
                    f"SELECT x.row_id, x.{column} AS items FROM {{s}}.{table} x"
                    " WHERE x.run_id = %(run)s AND " + _AS_OF.format(a="x")
                ),
                {"run": as_uuid(str(run_id)), "v": version},
            )
            while batch := curs.fetchmany(8192):
                for row in batch:
                    index = position.get(row["row_id"])
                    if index is None:
                        continue
                    for name in feature_names(orjson.loads(row["items"])):
                        found.setdefault(name, []).append(index)
        return {name: sorted(points) for name, points in sorted(found.items())}

    # -- for commands (application.projector_commands.ProjectorDirectory) ----------------

    def run_rows_by_dataset(self, run_id: UUID) -> dict[UUID, list[UUID]]:
        grouped: dict[UUID, list[UUID]] = {}
        with self.view.reading() as curs:
            curs.row_factory = tuple_row  # 100,000 rows: no dict per row
            curs.execute(
                self.view.sql("SELECT row_id, dataset_id FROM {s}.run_rows WHERE run_id = %s AND valid_to IS NULL"),
                (run_id,),
                binary=True,
            )
            for row_id, dataset_id in curs.fetchall():
                grouped.setdefault(dataset_id, []).append(row_id)
        return grouped

    def rows_with_vectors(self, space_id: UUID, version: int, row_ids: Sequence[UUID]) -> set[UUID]:
        return self.embeddings.rows_with_vectors(space_id, version, row_ids)

    def vectors(self, space_id: UUID, version: int, dimension: int, row_ids: Sequence[UUID]) -> NDArray[np.float32]:
        return self.embeddings.vectors(space_id, version, dimension, row_ids)


def projector_queries(runners: dict[str, Any]) -> ProjectorQueries:
    """The queries over the running "embeddings" and "projector" read models."""
    from projections.embeddings.view import EmbeddingsView

    embeddings, projector = runners["embeddings"].view, runners["projector"].view
    assert isinstance(embeddings, EmbeddingsView) and isinstance(projector, ProjectorView)
    return ProjectorQueries(projector, EmbeddingQueries(embeddings))
