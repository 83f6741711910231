"""The gallery's fields on ModelRun beyond `dataRows`: a row in detail, automatic and saved
slices counted."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from schema.context import Context
from schema.types.data_row_detail import DataRowDetail
from schema.types.model_run_fields import RunFieldGroup
from schema.types.slice_count import Slice


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
