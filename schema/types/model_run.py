"""A model run, as of one version: the latest, or the one `modelRun(id, version)` asked for.

Its own fields are here; those of the gallery, the metrics and the projector it inherits from
schema/types/model_run_fields/ (gallery.py, metrics.py, projector.py).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import orjson
import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from domain.filter_language import SplitClause
from domain.model_runs import ModelRun as ModelRunAggregate
from projections.records import ModelRunRecord
from schema.context import Context
from schema.pagination import Connection, connection
from schema.types.data_row import DataRow, Split
from schema.types.filters import DataRowFilter, DataRowSort, clauses_of
from schema.types.metric_settings import MetricSettings
from schema.types.model_run_fields.gallery import ModelRunGalleryFields
from schema.types.model_run_fields.metrics import ModelRunMetricsFields
from schema.types.model_run_fields.projector import ModelRunProjectorFields
from schema.types.node import Node
from schema.types.run_diff import RunDiff
from schema.types.run_event import RunEvent

if TYPE_CHECKING:
    from schema.types.model import Model


@strawberry.type
class ModelRun(Node, ModelRunProjectorFields, ModelRunMetricsFields, ModelRunGalleryFields):
    id: strawberry.ID
    model_id: strawberry.ID
    name: str
    version: int = strawberry.field(description="The version shown: every field reads as of it.")
    latest_version: int
    created_at: datetime
    updated_at: datetime
    config: JSON = strawberry.field(description="Hyperparameters: booleans, strings, numbers, null.")
    metric_settings: MetricSettings
    row_count: int
    deleted: bool

    @strawberry.field(description="The config as a JSON document, to download or diff.")
    def config_json(self) -> str:
        return orjson.dumps(self.config, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode()

    @strawberry.field
    async def model(
        self, info: Info[Context, None]
    ) -> Annotated[Model, strawberry.lazy("schema.types.model")] | None:
        from schema.types.model import Model

        record = await info.context.loaders.model_by_id.load(str(self.model_id))
        return Model.from_record(record) if record is not None else None

    @strawberry.field(description="The audit trail: every event of the run, oldest first.")
    async def history(
        self, info: Info[Context, None], first: int | None = None, after: str | None = None
    ) -> Connection[RunEvent]:
        ctx = info.context
        size = ctx.page_size(first)
        page = await ctx.read(ctx.read_models.run_history, str(self.id), first=size, after=after)
        run_id = str(self.id)
        return connection(page, lambda r: RunEvent.from_record(run_id, r), after)

    @strawberry.field(
        description="What changed from `fromVersion` to `toVersion` (the same version twice: nothing). "
        "Both are versions of the run (1 to its current version) and `fromVersion` is not the later one; "
        "else the answer is a VALIDATION error naming the argument."
    )
    async def diff(self, info: Info[Context, None], from_version: int, to_version: int) -> RunDiff:
        ctx = info.context
        record = await ctx.read(ctx.read_models.run_diff, str(self.id), from_version, to_version)
        return RunDiff.from_record(record)

    @strawberry.field(
        description="The gallery: the run's data rows with their assets, labels and predictions, "
        "filtered, sorted (by id if no sort is given) and paged by keyset. `confidence` and `iou` "
        "pick the grid point of metric clauses and sorts. An older version shown answers as of that "
        "version: its rows, splits, labels and predictions, and the metrics computed from them "
        "(metadata is the catalog's current metadata)."
    )
    async def data_rows(
        self,
        info: Info[Context, None],
        filter: DataRowFilter | None = None,  # noqa: A002
        sort: list[DataRowSort] | None = None,
        confidence: float | None = None,
        iou: float | None = None,
        first: int | None = None,
        after: str | None = None,
        split: Split | None = None,
    ) -> Connection[DataRow]:
        ctx = info.context
        size = ctx.page_size(first)
        split_value = None if split is None else str(split.value)
        older = self.version != self.latest_version
        if older and filter is None and not sort and confidence is None and iou is None:
            page = await ctx.read(
                ctx.read_models.run_rows, str(self.id), version=self.version, first=size, after=after, split=split_value
            )
            return connection(page, DataRow.from_run_row, after)
        clauses = clauses_of(filter) + ([SplitClause((split_value,))] if split_value is not None else [])
        grid = None if confidence is None or iou is None else (confidence, iou)
        keys = [s.to_key() for s in sort or []]
        run = self.run_at()
        page = await ctx.read(ctx.read_models.gallery.data_rows, run, clauses, keys, grid, size, after)
        if grid is None:
            return connection(page, DataRow.from_run_row, after)
        ids = [record.id for record in page.items]
        figures = await ctx.read(ctx.read_models.metrics.row_figures, run, ids, *grid)
        return connection(page, lambda record: DataRow.from_run_row(record, figures.get(record.id)), after)

    @classmethod
    def from_record(cls, record: ModelRunRecord) -> ModelRun:
        return cls(
            id=strawberry.ID(record.id),
            model_id=strawberry.ID(record.model_id),
            name=record.name,
            version=record.version,
            latest_version=record.latest_version,
            created_at=record.created_at,
            updated_at=record.updated_at,
            config=record.config,
            metric_settings=MetricSettings.from_dict(record.metric_settings),
            row_count=record.row_count,
            deleted=record.deleted,
        )

    @classmethod
    def from_aggregate(cls, run: ModelRunAggregate) -> ModelRun:
        """The run exactly as a command left it (a payload shows its own write)."""
        return cls(
            id=strawberry.ID(str(run.id)),
            model_id=strawberry.ID(str(run.model_id)),
            name=run.name,
            version=run.version,
            latest_version=run.version,
            created_at=run.created_on,
            updated_at=run.modified_on,
            config=dict(run.config),
            metric_settings=MetricSettings.from_dict(run.metric_settings),
            row_count=run.row_count,
            deleted=run.deleted,
        )

