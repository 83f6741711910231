"""The Mutation type: one mixin per kind of object, combined here."""

from __future__ import annotations

import strawberry

from schema.mutations.api_key_mutations import ApiKeyMutations
from schema.mutations.dataset_mutations import DatasetMutations
from schema.mutations.metric_mutations import MetricMutations
from schema.mutations.model_mutations import ModelMutations
from schema.mutations.model_run_mutations import ModelRunMutations
from schema.mutations.projector_mutations import ProjectorMutations
from schema.mutations.run_config_mutations import RunConfigMutations
from schema.mutations.slice_mutations import SliceMutations


@strawberry.type
class Mutation(
    DatasetMutations, ModelMutations, ModelRunMutations, RunConfigMutations, ProjectorMutations, MetricMutations,
    SliceMutations, ApiKeyMutations,
):
    pass
