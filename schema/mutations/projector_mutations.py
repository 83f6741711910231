"""Mutations of the embedding projector: embedding spaces and vectors, projections.

Vectors also arrive in bulk over POST /upload/datasets/{id}/embeddings/{space} (NDJSON);
`uploadEmbeddings` takes the same lines as a list, for small uploads and scripts.
"""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types import Info

from application.projector_commands import ProjectionRequest
from domain.errors import NotFound, ValidationFailed
from domain.projector import Method
from domain.projector.packing import unpack_indexes
from schema.context import Context
from schema.errors import UserError
from schema.ids import parse_id
from schema.mutations.results import result_union
from schema.types.embedding_space import EmbeddingSpace
from schema.types.filters import DataRowFilter, clauses_of
from schema.types.projection import Projection, ProjectionMethod, projector_queries


@strawberry.input
class CreateEmbeddingSpaceInput:
    dataset_id: strawberry.ID
    name: str
    dimension: int


@strawberry.input(description="One data row's vector: name the row by dataRowId or globalKey.")
class EmbeddingVectorInput:
    vector: list[float]
    data_row_id: strawberry.ID | None = None
    global_key: str | None = None

    def line(self) -> dict[str, Any]:
        row: dict[str, Any] = {}
        if self.data_row_id is not None:
            row["id"] = str(self.data_row_id)
        if self.global_key is not None:
            row["globalKey"] = self.global_key
        return {"dataRow": row, "vector": self.vector}


@strawberry.input(description="A space that does not exist yet takes the dimension of the first vector.")
class UploadEmbeddingsInput:
    dataset_id: strawberry.ID
    space: str
    vectors: list[EmbeddingVectorInput]


@strawberry.input(description="Points of an earlier projection, as base64 little-endian uint32 point indexes.")
class ProjectionPointsInput:
    projection_id: strawberry.ID
    indexes: str


@strawberry.input(
    description="Project the run's rows that have a vector in `space`: all of them, the data rows "
    "`dataRowIds`, the rows `filter` selects now (at `confidence` and `iou` for metric clauses), or the "
    "points `points` chosen in an earlier projection (re-run on a selection)."
)
class RequestProjectionInput:
    run_id: strawberry.ID
    space: str
    method: ProjectionMethod = ProjectionMethod.PCA
    sphereize: bool = False
    data_row_ids: list[strawberry.ID] | None = None
    points: ProjectionPointsInput | None = None
    filter: DataRowFilter | None = None
    confidence: float | None = None
    iou: float | None = None


@strawberry.input
class RetryProjectionInput:
    run_id: strawberry.ID
    projection_id: strawberry.ID


@strawberry.type
class EmbeddingSpacePayload:
    embedding_space: EmbeddingSpace
    version: int


@strawberry.type
class UploadEmbeddingsPayload(EmbeddingSpacePayload):
    accepted: int


@strawberry.type
class ProjectionPayload:
    projection: Projection
    created: bool = strawberry.field(description="False: an identical request had made it already.")


CreateEmbeddingSpaceResult = result_union("CreateEmbeddingSpaceResult", EmbeddingSpacePayload)
UploadEmbeddingsResult = result_union("UploadEmbeddingsResult", UploadEmbeddingsPayload)
RequestProjectionResult = result_union("RequestProjectionResult", ProjectionPayload)
RetryProjectionResult = result_union("RetryProjectionResult", ProjectionPayload)


async def _space_payload(ctx: Context, dataset_id: str, name: str, accepted: int | None = None) -> Any:
    record = await ctx.read(projector_queries(ctx).embeddings.space, dataset_id, name)
    if record is None:  # recorded, but the read model has not caught up within the wait
        raise NotFound(f"embedding space {name!r} of dataset {dataset_id} is not readable yet")
    space = EmbeddingSpace.from_record(record)
    if accepted is None:
        return EmbeddingSpacePayload(embedding_space=space, version=record.version)
    return UploadEmbeddingsPayload(embedding_space=space, version=record.version, accepted=accepted)


async def _projection_payload(ctx: Context, run_id: str, projection_id: str, created: bool) -> ProjectionPayload:
    queries = projector_queries(ctx)
    record = await ctx.read(queries.projection, run_id, projection_id)
    run = await ctx.read(ctx.read_models.model_run, run_id)
    if record is None or run is None:
        raise NotFound(f"projection {projection_id} is not readable yet")
    return ProjectionPayload(projection=Projection.from_record(record, run.version), created=created)


@strawberry.type
class ProjectorMutations:
    @strawberry.mutation(description="A named embedding space of a dataset, of a fixed dimension (1 to 4096).")
    async def create_embedding_space(
        self, info: Info[Context, None], input: CreateEmbeddingSpaceInput  # noqa: A002
    ) -> CreateEmbeddingSpaceResult:
        ctx = info.context
        done = await ctx.write(
            lambda actor: ctx.app.create_embedding_space(parse_id(input.dataset_id, "dataset"), input.name, input.dimension, actor)
        )
        if isinstance(done, UserError):
            return done
        return await _space_payload(ctx, str(input.dataset_id), input.name)

    @strawberry.mutation(description="Vectors for data rows of a dataset; all or nothing, errors name the item (from 1).")
    async def upload_embeddings(
        self, info: Info[Context, None], input: UploadEmbeddingsInput  # noqa: A002
    ) -> UploadEmbeddingsResult:
        ctx = info.context
        lines = [(n, v.line()) for n, v in enumerate(input.vectors, start=1)]

        def upload(actor: str) -> int:
            _, _, count = ctx.app.upload_embeddings(parse_id(input.dataset_id, "dataset"), input.space, lines, actor)
            return count

        done = await ctx.write(upload)
        if isinstance(done, UserError):
            return done
        return await _space_payload(ctx, str(input.dataset_id), input.space, done)

    @strawberry.mutation(
        description="A 2-D projection computed in the background (status: projectionStatus); an "
        "identical request returns the existing one."
    )
    async def request_projection(
        self, info: Info[Context, None], input: RequestProjectionInput  # noqa: A002
    ) -> RequestProjectionResult:
        ctx = info.context
        queries = projector_queries(ctx)

        def request(actor: str) -> tuple[str, bool]:
            run_id = parse_id(input.run_id, "model run")
            given = [name for name, v in (("dataRowIds", input.data_row_ids), ("points", input.points),
                                          ("filter", input.filter)) if v is not None]
            if len(given) > 1:
                raise ValidationFailed(f"give one of dataRowIds, points and filter, not {' and '.join(given)}")
            selection = None if input.data_row_ids is None else [str(i) for i in input.data_row_ids]
            if input.filter is not None:
                grid = None if input.confidence is None or input.iou is None else (input.confidence, input.iou)
                selection = ctx.read_models.gallery.selected_ids(run_id, clauses_of(input.filter), grid)
            source = None
            if input.points is not None:
                source = parse_id(input.points.projection_id, "projection")
                earlier = queries.projection(run_id, source)
                if earlier is None or earlier.state != "READY":
                    raise NotFound(f"projection {source} of model run {run_id} not found, or not READY")
                ids = queries.points(source).ids
                selection = [str(ids[i]) for i in unpack_indexes(input.points.indexes, len(ids))]
            method = Method(input.method.value)
            projection, created = ctx.app.request_projection(
                ProjectionRequest(run_id, input.space, method, input.sphereize, selection, source), queries, actor
            )
            return str(projection.id), created

        done = await ctx.write(request)
        if isinstance(done, UserError):
            return done
        return await _projection_payload(ctx, str(input.run_id), done[0], done[1])

    @strawberry.mutation(description="Compute a FAILED projection again.")
    async def retry_projection(
        self, info: Info[Context, None], input: RetryProjectionInput  # noqa: A002
    ) -> RetryProjectionResult:
        ctx = info.context
        done = await ctx.write(
            lambda actor: ctx.app.retry_projection(
                parse_id(input.run_id, "model run"), parse_id(input.projection_id, "projection"), actor
            )
        )
        if isinstance(done, UserError):
            return done
        return await _projection_payload(ctx, str(input.run_id), str(input.projection_id), False)
