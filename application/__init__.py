"""Commands: the event-sourced application that loads, validates, mutates and saves."""

from __future__ import annotations

from application.api_key_commands import ApiKeyCommands
from application.dataset_commands import DatasetCommands
from application.embedding_commands import EmbeddingCommands
from application.metric_commands import MetricCommands
from application.model_commands import ModelCommands
from application.model_run_commands import CustomMetricCommands, ModelRunCommands, SplitSpec
from application.projector_commands import ProjectorCommands
from application.slice_commands import SliceCommands


class ModelLedger(
    DatasetCommands, ModelCommands, ModelRunCommands, CustomMetricCommands, ApiKeyCommands, MetricCommands,
    EmbeddingCommands, ProjectorCommands, SliceCommands,
):
    """Every command of the product, one mixin per kind of aggregate."""


__all__ = ["ModelLedger", "SplitSpec"]
