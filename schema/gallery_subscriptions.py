"""The `sliceMembership` subscription: a slice's members in a run now, then on each change."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry
from strawberry.types import Info

from domain.errors import NotFound, ValidationFailed
from domain.filter_language import AutoSliceClause, Clause, SliceClause
from projections.metrics.queries import MetricsOutOfSync
from schema.context import Context
from schema.ids import try_parse_id


@strawberry.type(description="A slice's members in a run: how many, and at which run version.")
class SliceMembership:
    name: str
    count: int
    run_version: int


@strawberry.type
class GallerySubscriptions:
    @strawberry.subscription(
        description="The members of a saved slice (`sliceId`) or an automatic one (`autoSlice`, at "
        "`confidence` and `iou`) in a run: at once, then each time they change (rows, labels, "
        "predictions, metric results, metadata or the slice's filter). Nothing is sent while the "
        "run's metrics are being computed when the slice depends on them."
    )
    async def slice_membership(
        self,
        info: Info[Context, None],
        run_id: strawberry.ID,
        slice_id: strawberry.ID | None = None,
        auto_slice: str | None = None,
        confidence: float | None = None,
        iou: float | None = None,
    ) -> AsyncGenerator[SliceMembership, None]:
        ctx = info.context
        run = await ctx.read(ctx.read_models.model_run, str(run_id)) if try_parse_id(run_id) else None
        if run is None:
            raise NotFound(f"model run {run_id!r} not found")
        if (slice_id is None) == (auto_slice is None):
            raise ValidationFailed("give exactly one of sliceId and autoSlice")
        clause: Clause = SliceClause(str(slice_id)) if slice_id is not None else AutoSliceClause(str(auto_slice))
        name = str(auto_slice or slice_id)
        grid = None if confidence is None or iou is None else (confidence, iou)
        gallery = ctx.read_models.gallery
        sent: str | None = None
        ctx.feed.subscribe()
        try:
            while True:
                changed = ctx.feed.next_change()
                try:
                    count, digest = await ctx.read(gallery.membership, str(run_id), [clause], grid)
                except MetricsOutOfSync:
                    await changed.wait()
                    continue
                if digest != sent:
                    sent = digest
                    current = await ctx.read(ctx.read_models.model_run, str(run_id))
                    yield SliceMembership(name=name, count=count, run_version=current.version if current else 0)
                await changed.wait()
        finally:
            ctx.feed.unsubscribe()
