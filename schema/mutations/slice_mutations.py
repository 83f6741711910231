"""Mutations on a model's saved slices.

The filter is a DataRowFilter; it is checked against the model's ontology and slices and
stored as JSON in normal form (the form `SavedSlice.filter` gives back). Pass `expectedVersion` to be told
CONFLICT instead of overwriting a concurrent edit.
"""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from domain.slices import Slice
from schema.context import Context
from schema.errors import UserError
from schema.ids import parse_id
from schema.mutations.results import result_union
from schema.types.filters import DataRowFilter, filter_json
from schema.types.slice import SavedSlice


@strawberry.input(description="Save a filter under a name (3 to 60 characters, unique in the model).")
class CreateSliceInput:
    model_id: strawberry.ID
    name: str
    filter: DataRowFilter


@strawberry.input
class RenameSliceInput:
    slice_id: strawberry.ID
    name: str
    expected_version: int | None = None


@strawberry.input(description="Replace the slice's filter.")
class UpdateSliceFilterInput:
    slice_id: strawberry.ID
    filter: DataRowFilter
    expected_version: int | None = None


@strawberry.input(description="Delete a slice (recorded; its name is free again).")
class DeleteSliceInput:
    slice_id: strawberry.ID
    expected_version: int | None = None


@strawberry.type
class SlicePayload:
    slice: SavedSlice
    version: int

    @classmethod
    def of(cls, item: Slice) -> SlicePayload:
        return cls(slice=SavedSlice.from_aggregate(item), version=item.version)


@strawberry.type
class CreateSlicePayload(SlicePayload):
    pass


@strawberry.type
class RenameSlicePayload(SlicePayload):
    pass


@strawberry.type
class UpdateSliceFilterPayload(SlicePayload):
    pass


@strawberry.type
class DeleteSlicePayload(SlicePayload):
    pass


CreateSliceResult = result_union("CreateSliceResult", CreateSlicePayload)
RenameSliceResult = result_union("RenameSliceResult", RenameSlicePayload)
UpdateSliceFilterResult = result_union("UpdateSliceFilterResult", UpdateSliceFilterPayload)
DeleteSliceResult = result_union("DeleteSliceResult", DeleteSlicePayload)


@strawberry.type
class SliceMutations:
    @strawberry.mutation(description="Save a data row filter of a model as a named slice.")
    async def create_slice(self, info: Info[Context, None], input: CreateSliceInput) -> CreateSliceResult:  # noqa: A002
        app = info.context.app
        done = await info.context.write(
            lambda actor: app.create_slice(parse_id(input.model_id, "model"), input.name, filter_json(input.filter), actor)
        )
        return done if isinstance(done, UserError) else CreateSlicePayload.of(done)

    @strawberry.mutation
    async def rename_slice(self, info: Info[Context, None], input: RenameSliceInput) -> RenameSliceResult:  # noqa: A002
        app = info.context.app
        done = await info.context.write(
            lambda actor: app.rename_slice(
                parse_id(input.slice_id, "slice"), input.name, actor, expected_version=input.expected_version
            )
        )
        return done if isinstance(done, UserError) else RenameSlicePayload.of(done)

    @strawberry.mutation
    async def update_slice_filter(
        self, info: Info[Context, None], input: UpdateSliceFilterInput  # noqa: A002
    ) -> UpdateSliceFilterResult:
        app = info.context.app
        done = await info.context.write(
            lambda actor: app.update_slice_filter(
                parse_id(input.slice_id, "slice"), filter_json(input.filter), actor, expected_version=input.expected_version
            )
        )
        return done if isinstance(done, UserError) else UpdateSliceFilterPayload.of(done)

    @strawberry.mutation
    async def delete_slice(self, info: Info[Context, None], input: DeleteSliceInput) -> DeleteSliceResult:  # noqa: A002
        app = info.context.app
        done = await info.context.write(
            lambda actor: app.delete_slice(
                parse_id(input.slice_id, "slice"), actor, expected_version=input.expected_version
            )
        )
        return done if isinstance(done, UserError) else DeleteSlicePayload.of(done)
