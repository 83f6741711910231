"""The gallery's fields on ModelRun beyond `dataRows`: a row in detail, automatic and saved
slices counted."""

from __future__ import annotations

from enum import Enum
from typing import Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from projections.gallery.queries import DataRowDetail as DataRowDetailRecord
from projections.gallery.queries import SliceCount
from schema.context import Context
from schema.run_fields import RunFieldGroup
from schema.types.data_row import DataRow


@strawberry.type(description="A slice counted in a run: automatic (id null, named after the metric rules) or saved.")
class Slice:
    id: strawberry.ID | None
    name: str
    count: int | None = strawberry.field(
        description="Data rows of the run in the slice; null when it cannot be counted here (see `reason`)."
    )
    reason: str | None = strawberry.field(
        description="Why `count` is null: e.g. a metric clause asked for without confidence and iou."
    )
    filter: JSON = strawberry.field(description="The DataRowFilter that selects the slice's rows in `dataRows`.")

    @classmethod
    def from_record(cls, record: SliceCount) -> Slice:
        clause = {"autoSlice": record.name} if record.slice_id is None else {"slice": record.slice_id}
        return cls(
            id=None if record.slice_id is None else strawberry.ID(record.slice_id),
            name=record.name,
            count=record.count,
            reason=record.reason,
            filter={"all": [clause]},
        )


@strawberry.enum(description="What an object counts as at the grid point (docs/metrics.md §3).")
class Outcome(Enum):
    TP = "TP"
    FP = "FP"
    FN = "FN"
    INACTIVE = "INACTIVE"
    UNMATCHED = "UNMATCHED"
    CROWD = "CROWD"  # a crowd region: matched with nothing, counted apart (docs/metrics.md §9)
    IGNORED = "IGNORED"  # a prediction a crowd region covers by more than the IoU threshold


@strawberry.type(description="An annotation or prediction of the row at the grid point. A cross-feature pair "
                 "is FN for its annotation and FP for its prediction; `partner` is the index of the object "
                 "paired with it on the other side.")
class ObjectOutcome:
    index: int
    feature: str
    confidence: float | None
    outcome: Outcome
    partner: int | None
    partner_feature: str | None
    iou: float | None


@strawberry.type
class RowCustomMetric:
    name: str
    feature: str | None
    value: float | None


@strawberry.type(description="One data row with each object's match at a grid point, and its custom metrics.")
class DataRowDetail:
    data_row: DataRow
    annotations: list[ObjectOutcome]
    predictions: list[ObjectOutcome]
    custom_metrics: list[RowCustomMetric]

    @classmethod
    def from_record(cls, record: DataRowDetailRecord) -> DataRowDetail:
        def objects(items: list[Any]) -> list[ObjectOutcome]:
            return [ObjectOutcome(**{**vars_of(o), "outcome": Outcome(o.outcome)}) for o in items]

        return cls(
            data_row=DataRow.from_run_row(record.row),
            annotations=objects(record.outcomes.annotations),
            predictions=objects(record.outcomes.predictions),
            custom_metrics=[RowCustomMetric(name=c.name, feature=c.feature, value=c.value) for c in record.custom],
        )


def vars_of(item: Any) -> dict[str, Any]:
    return {name: getattr(item, name) for name in item.__slots__}


@strawberry.type
class ModelRunGalleryFields(RunFieldGroup):
    @strawberry.field(
        description="The automatic slices at a grid point: True positive, False positive, False negative, "
        "True negative, Low precision, Low recall, Low F1, Low confidence, Candidate mislabels. Select one's "
        "rows with the filter clause `autoSlice`."
    )
    async def auto_slices(self, info: Info[Context, None], confidence: float, iou: float) -> list[Slice]:
        ctx = info.context
        counts = await ctx.read(ctx.read_models.gallery.auto_slices, self.run_at(), confidence, iou)
        return [Slice.from_record(c) for c in counts]

    @strawberry.field(description="One data row of the run with its objects' outcomes at a grid point.")
    async def data_row_detail(
        self, info: Info[Context, None], id: strawberry.ID, confidence: float, iou: float  # noqa: A002
    ) -> DataRowDetail:
        ctx = info.context
        record = await ctx.read(ctx.read_models.gallery.row_detail, self.run_at(), str(id), confidence, iou)
        return DataRowDetail.from_record(record)

    @strawberry.field(
        description="The model's saved slices, each counted in this run (metric clauses at `confidence` and `iou`)."
    )
    async def slices(
        self, info: Info[Context, None], confidence: float | None = None, iou: float | None = None
    ) -> list[Slice]:
        ctx = info.context
        grid = None if confidence is None or iou is None else (confidence, iou)
        counts = await ctx.read(ctx.read_models.gallery.saved_slice_counts, self.run_at(), grid)
        return [Slice.from_record(c) for c in counts]
