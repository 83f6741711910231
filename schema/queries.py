"""The Query type: entry points to datasets, models and model runs."""

from __future__ import annotations

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from domain.run_config import CONFIG_TEMPLATE
from projections.records import DatasetRecord, ModelRecord, ModelRunRecord
from schema.api_key_queries import ApiKeyQueries
from schema.context import Context
from schema.embedding_space_queries import EmbeddingSpaceQueries
from schema.ids import try_parse_id
from schema.pagination import Connection, connection
from schema.run_comparison_queries import RunComparisonQueries
from schema.types.dataset import Dataset
from schema.types.model import Model
from schema.types.model_run import ModelRun
from schema.types.node import Node
from schema.types.viewer import Viewer


@strawberry.type
class Query(EmbeddingSpaceQueries, RunComparisonQueries, ApiKeyQueries):
    @strawberry.field(description="Any object by its id.")
    async def node(self, info: Info[Context, None], id: strawberry.ID) -> Node | None:  # noqa: A002
        if try_parse_id(id) is None:
            return None
        read_models = info.context.read_models

        def look_up() -> DatasetRecord | ModelRecord | ModelRunRecord | None:
            # Ids are UUIDs unique across kinds: at most one of these finds it.
            return read_models.model_run(str(id)) or read_models.dataset(str(id)) or read_models.model(str(id))

        record = await info.context.read(look_up)
        if isinstance(record, ModelRunRecord):
            return ModelRun.from_record(record)
        if isinstance(record, DatasetRecord):
            return Dataset.from_record(record)
        if isinstance(record, ModelRecord):
            return Model.from_record(record)
        return None

    @strawberry.field(description="Live datasets, oldest first.")
    async def datasets(
        self, info: Info[Context, None], first: int | None = None, after: str | None = None
    ) -> Connection[Dataset]:
        ctx = info.context
        page = await ctx.read(ctx.read_models.datasets, first=ctx.page_size(first), after=after)
        return connection(page, Dataset.from_record, after)

    @strawberry.field
    async def dataset(self, info: Info[Context, None], id: strawberry.ID) -> Dataset | None:  # noqa: A002
        ctx = info.context
        record = await ctx.read(ctx.read_models.dataset, str(id)) if try_parse_id(id) else None
        return Dataset.from_record(record) if record is not None else None

    @strawberry.field(description="Live models, oldest first.")
    async def models(
        self, info: Info[Context, None], first: int | None = None, after: str | None = None
    ) -> Connection[Model]:
        ctx = info.context
        page = await ctx.read(ctx.read_models.models, first=ctx.page_size(first), after=after)
        return connection(page, Model.from_record, after)

    @strawberry.field
    async def model(self, info: Info[Context, None], id: strawberry.ID) -> Model | None:  # noqa: A002
        ctx = info.context
        record = await ctx.read(ctx.read_models.model, str(id)) if try_parse_id(id) else None
        return Model.from_record(record) if record is not None else None

    @strawberry.field(description="A model run; with `version`, the run as it was at that version.")
    async def model_run(
        self,
        info: Info[Context, None],
        id: strawberry.ID,  # noqa: A002
        version: int | None = None,
    ) -> ModelRun | None:
        ctx = info.context
        if try_parse_id(id) is None or (version is not None and version < 1):
            return None
        record = await ctx.read(ctx.read_models.model_run, str(id), version=version)
        return ModelRun.from_record(record) if record is not None else None

    @strawberry.field(description="The API key of this request: its name and whether it may write.")
    def viewer(self, info: Info[Context, None]) -> Viewer | None:
        key = info.context.api_key
        return Viewer.from_key(key) if key is not None else None

    @strawberry.field(description="Common hyperparameters, all unset: a config to start from.")
    def model_run_config_template(self) -> JSON:
        return dict(CONFIG_TEMPLATE)
