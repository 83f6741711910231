"""Wakes subscribers of run events when the read models have taken in new events.

Why a short poll and not LISTEN/NOTIFY: a subscriber pushes events from the run's history
read model, so what matters is not that an event was written but that the projection has
taken it in; the read models offer exactly that wait. One background task per process
asks the event store for its highest notification id (an index-only query) a few times a
second while anyone is subscribed, waits for the read models to reach it, then wakes every
subscriber, who reads its run's history after the last version it sent. The cost is one
small query per tick per process whatever the number of subscribers, no connection held
open per process to LISTEN on (and re-LISTEN after a drop), and ~poll-interval latency.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

import anyio.to_thread

if TYPE_CHECKING:
    from runtime import Runtime

log = logging.getLogger(__name__)


class RunEventFeed:
    def __init__(self, runtime: Runtime, poll_seconds: float = 0.2, wait_seconds: float = 10.0) -> None:
        self._runtime = runtime
        self._poll_seconds = poll_seconds
        self._wait_seconds = wait_seconds
        self._changed = asyncio.Event()
        self._subscribers = 0
        self._task: asyncio.Task[None] | None = None
        self._seen = 0

    def subscribe(self) -> None:
        self._subscribers += 1
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._watch(), name="run-event-feed")

    def unsubscribe(self) -> None:
        self._subscribers -= 1
        if self._subscribers <= 0 and self._task is not None:
            self._task.cancel()
            self._task = None

    def next_change(self) -> asyncio.Event:
        """The event set at the next change. Take it BEFORE reading, so no change is missed
        between the read and the wait."""
        return self._changed

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _watch(self) -> None:
        while True:
            try:
                latest = await anyio.to_thread.run_sync(self._caught_up_position)
            except Exception:  # noqa: BLE001 (a lost database connection must not end the feed)
                log.exception("run event feed: reading the event log failed; retrying")
                latest = self._seen
            if latest > self._seen:
                self._seen = latest
                changed, self._changed = self._changed, asyncio.Event()
                changed.set()
            await asyncio.sleep(self._poll_seconds)

    def _caught_up_position(self) -> int:
        """The event log's end, once the read models have reached it (else what was seen)."""
        latest = self._runtime.app.recorder.max_notification_id() or 0
        if latest > self._seen:
            try:
                self._runtime.read_models.wait(latest, self._wait_seconds)
            except TimeoutError:
                return self._seen
        return latest
