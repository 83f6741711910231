"""A 2-D projection of a run's embeddings: its status, coordinates and colouring columns.

The coordinates come twice: as lists (`globalKeys`, `x`, `y`, in point order) and packed
(`xy`, `dataRowIdsPacked`: base64, float32 / 16-byte ids) for 100,000+ points, where the
packed form is ~4x smaller and costs the server one string instead of a list per point.
Colouring columns (split, a metadata field, a metric, features present) are per point, in
the same order. Coordinates are read once per projection object, whatever fields ask.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Any
from uuid import UUID

import numpy as np
import strawberry
from strawberry.types import Info

from domain.projector.packing import b64, categories, numbers, pack_indexes, pack_xy
from projections.projector.queries import ProjectionPoints, ProjectionRecord
from schema.context import Context

if TYPE_CHECKING:
    from projections.projector.queries import ProjectorQueries


def projector_queries(ctx: Context) -> ProjectorQueries:
    return ctx.read_models.projector


@strawberry.enum
class ProjectionMethod(Enum):
    PCA = "PCA"
    UMAP = "UMAP"


@strawberry.enum
class AnnotationSource(Enum):
    LABELS = "labels"
    PREDICTIONS = "predictions"


@strawberry.type(description="One value per point. NUMBER: `values` is base64 float32 (NaN: none). "
                 "CATEGORY: `codes` is base64 uint8 (uint16 when `bytesPerCode` is 2) into `legend`.")
class PointColumn:
    kind: str
    legend: list[str | None] | None = None
    codes: str | None = None
    bytes_per_code: int | None = None
    values: str | None = None

    @classmethod
    def of_categories(cls, values: list[Any]) -> PointColumn:
        found = categories(values)
        return cls(kind="CATEGORY", legend=found.legend, codes=found.codes, bytes_per_code=found.bytes_per_code)

    @classmethod
    def of_values(cls, values: list[Any]) -> PointColumn:
        """Numbers when every value present is one; categories otherwise."""
        packed = numbers(values)
        present = [v for v in values if v is not None]
        if packed is not None and all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
            return cls(kind="NUMBER", values=packed)
        return cls.of_categories(values)


@strawberry.type(description="The points whose data row has an object of a feature.")
class FeaturePoints:
    feature: str
    count: int
    points: str = strawberry.field(description="base64 uint32 point indexes, ascending.")


@strawberry.type(description="Where a projection's computation is; pushed live by `projectionStatus`.")
class ProjectionStatus:
    id: strawberry.ID
    state: str = strawberry.field(description="COMPUTING, READY or FAILED.")
    progress: float
    stage: str
    error: str | None
    attempt: int

    @classmethod
    def from_record(cls, record: ProjectionRecord) -> ProjectionStatus:
        return cls(
            id=strawberry.ID(record.id),
            state=record.state,
            progress=record.progress,
            stage=record.stage,
            error=record.error,
            attempt=record.attempt,
        )


@strawberry.type
class Projection:
    id: strawberry.ID
    run_id: strawberry.ID
    state: str = strawberry.field(description="COMPUTING, READY or FAILED.")
    progress: float
    stage: str
    error: str | None = strawberry.field(description="Why it failed; retryProjection computes it again.")
    attempt: int
    method: ProjectionMethod
    sphereize: bool
    space: str
    run_version: int = strawberry.field(description="The run version whose rows were projected.")
    point_count: int
    selected: bool = strawberry.field(description="Projected from an explicit selection of data rows.")
    source_projection_id: strawberry.ID | None
    requested_at: datetime
    updated_at: datetime
    # The run version the colouring columns read (the run shown), and the loaded points.
    shown_version: strawberry.Private[int]
    _loading: strawberry.Private[dict[str, asyncio.Task[Any]]]

    @classmethod
    def from_record(cls, record: ProjectionRecord, shown_version: int) -> Projection:
        return cls(
            id=strawberry.ID(record.id),
            run_id=strawberry.ID(record.run_id),
            state=record.state,
            progress=record.progress,
            stage=record.stage,
            error=record.error,
            attempt=record.attempt,
            method=ProjectionMethod(record.method),
            sphereize=record.sphereize,
            space=record.space,
            run_version=record.run_version,
            point_count=record.point_count,
            selected=record.selected,
            source_projection_id=None if record.source_projection_id is None else strawberry.ID(record.source_projection_id),
            requested_at=record.requested_at,
            updated_at=record.updated_at,
            shown_version=shown_version,
            _loading={},
        )

    async def _once(self, name: str, info: Info[Context, None], load: Any, *args: Any) -> Any:
        """Each read once per object, shared by the fields that need it."""
        task = self._loading.get(name)
        if task is None:
            task = self._loading[name] = asyncio.ensure_future(info.context.read(load, *args))
        return await task

    async def _points(self, info: Info[Context, None]) -> ProjectionPoints | None:
        if self.state != "READY":
            return None
        return await self._once("points", info, projector_queries(info.context).points, str(self.id))

    async def _ids(self, info: Info[Context, None]) -> list[UUID] | None:
        points = await self._points(info)
        return None if points is None else points.ids

    async def _details(self, info: Info[Context, None]) -> tuple[list[str | None], list[str | None]] | None:
        points = await self._points(info)
        if points is None:
            return None
        runs = info.context.read_models.runs
        return await self._once("details", info, runs.run_row_details, str(self.run_id), self.shown_version, points.row_ids)

    @strawberry.field(description="Global key per point (null until READY).")
    async def global_keys(self, info: Info[Context, None]) -> list[str] | None:
        details = await self._details(info)
        return None if details is None else [k or "" for k in details[0]]

    @strawberry.field(description="Data row id per point.")
    async def data_row_ids(self, info: Info[Context, None]) -> list[strawberry.ID] | None:
        ids = await self._ids(info)
        return None if ids is None else [strawberry.ID(str(i)) for i in ids]

    @strawberry.field(description="Data row ids packed: base64 of 16 bytes (the UUID) per point.")
    async def data_row_ids_packed(self, info: Info[Context, None]) -> str | None:
        points = await self._points(info)
        return None if points is None else b64(points.row_ids)

    @strawberry.field
    async def x(self, info: Info[Context, None]) -> list[float] | None:
        points = await self._points(info)
        return None if points is None else points.xy[:, 0].astype(np.float64).tolist()

    @strawberry.field
    async def y(self, info: Info[Context, None]) -> list[float] | None:
        points = await self._points(info)
        return None if points is None else points.xy[:, 1].astype(np.float64).tolist()

    @strawberry.field(description="base64 of float32 little-endian x0, y0, x1, y1, ... in point order.")
    async def xy(self, info: Info[Context, None]) -> str | None:
        points = await self._points(info)
        return None if points is None else pack_xy(points.xy)

    @strawberry.field(description="Each point's split in the run version shown (null: no longer in the run).")
    async def splits(self, info: Info[Context, None]) -> PointColumn | None:
        details = await self._details(info)
        return None if details is None else PointColumn.of_categories(details[1])

    @strawberry.field(description="Each point's current value of a metadata field.")
    async def metadata(self, info: Info[Context, None], key: str) -> PointColumn | None:
        ids = await self._ids(info)
        if ids is None:
            return None
        values = await info.context.read(info.context.read_models.catalog.metadata_values, ids, key)
        return PointColumn.of_values(values)

    @strawberry.field(description="Per feature, the points whose row has a label (or prediction) of it.")
    async def features(
        self, info: Info[Context, None], source: AnnotationSource = AnnotationSource.LABELS
    ) -> list[FeaturePoints] | None:
        ids = await self._ids(info)
        if ids is None:
            return None
        runs = info.context.read_models.runs
        found = await info.context.read(runs.features_present, str(self.run_id), self.shown_version, ids, source.value)
        return [FeaturePoints(feature=name, count=len(points), points=pack_indexes(points)) for name, points in found.items()]

    @strawberry.field(description="Each point's value of a metric at a grid point of the run version shown (NaN: none).")
    async def metric(
        self, info: Info[Context, None], name: str, confidence: float, iou: float, feature: str | None = None
    ) -> PointColumn | None:
        ids = await self._ids(info)
        if ids is None:
            return None
        from projections.projector.metric_colouring import metric_per_point

        metrics = info.context.read_models.metrics
        values = await info.context.read(
            metric_per_point, metrics, str(self.run_id), ids, name, feature, confidence, iou, self.shown_version
        )
        return PointColumn(kind="NUMBER", values=b64(values.astype("<f4").tobytes()))
