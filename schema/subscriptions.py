"""The Subscription type: live events of a model run (graphql-transport-ws)."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry
from strawberry.types import Info

from domain.errors import NotFound
from projections.postgres_view import encode_cursor
from projections.records import RunEventRecord
from schema.context import Context
from schema.gallery_subscriptions import GallerySubscriptions
from schema.ids import try_parse_id
from schema.metrics_subscriptions import MetricsSubscriptions
from schema.projection_subscriptions import ProjectionSubscriptions
from schema.types.run_event import RunEvent


class RunHistoryReader:
    """Reads a run's history forward from where it last stopped, by cursor."""

    def __init__(self, context: Context, run_id: str, after_version: int, page_size: int) -> None:
        self._context = context
        self._run_id = run_id
        self._page_size = page_size
        # History cursors are versions, so reading can start right after the last one sent.
        self._cursor: str | None = encode_cursor("run_history", after_version) if after_version > 0 else None

    async def new_events(self) -> list[RunEventRecord]:
        found: list[RunEventRecord] = []
        history = self._context.read_models.run_history
        while True:
            page = await self._context.read(history, self._run_id, first=self._page_size, after=self._cursor)
            found += page.items
            if page.end_cursor is not None:
                self._cursor = page.end_cursor
            if not page.has_next_page:
                return found


@strawberry.type
class Subscription(ProjectionSubscriptions, MetricsSubscriptions, GallerySubscriptions):
    @strawberry.subscription(
        description="Each new event of the run as it is recorded. With `afterVersion`, the "
        "events after that version come first (so nothing between a read and the "
        "subscription is missed); without it, events from now on."
    )
    async def model_run_events(
        self, info: Info[Context, None], run_id: strawberry.ID, after_version: int | None = None
    ) -> AsyncGenerator[RunEvent, None]:
        ctx = info.context
        run = await ctx.read(ctx.read_models.model_run, str(run_id)) if try_parse_id(run_id) else None
        if run is None:
            raise NotFound(f"model run {run_id!r} not found")
        sent = run.latest_version if after_version is None else after_version
        reader = RunHistoryReader(ctx, str(run_id), sent, ctx.limits.max_page_size)
        ctx.feed.subscribe()
        try:
            while True:
                # Taken before reading: a change that lands during the read still wakes us.
                changed = ctx.feed.next_change()
                for record in await reader.new_events():
                    if record.version > sent:
                        sent = record.version
                        yield RunEvent.from_record(str(run_id), record)
                await changed.wait()
        finally:
            ctx.feed.unsubscribe()
