"""Mutations on datasets. Data rows arrive in bulk over POST /upload/datasets/{id}/data-rows."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from schema.context import Context
from schema.errors import UserError
from schema.ids import parse_id
from schema.mutations.results import result_union
from schema.types.dataset import Dataset, MetadataKind


@strawberry.input
class CreateDatasetInput:
    name: str


@strawberry.input
class RenameDatasetInput:
    dataset_id: strawberry.ID
    name: str


@strawberry.input
class DeleteDatasetInput:
    dataset_id: strawberry.ID


@strawberry.input(description="A typed metadata key: STRING, NUMBER, DATETIME (ISO 8601 with a time zone) "
                  "or ENUM (one of `options`).")
class MetadataFieldInput:
    key: str
    kind: MetadataKind
    options: list[str] | None = None


@strawberry.input(description="Declare metadata keys before rows use them (undeclared keys take STRING or "
                  "NUMBER from their first value).")
class DeclareMetadataFieldsInput:
    dataset_id: strawberry.ID
    fields: list[MetadataFieldInput]


@strawberry.type
class DatasetPayload:
    dataset: Dataset
    version: int


@strawberry.type
class CreateDatasetPayload(DatasetPayload):
    pass


@strawberry.type
class RenameDatasetPayload(DatasetPayload):
    pass


@strawberry.type
class DeleteDatasetPayload(DatasetPayload):
    pass


@strawberry.type
class DeclareMetadataFieldsPayload(DatasetPayload):
    pass


CreateDatasetResult = result_union("CreateDatasetResult", CreateDatasetPayload)
RenameDatasetResult = result_union("RenameDatasetResult", RenameDatasetPayload)
DeleteDatasetResult = result_union("DeleteDatasetResult", DeleteDatasetPayload)
DeclareMetadataFieldsResult = result_union("DeclareMetadataFieldsResult", DeclareMetadataFieldsPayload)


@strawberry.type
class DatasetMutations:
    @strawberry.mutation
    async def create_dataset(self, info: Info[Context, None], input: CreateDatasetInput) -> CreateDatasetResult:  # noqa: A002
        app = info.context.app
        done = await info.context.write(lambda actor: app.create_dataset(input.name, actor))
        if isinstance(done, UserError):
            return done
        return CreateDatasetPayload(dataset=Dataset.from_aggregate(done), version=done.version)

    @strawberry.mutation
    async def rename_dataset(self, info: Info[Context, None], input: RenameDatasetInput) -> RenameDatasetResult:  # noqa: A002
        app = info.context.app
        done = await info.context.write(
            lambda actor: app.rename_dataset(parse_id(input.dataset_id, "dataset"), input.name, actor)
        )
        if isinstance(done, UserError):
            return done
        return RenameDatasetPayload(dataset=Dataset.from_aggregate(done), version=done.version)

    @strawberry.mutation(description="Delete a dataset (recorded; its history stays).")
    async def delete_dataset(self, info: Info[Context, None], input: DeleteDatasetInput) -> DeleteDatasetResult:  # noqa: A002
        app = info.context.app
        done = await info.context.write(
            lambda actor: app.delete_dataset(parse_id(input.dataset_id, "dataset"), actor)
        )
        if isinstance(done, UserError):
            return done
        return DeleteDatasetPayload(dataset=Dataset.from_aggregate(done), version=done.version)

    @strawberry.mutation(description="Declare typed metadata keys of a dataset; a key already declared must match.")
    async def declare_metadata_fields(
        self, info: Info[Context, None], input: DeclareMetadataFieldsInput  # noqa: A002
    ) -> DeclareMetadataFieldsResult:
        app = info.context.app
        fields = [{"key": f.key, "kind": f.kind.value, "options": f.options} for f in input.fields]
        done = await info.context.write(
            lambda actor: app.declare_metadata_fields(parse_id(input.dataset_id, "dataset"), fields, actor)
        )
        if isinstance(done, UserError):
            return done
        return DeclareMetadataFieldsPayload(dataset=Dataset.from_aggregate(done), version=done.version)
