"""The event log as projection runners follow it: upload chunks decoded on first use.

Every projection subscribed to upload chunks receives every chunk event, and most ignore
most of them (the catalog ignores prediction chunks, the model runs ignore data-row
chunks). Decoding a chunk (decompressing and parsing a ~200 KB payload) costs about as
much as some projections' whole work on it, and every runner's thread would pay it under
one interpreter lock. So runners follow the application through a mapper that gives
chunk events whose state is decoded only when a projection reads an attribute beyond
the originator's id and version; a projection that looks the upload up and ignores it
never pays.

Nor do they read it: a chunk's state is not even selected with the log's other columns
(PostgreSQL then leaves its TOASTed value alone); the one projection that decodes a chunk
reads that chunk's state by its position then. Measured at 20,000 vectors of 512 floats
(329 events, 53 MB of chunk states), each runner read the log in 275-342 ms with the states
and 2 ms without, and nine runners read it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any
from uuid import UUID

from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import (
    Mapper,
    Notification,
    StoredEvent,
    Subscription,
    find_id_convertor,
    get_topic,
)
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.utils import retry
from psycopg import InterfaceError, OperationalError
from psycopg.sql import SQL, Composed, Identifier

from domain.uploads import Upload
from projections.log_listener import SharedListenSubscription
from storage.event_log import EventLog


class LazyChunkAdded(Upload.ChunkAdded):
    """An Upload.ChunkAdded whose other attributes are decoded when first read."""

    def __getattr__(self, name: str) -> Any:
        # Called only for attributes not (yet) in the instance's dict.
        state = self.__dict__
        decode: Callable[[], dict[str, Any]] | None = state.pop("_decode", None)
        if decode is None or name.startswith("__"):
            raise AttributeError(name)
        state.update(decode())
        try:
            return state[name]
        except KeyError:
            raise AttributeError(name) from None


_CHUNK_TOPIC = get_topic(Upload.ChunkAdded)


class DeferredNotification(Notification):
    """A chunk event read without its state (empty here): `FollowingRecorder.chunk_state`
    gives it."""


def _notification(row: Any) -> Notification:
    """A selected event; a chunk's, read without its state, as a DeferredNotification."""
    deferred = row["state"] is None
    return (DeferredNotification if deferred else Notification)(
        id=row["notification_id"],
        originator_id=row["originator_id"],
        originator_version=row["originator_version"],
        topic=row["topic"],
        state=b"" if deferred else bytes(row["state"]),
    )


class FollowingRecorder(PostgresApplicationRecorder):
    """The log's recorder as the read models' runners use it: subscriptions share the
    process's listener (projections.log_listener), and chunk events come without their
    state, which `chunk_state` reads when a projection decodes one."""

    def subscribe(self, gt: int | None = None, topics: Sequence[str] = ()) -> Subscription[Any]:
        return SharedListenSubscription(recorder=self, gt=gt, topics=topics)

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def select_notifications(
        self,
        start: int | None,
        limit: int,
        stop: int | None = None,
        topics: Sequence[str] = (),
        *,
        inclusive_of_start: bool = True,
    ) -> Sequence[Notification]:
        """The base's selection, with a chunk event's state left in the database."""
        conditions: list[Composed | SQL] = []
        params: list[Any] = [_CHUNK_TOPIC]
        if start is not None:
            conditions.append(SQL("notification_id >= %s") if inclusive_of_start else SQL("notification_id > %s"))
            params.append(start)
        if stop is not None:
            conditions.append(SQL("notification_id <= %s"))
            params.append(stop)
        if topics:
            conditions.append(SQL("topic = ANY(%s)"))
            params.append(list(topics))
        params.append(limit)
        statement = SQL(
            "SELECT notification_id, originator_id, originator_version, topic,"
            " CASE WHEN topic = %s THEN NULL ELSE state END AS state FROM {schema}.{table}{where}"
            " ORDER BY notification_id LIMIT %s"
        ).format(
            schema=Identifier(self.datastore.schema),
            table=Identifier(self.events_table_name),
            where=SQL(" WHERE ") + SQL(" AND ").join(conditions) if conditions else SQL(""),
        )
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(statement, params, prepare=True)
            return [_notification(row) for row in curs.fetchall()]

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def chunk_state(self, notification_id: int) -> bytes:
        """The stored state of the event at that position (events never change)."""
        statement = SQL("SELECT state FROM {schema}.{table} WHERE notification_id = %s").format(
            schema=Identifier(self.datastore.schema), table=Identifier(self.events_table_name)
        )
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(statement, (notification_id,), prepare=True)
            row = curs.fetchone()
        if row is None:
            raise LookupError(f"no event at position {notification_id} of the log")
        return bytes(row["state"])


class LazyChunkMapper(Mapper[UUID]):
    # Reads a deferred chunk's state (FollowingRecorder.chunk_state); set by FollowedLog.
    chunk_state: Callable[[int], bytes] | None = None

    def to_domain_event(self, stored_event: StoredEvent) -> DomainEventProtocol[UUID]:
        if stored_event.topic != _CHUNK_TOPIC:
            return super().to_domain_event(stored_event)
        event = object.__new__(LazyChunkAdded)
        convert = find_id_convertor(LazyChunkAdded, type(stored_event.originator_id))
        object.__setattr__(
            event,
            "__dict__",
            {
                "originator_id": convert(stored_event.originator_id),
                "originator_version": stored_event.originator_version,
                "_decode": lambda: vars(super(LazyChunkMapper, self).to_domain_event(self._with_state(stored_event))),
            },
        )
        return event

    def _with_state(self, stored_event: StoredEvent) -> StoredEvent:
        if not isinstance(stored_event, DeferredNotification):
            return stored_event
        if self.chunk_state is None:
            raise RuntimeError(f"event {stored_event.id} came without its state and nothing can read it")
        return replace(stored_event, state=self.chunk_state(stored_event.id))


class FollowedLog(EventLog):
    """The event log as the read models' runners read it: the same application (the same
    event tables, and tracking records under its name), without the commands."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if isinstance(self.recorder, FollowingRecorder) and isinstance(self.mapper, LazyChunkMapper):
            self.mapper.chunk_state = self.recorder.chunk_state

    def construct_mapper(self) -> Mapper[UUID]:
        mapper = super().construct_mapper()
        return LazyChunkMapper(transcoder=mapper.transcoder, compressor=mapper.compressor, cipher=mapper.cipher)
