"""Mutations on a model run's identity and rows. Predictions arrive in bulk over
POST /upload/model-runs/{id}/predictions; the config and metric settings are in
run_config_mutations.py."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from application import SplitSpec
from domain.errors import ValidationFailed
from domain.model_runs import ModelRun as ModelRunAggregate
from schema.context import Context
from schema.errors import UserError
from schema.ids import parse_id
from schema.mutations.results import result_union
from schema.types.data_row import Split
from schema.types.model_run import ModelRun


@strawberry.input(description="Put one data row (by id or global key) in a split.")
class SplitAssignmentInput:
    data_row: str
    split: Split


@strawberry.input(
    description="Either ratios with a seed (the same seed gives each row the same split) or "
    "explicit assignments; rows the ratios leave over, or not assigned, are UNASSIGNED. In an "
    "upsert, a row the run already holds keeps its split unless an assignment names another."
)
class SplitsInput:
    train: float = 0.0
    validate: float = 0.0
    test: float = 0.0
    seed: int = 0
    assignments: list[SplitAssignmentInput] | None = None

    def spec(self) -> SplitSpec:
        assignments = {a.data_row: a.split.value for a in self.assignments or []}
        return SplitSpec(self.train, self.validate, self.test, self.seed, assignments)


def split_spec(splits: SplitsInput | None) -> SplitSpec | None:
    return None if splits is None else splits.spec()


@strawberry.input(description="Without dataRowIds and globalKeys, every row of the dataset is taken.")
class CreateModelRunInput:
    model_id: strawberry.ID
    name: str
    dataset_id: strawberry.ID | None = None
    global_keys: list[str] | None = None
    data_row_ids: list[strawberry.ID] | None = None
    splits: SplitsInput | None = None


@strawberry.input(
    description="Take rows' current labels into the run; new rows are added. A row the run "
    "already holds keeps its split unless `splits.assignments` names another; ratios place new rows only."
)
class UpsertModelRunRowsInput:
    run_id: strawberry.ID
    dataset_id: strawberry.ID
    global_keys: list[str] | None = None
    data_row_ids: list[strawberry.ID] | None = None
    splits: SplitsInput | None = None
    expected_version: int | None = None


@strawberry.input
class ReassignSplitsInput:
    run_id: strawberry.ID
    assignments: list[SplitAssignmentInput]
    expected_version: int | None = None


@strawberry.input
class RemoveModelRunRowsInput:
    run_id: strawberry.ID
    data_rows: list[str] = strawberry.field(description="Data row ids or global keys.")
    expected_version: int | None = None


@strawberry.input
class RenameModelRunInput:
    run_id: strawberry.ID
    name: str
    expected_version: int | None = None


@strawberry.input
class DeleteModelRunInput:
    run_id: strawberry.ID
    expected_version: int | None = None


@strawberry.type
class ModelRunPayload:
    model_run: ModelRun
    version: int

    @classmethod
    def of(cls, run: ModelRunAggregate) -> ModelRunPayload:
        shown = ModelRun.from_aggregate(run)
        return cls(model_run=shown, version=shown.version)


@strawberry.type
class CreateModelRunPayload(ModelRunPayload):
    pass


@strawberry.type
class UpsertModelRunRowsPayload(ModelRunPayload):
    pass


@strawberry.type
class ReassignSplitsPayload(ModelRunPayload):
    pass


@strawberry.type
class RemoveModelRunRowsPayload(ModelRunPayload):
    pass


@strawberry.type
class RenameModelRunPayload(ModelRunPayload):
    pass


@strawberry.type
class DeleteModelRunPayload(ModelRunPayload):
    pass


CreateModelRunResult = result_union("CreateModelRunResult", CreateModelRunPayload)
UpsertModelRunRowsResult = result_union("UpsertModelRunRowsResult", UpsertModelRunRowsPayload)
ReassignSplitsResult = result_union("ReassignSplitsResult", ReassignSplitsPayload)
RemoveModelRunRowsResult = result_union("RemoveModelRunRowsResult", RemoveModelRunRowsPayload)
RenameModelRunResult = result_union("RenameModelRunResult", RenameModelRunPayload)
DeleteModelRunResult = result_union("DeleteModelRunResult", DeleteModelRunPayload)


@strawberry.type
class ModelRunMutations:
    @strawberry.mutation(description="A new run: a versioned snapshot of data rows, their labels and splits.")
    async def create_model_run(self, info: Info[Context, None], input: CreateModelRunInput) -> CreateModelRunResult:  # noqa: A002
        app = info.context.app

        def create(actor: str) -> ModelRunAggregate:
            if input.dataset_id is None:
                raise ValidationFailed("datasetId is required: a model run takes its data rows from a dataset")
            return app.create_model_run(
                parse_id(input.model_id, "model"),
                input.name,
                parse_id(input.dataset_id, "dataset"),
                actor,
                data_row_ids=[str(i) for i in input.data_row_ids or []],
                global_keys=list(input.global_keys or []),
                splits=split_spec(input.splits),
            )

        done = await info.context.write(create)
        return done if isinstance(done, UserError) else CreateModelRunPayload.of(done)

    @strawberry.mutation
    async def upsert_model_run_rows(
        self, info: Info[Context, None], input: UpsertModelRunRowsInput  # noqa: A002
    ) -> UpsertModelRunRowsResult:
        app = info.context.app
        done = await info.context.write(
            lambda actor: app.upsert_run_rows(
                parse_id(input.run_id, "model run"),
                parse_id(input.dataset_id, "dataset"),
                actor,
                data_row_ids=[str(i) for i in input.data_row_ids or []],
                global_keys=list(input.global_keys or []),
                splits=split_spec(input.splits),
                expected_version=input.expected_version,
            )
        )
        return done if isinstance(done, UserError) else UpsertModelRunRowsPayload.of(done)

    @strawberry.mutation
    async def reassign_splits(self, info: Info[Context, None], input: ReassignSplitsInput) -> ReassignSplitsResult:  # noqa: A002
        app = info.context.app
        assignments = {a.data_row: a.split.value for a in input.assignments}
        done = await info.context.write(
            lambda actor: app.reassign_splits(
                parse_id(input.run_id, "model run"), assignments, actor, expected_version=input.expected_version
            )
        )
        return done if isinstance(done, UserError) else ReassignSplitsPayload.of(done)

    @strawberry.mutation
    async def remove_model_run_rows(
        self, info: Info[Context, None], input: RemoveModelRunRowsInput  # noqa: A002
    ) -> RemoveModelRunRowsResult:
        app = info.context.app
        done = await info.context.write(
            lambda actor: app.remove_run_rows(
                parse_id(input.run_id, "model run"), list(input.data_rows), actor, expected_version=input.expected_version
            )
        )
        return done if isinstance(done, UserError) else RemoveModelRunRowsPayload.of(done)

    @strawberry.mutation
    async def rename_model_run(self, info: Info[Context, None], input: RenameModelRunInput) -> RenameModelRunResult:  # noqa: A002
        app = info.context.app
        done = await info.context.write(
            lambda actor: app.rename_model_run(
                parse_id(input.run_id, "model run"), input.name, actor, expected_version=input.expected_version
            )
        )
        return done if isinstance(done, UserError) else RenameModelRunPayload.of(done)

    @strawberry.mutation(description="Delete a run (recorded; its history stays readable).")
    async def delete_model_run(self, info: Info[Context, None], input: DeleteModelRunInput) -> DeleteModelRunResult:  # noqa: A002
        app = info.context.app
        done = await info.context.write(
            lambda actor: app.delete_model_run(
                parse_id(input.run_id, "model run"), actor, expected_version=input.expected_version
            )
        )
        return done if isinstance(done, UserError) else DeleteModelRunPayload.of(done)
