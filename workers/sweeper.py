"""Re-enqueues every computation the event log says was requested and not finished.

The sweeper follows the log's computation events (requests, chunk completions, outcomes,
retries) from the start, so it knows every open computation and its missing chunks
whatever happened to the queue. It enqueues a computation's missing chunks when it is
requested or retried, and again whenever it has made no progress for `stale_seconds` (a
message lost with a Redis restart, a worker killed mid-chunk). Duplicates are harmless:
the actor is idempotent, but they cost a computation each, so with several processes on
one database (servers, `modelledger worker`s) only the one holding the sweeper's lease
enqueues (`lease`); the others follow the log, ready to take over when it goes.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from time import monotonic
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic

from domain.computations import Computation

log = logging.getLogger(__name__)

Enqueue = Callable[[UUID, int, int], None]
TOPICS = [
    get_topic(cls)
    for cls in (
        Computation.Requested,
        Computation.ChunkCompleted,
        Computation.Completed,
        Computation.Failed,
        Computation.Retried,
    )
]
BATCH = 1_000


@dataclass
class OpenComputation:
    notification_id: int  # of its request: what the work waits for the read models to reach
    chunks: int
    done: set[int] = field(default_factory=set)
    due: bool = True  # to enqueue at the next step
    last_activity: float = 0.0

    def pending(self) -> list[int]:
        return [i for i in range(self.chunks) if i not in self.done]


class Sweeper:
    def __init__(
        self,
        app: Any,
        enqueue: Enqueue,
        poll_seconds: float = 0.5,
        stale_seconds: float = 60.0,
        clock: Callable[[], float] = monotonic,
        lease: Callable[[], bool] = lambda: True,
    ) -> None:
        self._app = app
        self._lease = lease
        self._enqueue = enqueue
        self.poll_seconds = poll_seconds
        self.stale_seconds = stale_seconds
        self._clock = clock
        self._position = 0
        self.open: dict[UUID, OpenComputation] = {}
        self._failed: dict[UUID, OpenComputation] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._failing = False

    # -- one pass ------------------------------------------------------------------------

    def step(self) -> int:
        """Read the log's new computation events, then enqueue what is due. Returns the
        number of messages sent."""
        self._follow_log()
        if not self._lease():
            return 0  # another process enqueues; what is open stays due for a take-over
        now = self._clock()
        sent = 0
        for computation_id, item in list(self.open.items()):
            if not item.due and now - item.last_activity < self.stale_seconds:
                continue
            for chunk in item.pending():
                self._enqueue(computation_id, chunk, item.notification_id)
                sent += 1
            item.due = False
            item.last_activity = now
        return sent

    def _follow_log(self) -> None:
        recorder, mapper = self._app.recorder, self._app.mapper
        while True:
            notifications = recorder.select_notifications(
                start=self._position, limit=BATCH, topics=TOPICS, inclusive_of_start=False
            )
            for notification in notifications:
                self._apply(mapper.to_domain_event(notification), notification.id)
                self._position = notification.id
            if len(notifications) < BATCH:
                return

    def _apply(self, event: Any, notification_id: int) -> None:
        computation_id = event.originator_id
        now = self._clock()
        if isinstance(event, Computation.Requested):
            self.open[computation_id] = OpenComputation(notification_id, event.chunks, last_activity=now)
        elif isinstance(event, Computation.ChunkCompleted):
            item = self.open.get(computation_id) or self._failed.get(computation_id)
            if item is not None:
                item.done.add(event.chunk)
                item.last_activity = now
        elif isinstance(event, Computation.Completed):
            self.open.pop(computation_id, None)
            self._failed.pop(computation_id, None)
        elif isinstance(event, Computation.Failed):
            item = self.open.pop(computation_id, None)
            if item is not None:
                self._failed[computation_id] = item
        elif isinstance(event, Computation.Retried):
            item = self._failed.pop(computation_id, None)
            if item is not None:
                item.due = True
                self.open[computation_id] = item

    # -- in the background ---------------------------------------------------------------

    def start(self) -> Sweeper:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="computation-sweeper", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.step()
                if self._failing:
                    log.info("sweeper: enqueuing works again")
                self._failing = False
            except Exception:  # noqa: BLE001 (a lost broker or database must not end the sweeper)
                if not self._failing:
                    log.exception("sweeper: a pass failed; retrying every %.1f s", self.poll_seconds)
                self._failing = True
            self._stop.wait(self.poll_seconds)
