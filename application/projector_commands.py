"""Commands of the embedding projector: request a 2-D projection of a run's embeddings,
compute one (what a worker does), retry a failed one."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, cast
from uuid import UUID

import numpy as np
from numpy.typing import NDArray

from application.ledger import LedgerCore
from domain.computations import FAILED, Computation
from domain.embeddings import EmbeddingSpace, embedding_space_id, pack_row_ids
from domain.errors import Conflict, NotFound, ValidationFailed
from domain.projector.layout import (
    POINTS_PER_PART,
    PROJECTION_KIND,
    ROWS_PER_INPUT_CHUNK,
    Layout,
    SpaceVersion,
    projection_id,
)
from domain.projector.reductions import Method, Progress, ReductionParams, reduce_vectors
from domain.uploads import Upload, UploadKind

if TYPE_CHECKING:
    from application.metric_commands import MetricCommands

# How many unknown ids an error lists: enough to see the mistake, not the whole request.
SHOWN_IDS = 10


class VectorSource(Protocol):
    def vectors(self, space_id: UUID, version: int, dimension: int, row_ids: Sequence[UUID]) -> NDArray[np.float32]:
        """The rows' vectors as of `version`, in the order asked."""


# Where a reduction runs: here, or in a process that a time limit can stop.
Reducer = Callable[[NDArray[np.float32], ReductionParams, Progress], NDArray[np.float32]]


def _no_progress(fraction: float, stage: str) -> None:
    pass


class ProjectorDirectory(VectorSource, Protocol):
    """What the projector's commands read from the read models."""

    def run_rows_by_dataset(self, run_id: UUID) -> dict[UUID, list[UUID]]:
        """The run's current data rows, grouped by the dataset each came from."""

    def rows_with_vectors(self, space_id: UUID, version: int, row_ids: Sequence[UUID]) -> set[UUID]:
        """Which of these rows have a vector in the space as of `version`."""


@dataclass(frozen=True)
class ProjectionRequest:
    run_id: UUID
    space: str
    method: Method
    sphereize: bool = False
    # An explicit selection of the run's data rows (e.g. points chosen in a projection);
    # None projects every row of the run that has a vector.
    data_row_ids: list[str] | None = None
    source_projection_id: UUID | None = None


@dataclass(frozen=True)
class ProjectionInputs:
    """The rows of a projection, in the order of its points, grouped by space."""

    groups: list[tuple[SpaceVersion, list[UUID]]]

    @property
    def row_ids(self) -> list[UUID]:
        return [row for _, rows in self.groups for row in rows]


def _selected(by_dataset: dict[UUID, list[UUID]], wanted: list[str], run_id: UUID) -> dict[UUID, list[UUID]]:
    parsed: set[UUID] = set()
    unknown: list[str] = []
    for value in wanted:
        try:
            parsed.add(UUID(str(value)))
        except ValueError:
            unknown.append(value)
    in_run = {row for rows in by_dataset.values() for row in rows}
    unknown += [str(row) for row in parsed - in_run]
    if unknown:
        raise ValidationFailed(
            f"{len(unknown)} selected data row(s) are not in model run {run_id}: {sorted(unknown)[:SHOWN_IDS]}"
        )
    if not parsed:
        raise ValidationFailed("the selection holds no data row")
    return {dataset: [r for r in rows if r in parsed] for dataset, rows in by_dataset.items()}


def _points(ids: list[UUID], coordinates: NDArray[np.float32]) -> list[dict[str, Any]]:
    """Result parts: {"rowIds": 16 bytes per row, "xy": float32 little-endian x0 y0 x1 y1 ...}."""
    xy = np.ascontiguousarray(coordinates, dtype="<f4")
    return [
        {
            "rowIds": pack_row_ids(ids[start : start + POINTS_PER_PART]),
            "xy": xy[start : start + POINTS_PER_PART].tobytes(),
        }
        for start in range(0, len(ids), POINTS_PER_PART)
    ]


class ProjectorCommands(LedgerCore):
    def _space(self, dataset_id: UUID, name: str) -> EmbeddingSpace | None:
        return self.find(EmbeddingSpace, embedding_space_id(dataset_id, name))

    def _inputs(self, request: ProjectionRequest, directory: ProjectorDirectory) -> ProjectionInputs:
        by_dataset = directory.run_rows_by_dataset(request.run_id)
        if request.data_row_ids is not None:
            by_dataset = _selected(by_dataset, request.data_row_ids, request.run_id)
        spaces = [
            (dataset, space) for dataset in by_dataset if (space := self._space(dataset, request.space)) is not None
        ]
        if not spaces:
            raise NotFound(f"no dataset of model run {request.run_id} has an embedding space named {request.space!r}")
        dimensions = {space.dimension for _, space in spaces}
        if len(dimensions) > 1:
            raise ValidationFailed(
                f"the embedding spaces named {request.space!r} of the run's datasets differ in dimension: {sorted(dimensions)}"
            )
        groups: list[tuple[SpaceVersion, list[UUID]]] = []
        # Points in a canonical order (by space, then data row id): UMAP's picture depends
        # on the order of its input, and the same request must give the same picture.
        for dataset, space in sorted(spaces, key=lambda pair: pair[1].id.bytes):
            rows = by_dataset[dataset]
            having = directory.rows_with_vectors(space.id, space.version, rows)
            if having:
                version = SpaceVersion(space.id, dataset, space.version, space.dimension)
                groups.append((version, sorted(having, key=lambda row: row.bytes)))
        candidates = sum(len(rows) for rows in by_dataset.values())
        if not groups:
            raise ValidationFailed(
                f"none of the {candidates} data row(s) has a vector in embedding space {request.space!r}"
            )
        return ProjectionInputs(groups)

    def request_projection(
        self, request: ProjectionRequest, directory: ProjectorDirectory, actor: str
    ) -> tuple[Layout, bool]:
        """The projection of these inputs, requested now or found from an identical request
        before (False then). Rows without a vector in the space are left out."""
        run = self.load_run(request.run_id)
        self.rows.wait_until_current()
        inputs = self._inputs(request, directory)
        params = ReductionParams(request.method, request.sphereize)
        spaces = [space for space, _ in inputs.groups]
        row_ids = inputs.row_ids
        pid = projection_id(run.id, spaces, params, row_ids)
        existing = self.projection(pid)
        if existing is not None:
            return existing, False
        upload = Upload(owner_id=pid, owner_version=1, kind=UploadKind.PROJECTION_ROWS, actor=actor)
        index = 0
        for space_index, (_, rows) in enumerate(inputs.groups):
            for start in range(0, len(rows), ROWS_PER_INPUT_CHUNK):
                part = rows[start : start + ROWS_PER_INPUT_CHUNK]
                upload.add_chunk(index=index, payload={"space": space_index, "rowIds": pack_row_ids(part)})
                index += 1
        computation = Computation(
            kind=PROJECTION_KIND,
            owner_id=pid,
            owner_version=1,
            chunks=1,
            rows=len(row_ids),
            plan={"runId": str(run.id), "inputUploadId": str(upload.id)},
            parameters={**params.to_dict(), "spaces": [s.to_dict() for s in spaces]},
            actor=actor,
        )
        projection = Layout(
            id=pid,
            run_id=run.id,
            run_version=run.version,
            space=request.space,
            spaces=[s.to_dict() for s in spaces],
            params=params.to_dict(),
            points=len(row_ids),
            selected=request.data_row_ids is not None,
            source_projection_id=request.source_projection_id,
            input_upload_id=upload.id,
            computation_id=computation.id,
            actor=actor,
        )
        try:
            self.store(projection, upload, computation)
        except Conflict:
            # The same request, made at the same moment by someone else: theirs is ours.
            found = self.projection(pid)
            if found is None:
                raise
            return found, False
        return projection, True

    def projection(self, projection_id: UUID) -> Layout | None:
        return self.find(Layout, projection_id)

    def load_projection(self, run_id: UUID, projection_id: UUID) -> Layout:
        found = self.projection(projection_id)
        if found is None or found.run_id != run_id:
            raise NotFound(f"projection {projection_id} of model run {run_id} not found")
        return found

    def retry_projection(self, run_id: UUID, projection_id: UUID, actor: str) -> Computation:
        """Compute a failed projection again."""
        projection = self.load_projection(run_id, projection_id)
        computation = self.load(Computation, projection.computation_id, "computation")
        if computation.state != FAILED:
            raise ValidationFailed(f"projection {projection_id} has not failed: it is {computation.state}")
        computation.retry(actor=actor)
        self.store(computation)
        return computation

    # -- what a worker does --------------------------------------------------------------

    def projection_inputs(self, projection: Layout) -> ProjectionInputs:
        """The projection's rows as its request recorded them (read from the log itself, so
        a worker does not wait for any read model)."""
        spaces = [SpaceVersion.from_dict(s) for s in projection.spaces]
        rows: list[list[UUID]] = [[] for _ in spaces]
        for event in self.repository.event_store.get(projection.input_upload_id):
            if isinstance(event, Upload.ChunkAdded):
                packed: bytes = event.payload["rowIds"]
                rows[event.payload["space"]] += [UUID(bytes=packed[i : i + 16]) for i in range(0, len(packed), 16)]
        return ProjectionInputs(list(zip(spaces, rows, strict=True)))

    def projection_result(
        self,
        projection_id: UUID,
        vectors: VectorSource,
        reduce: Reducer = reduce_vectors,
        progress: Progress | None = None,
    ) -> tuple[int, list[dict[str, Any]]]:
        """The coordinates of the projection's points, as its computation's result parts
        (how many points, the parts). `reduce` is where the reduction runs."""
        projection = self.projection(projection_id)
        if projection is None:
            raise NotFound(f"projection {projection_id} not found")
        inputs = self.projection_inputs(projection)
        matrix = np.concatenate([vectors.vectors(s.space_id, s.version, s.dimension, rows) for s, rows in inputs.groups])
        params = ReductionParams(Method(projection.params["method"]), bool(projection.params["sphereize"]))
        coordinates = reduce(matrix, params, progress or _no_progress)
        row_ids = inputs.row_ids
        return len(row_ids), _points(row_ids, coordinates)

    def compute_projection(self, projection_id: UUID, vectors: VectorSource) -> bool:
        """Compute and record here and now (what a worker does, without the queue). False
        when the coordinates were recorded before."""
        projection = self.projection(projection_id)
        if projection is None:
            raise NotFound(f"projection {projection_id} not found")
        ledger = cast("MetricCommands", self)
        if ledger.computation(projection.computation_id).is_done(0):
            return False
        rows, parts = self.projection_result(projection_id, vectors)
        return ledger.record_chunk_result(projection.computation_id, 0, rows, parts)

    def note_projection_progress(self, projection_id: UUID, fraction: float, stage: str) -> None:
        """For the status a user watches; a concurrent write wins (progress is not state)."""
        projection = self.projection(projection_id)
        if projection is None or projection.stage == stage:
            return
        projection.note_progress(fraction=float(fraction), stage=stage)
        with contextlib.suppress(Conflict):
            self.store(projection)

    def fail_projection(self, projection_id: UUID, reason: str) -> bool:
        projection = self.projection(projection_id)
        if projection is None:
            return False
        return cast("MetricCommands", self).fail_computation(projection.computation_id, 0, reason)
