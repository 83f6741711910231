"""Mutations on a model run's config and metric settings; each edit that changes something
is a new run version (one that changes nothing records nothing and answers the current one).

Pass `expectedVersion` (the version the edit is based on) to be told CONFLICT instead of
overwriting a concurrent edit; without it the edit applies to whatever is current.
"""

from __future__ import annotations

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from schema.context import Context
from schema.errors import UserError
from schema.ids import parse_id
from schema.mutations.model_run_mutations import ModelRunPayload
from schema.mutations.results import result_union


@strawberry.input(description="Replace the config with this JSON object.")
class UpdateModelRunConfigInput:
    run_id: strawberry.ID
    config: JSON
    expected_version: int | None = None


@strawberry.input(description="Reset the config to the template (common hyperparameters, unset).")
class ResetModelRunConfigInput:
    run_id: strawberry.ID
    expected_version: int | None = None


@strawberry.input(description="Copy another run's current config into this run.")
class CopyModelRunConfigInput:
    run_id: strawberry.ID
    source_run_id: strawberry.ID
    expected_version: int | None = None


@strawberry.input(
    description="Settings left out (null) stay as they are; if none changes, no version is recorded."
)
class SetMetricSettingsInput:
    run_id: strawberry.ID
    confidence_thresholds: list[float] | None = None
    iou_thresholds: list[float] | None = None
    point_radius: float | None = None
    low_precision: float | None = None
    low_recall: float | None = None
    low_f1: float | None = None
    low_confidence: float | None = None
    mislabel_confidence: float | None = None
    expected_version: int | None = None


@strawberry.type
class UpdateModelRunConfigPayload(ModelRunPayload):
    pass


@strawberry.type
class ResetModelRunConfigPayload(ModelRunPayload):
    pass


@strawberry.type
class CopyModelRunConfigPayload(ModelRunPayload):
    pass


@strawberry.type
class SetMetricSettingsPayload(ModelRunPayload):
    pass


UpdateModelRunConfigResult = result_union("UpdateModelRunConfigResult", UpdateModelRunConfigPayload)
ResetModelRunConfigResult = result_union("ResetModelRunConfigResult", ResetModelRunConfigPayload)
CopyModelRunConfigResult = result_union("CopyModelRunConfigResult", CopyModelRunConfigPayload)
SetMetricSettingsResult = result_union("SetMetricSettingsResult", SetMetricSettingsPayload)


@strawberry.type
class RunConfigMutations:
    @strawberry.mutation
    async def update_model_run_config(
        self, info: Info[Context, None], input: UpdateModelRunConfigInput  # noqa: A002
    ) -> UpdateModelRunConfigResult:
        app = info.context.app
        done = await info.context.write(
            lambda actor: app.update_config(
                parse_id(input.run_id, "model run"), input.config, actor, expected_version=input.expected_version
            )
        )
        return done if isinstance(done, UserError) else UpdateModelRunConfigPayload.of(done)

    @strawberry.mutation
    async def reset_model_run_config(
        self, info: Info[Context, None], input: ResetModelRunConfigInput  # noqa: A002
    ) -> ResetModelRunConfigResult:
        app = info.context.app
        done = await info.context.write(
            lambda actor: app.reset_config(
                parse_id(input.run_id, "model run"), actor, expected_version=input.expected_version
            )
        )
        return done if isinstance(done, UserError) else ResetModelRunConfigPayload.of(done)

    @strawberry.mutation
    async def copy_model_run_config(
        self, info: Info[Context, None], input: CopyModelRunConfigInput  # noqa: A002
    ) -> CopyModelRunConfigResult:
        app = info.context.app
        done = await info.context.write(
            lambda actor: app.copy_config(
                parse_id(input.run_id, "model run"),
                parse_id(input.source_run_id, "model run"),
                actor,
                expected_version=input.expected_version,
            )
        )
        return done if isinstance(done, UserError) else CopyModelRunConfigPayload.of(done)

    @strawberry.mutation(description="Change the thresholds and bounds the run's metrics use.")
    async def set_metric_settings(
        self, info: Info[Context, None], input: SetMetricSettingsInput  # noqa: A002
    ) -> SetMetricSettingsResult:
        app = info.context.app
        changes = {
            "confidence_thresholds": input.confidence_thresholds,
            "iou_thresholds": input.iou_thresholds,
            "point_radius": input.point_radius,
            "low_precision": input.low_precision,
            "low_recall": input.low_recall,
            "low_f1": input.low_f1,
            "low_confidence": input.low_confidence,
            "mislabel_confidence": input.mislabel_confidence,
        }
        done = await info.context.write(
            lambda actor: app.set_metric_settings(
                parse_id(input.run_id, "model run"), actor, expected_version=input.expected_version, **changes
            )
        )
        return done if isinstance(done, UserError) else SetMetricSettingsPayload.of(done)
