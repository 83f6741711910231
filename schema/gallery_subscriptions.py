"""The `sliceMembership` subscription: a slice's members in a run now, then on each change.

A saved slice's members come from the slice membership read model, which its refresher
keeps current (projections/slice_membership); an automatic slice's are computed from the
metric results each time the read models move.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from uuid import UUID

import strawberry
from strawberry.types import Info

from domain.errors import NotFound, ValidationFailed
from domain.filter_language import AutoSliceClause
from projections.metrics.queries import MetricsOutOfSync
from schema.context import Context
from schema.ids import try_parse_id
from schema.types.slice_count import SliceMembership

# How often a subscriber looks whether the refresher stored new memberships (in memory).
_POLL_SECONDS = 0.05


@strawberry.type
class GallerySubscriptions:
    @strawberry.subscription(
        description="The members of a saved slice (`sliceId`) or an automatic one (`autoSlice`) in a "
        "run: at once, then each time they change (rows, labels, predictions, metric results, "
        "metadata or the slice's filter). `confidence` and `iou` give the grid point of metric, "
        "confusion and automatic-slice clauses; a saved slice without such clauses needs none. "
        "Nothing is sent while the run's metrics are being computed when the slice depends on them."
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
        grid = None if confidence is None or iou is None else (confidence, iou)
        if slice_id is not None:
            members = _saved_slice_members(ctx, UUID(run.id), str(slice_id), grid)
        else:
            members = _auto_slice_members(ctx, str(run_id), str(auto_slice), grid)
        async for item in members:
            yield item


async def _saved_slice_members(
    ctx: Context, run_id: UUID, slice_id: str, grid: tuple[float, float] | None
) -> AsyncGenerator[SliceMembership, None]:
    read_models = ctx.read_models
    found = await ctx.read(read_models.slices.slice, slice_id)
    if found is None:
        raise NotFound(f"slice {slice_id!r} not found")
    run = await ctx.read(read_models.model_run, str(run_id))
    if run is None or run.model_id != found.model_id:
        raise ValidationFailed(f"slice {slice_id!r} belongs to another model than run {run_id}")
    refresher = read_models.refresher
    needs_grid = await ctx.read(refresher.needs_grid, found.filter)
    if needs_grid and grid is None:
        raise ValidationFailed(f"slice {found.name!r} has metric, confusion or automatic-slice clauses: give confidence and iou")
    if not needs_grid:
        grid = None
    with refresher.watch(found.id, run_id, grid) as key:
        sent: str | None = None
        seen = -1
        while True:
            if refresher.generation != seen:
                seen = refresher.generation
                stored = await ctx.read(read_models.memberships.membership, UUID(found.id), run_id, key)
                if stored is None and await ctx.read(read_models.slices.slice, slice_id) is None:
                    raise NotFound(f"slice {slice_id!r} was deleted")
                if stored is not None and stored.error is not None:
                    raise ValidationFailed(f"slice {found.name!r}: {stored.error}")
                if stored is not None and stored.digest != sent:
                    sent = stored.digest
                    yield SliceMembership(name=found.name, count=stored.count or 0, run_version=stored.run_version)
            await asyncio.sleep(_POLL_SECONDS)


async def _auto_slice_members(
    ctx: Context, run_id: str, name: str, grid: tuple[float, float] | None
) -> AsyncGenerator[SliceMembership, None]:
    gallery = ctx.read_models.gallery
    sent: str | None = None
    ctx.feed.subscribe()
    try:
        while True:
            changed = ctx.feed.next_change()
            try:
                members = await ctx.read(gallery.membership, run_id, [AutoSliceClause(name)], grid)
            except MetricsOutOfSync:
                await changed.wait()
                continue
            if members.digest != sent:
                sent = members.digest
                yield SliceMembership(name=name, count=members.count, run_version=members.run_version)
            await changed.wait()
    finally:
        ctx.feed.unsubscribe()
