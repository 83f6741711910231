"""The event log as projection runners follow it: upload chunks decoded on first use.

Every projection subscribed to upload chunks receives every chunk event, and most ignore
most of them (the catalog ignores prediction chunks, the model runs ignore data-row
chunks). Decoding a chunk (decompressing and parsing a ~200 KB payload) costs about as
much as some projections' whole work on it, and every runner's thread would pay it under
one interpreter lock. So runners follow the application through a mapper that gives
chunk events whose state is decoded only when a projection reads an attribute beyond
the originator's id and version; a projection that looks the upload up and ignores it
never pays.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import Mapper, StoredEvent, find_id_convertor, get_topic

from domain.uploads import Upload
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


class LazyChunkMapper(Mapper[UUID]):
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
                "_decode": lambda: vars(super(LazyChunkMapper, self).to_domain_event(stored_event)),
            },
        )
        return event


class FollowedLog(EventLog):
    """The event log as the read models' runners read it: the same application (the same
    event tables, and tracking records under its name), without the commands."""

    def construct_mapper(self) -> Mapper[UUID]:
        mapper = super().construct_mapper()
        return LazyChunkMapper(transcoder=mapper.transcoder, compressor=mapper.compressor, cipher=mapper.cipher)
