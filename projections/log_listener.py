"""One LISTEN connection per process for every read model following the log.

eventsourcing's PostgreSQL subscription holds a connection of its own listening for the
log's NOTIFY, so nine read models kept nine connections open doing nothing but wait. Here
every subscription of a process registers with one listener per database and channel, whose
single connection wakes them all; each then reads the new events on a connection borrowed
for the read. A listener whose connection fails passes the error to its subscriptions (their
runners stop and are started again: projections.healing), as a subscription of its own would.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any, ClassVar

import psycopg
from eventsourcing.persistence import ListenNotifySubscription
from eventsourcing.postgres import PostgresApplicationRecorder
from psycopg.sql import SQL, Identifier


class LogListener:
    """Wakes every registered subscription when the log is written to."""

    _listeners: ClassVar[dict[tuple[Any, ...], LogListener]] = {}
    _listeners_lock = threading.Lock()

    def __init__(self, connect_kwargs: dict[str, Any], channel: str) -> None:
        self._connect_kwargs = connect_kwargs
        self._channel = channel
        self._subscriptions: set[SharedListenSubscription] = set()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    @classmethod
    def of(cls, recorder: PostgresApplicationRecorder) -> LogListener:
        """The process's listener of the recorder's database and channel."""
        pool = recorder.datastore.pool
        kwargs = {k: v for k, v in (pool.kwargs or {}).items() if k != "row_factory"}
        key = (tuple(sorted((k, str(v)) for k, v in kwargs.items())), recorder.channel_name)
        with cls._listeners_lock:
            listener = cls._listeners.get(key)
            if listener is None:
                listener = cls._listeners[key] = cls(kwargs, recorder.channel_name)
            return listener

    def add(self, subscription: SharedListenSubscription) -> None:
        with self._lock:
            self._subscriptions.add(subscription)
            if self._thread is None:
                self._thread = threading.Thread(target=self._listen, name="log-listener", daemon=True)
                self._thread.start()
        # A notification may have come between the subscription's first read and now.
        subscription.wake()

    def remove(self, subscription: SharedListenSubscription) -> None:
        with self._lock:
            self._subscriptions.discard(subscription)

    def _registered(self) -> list[SharedListenSubscription] | None:
        """The subscriptions to wake; None (and the thread is done) when there are none."""
        with self._lock:
            if not self._subscriptions:
                self._thread = None
                return None
            return list(self._subscriptions)

    def _listen(self) -> None:
        try:
            with psycopg.connect(**self._connect_kwargs, autocommit=True) as conn:
                conn.execute(SQL("LISTEN {0}").format(Identifier(self._channel)))
                # What was written while the subscriptions started and this one did not
                # listen yet: each reads the log once more. Then, at each notification, every
                # subscription registered by then (not those of before the wait: one added
                # meanwhile would sleep through the write).
                notified = True
                while True:
                    woken = self._registered()
                    if woken is None:
                        return
                    if notified:
                        for subscription in woken:
                            subscription.wake()
                    notified = any(True for _ in conn.notifies(timeout=0.1, stop_after=1))
        except BaseException as exc:  # noqa: BLE001 (passed to every subscription, which stops)
            with self._lock:
                failed, self._subscriptions = list(self._subscriptions), set()
                self._thread = None
            for subscription in failed:
                subscription.fail(exc)


class SharedListenSubscription(ListenNotifySubscription[PostgresApplicationRecorder]):
    """A subscription to the log woken by the process's listener (not a LISTEN of its own)."""

    def __init__(self, recorder: PostgresApplicationRecorder, gt: int | None = None, topics: Sequence[str] = ()) -> None:
        super().__init__(recorder=recorder, gt=gt, topics=topics)
        self._listener = LogListener.of(recorder)
        self._listener.add(self)

    def wake(self) -> None:
        self._has_been_notified.set()

    def has_more(self) -> bool:
        """Whether the next event is already read (taking it would not wait)."""
        return self._notifications_index < len(self._notifications) or not self._notifications_queue.empty()

    def fail(self, exc: BaseException) -> None:
        if self._thread_error is None:
            self._thread_error = exc
        self.stop()

    def __exit__(self, *args: object, **kwargs: Any) -> None:
        try:
            super().__exit__(*args, **kwargs)
        finally:
            self._listener.remove(self)
