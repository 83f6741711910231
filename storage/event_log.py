"""The event log as an eventsourcing application: its name (which names its tables), and how
values that JSON lacks are written into events. The command side (`application.LedgerCore`)
and the read models' runners (`projections.following.FollowedLog`) are both built on it, so
neither needs the other to read or write the same log."""

from __future__ import annotations

import json
import struct
from typing import Any, Final
from uuid import UUID

import pybase64
from eventsourcing.application import Application
from eventsourcing.persistence import InfrastructureFactory, JSONTranscoder, Transcoder, Transcoding
from eventsourcing.postgres import PostgresDatastore, PostgresFactory
from eventsourcing.utils import Environment

from domain.ontology import Ontology
from domain.storable import check_storable, may_be_unstorable


class BytesAsBase64(Transcoding):
    """Bytes as events recorded them before BINARY_MAGIC: base64 text in the JSON."""

    type = bytes
    name = "b64"

    def encode(self, obj: bytes) -> str:
        return pybase64.b64encode(obj).decode("ascii")

    def decode(self, data: str) -> bytes:
        return pybase64.b64decode(data)


class OntologyAsDict(Transcoding):
    """Snapshots of a model carry its ontology as plain data."""

    type = Ontology
    name = "ontology"

    def encode(self, obj: Ontology) -> dict[str, Any]:
        return obj.to_dict()

    def decode(self, data: dict[str, Any]) -> Ontology:
        return Ontology.from_dict(data)


# An event whose state holds bytes (the columns of upload chunks: vectors, row ids, boxes)
# is stored as its JSON followed by those bytes as they are, not as base64 inside the JSON:
#   magic, JSON length, n (uint32) | n byte counts (uint64) | the JSON | the n byte strings
# where the JSON holds {"_type_": "bytes_at", "_data_": i} in place of the i-th. For 100,000
# vectors of 512 floats (782 chunk events) that took encoding from 1.27 s to 0.15 s and
# decoding from 0.44 s to 0.15 s (one core; compression aside, see storage.compression).
# Events recorded before, all JSON, are read as they were (JSON starts with "{", never this).
BINARY_MAGIC: Final = b"\x01MLB"
_BINARY_HEADER: Final = struct.Struct("<4sII")
_BYTES_AT: Final = "bytes_at"
# The key a transcoded value is tagged with; an object of the events' own data with exactly
# the two keys of a tag is recorded as its items, so it is never read back as a tag.
_TAG_KEY: Final = b'"_type_":'


class _ObjectWithTagKeys:
    """A dict of the events' own data that looks like a transcoder's tag."""

    def __init__(self, items: dict[str, Any]) -> None:
        self.items = items


class ObjectWithTagKeys(Transcoding):
    type = _ObjectWithTagKeys
    name = "object_items"

    def encode(self, obj: _ObjectWithTagKeys) -> list[list[Any]]:
        return [[key, value] for key, value in obj.items.items()]

    def decode(self, data: list[list[Any]]) -> dict[str, Any]:
        return {key: value for key, value in data}


def _tags_kept(value: Any) -> Any:
    """The value with every dict holding exactly the keys "_type_" and "_data_" wrapped."""
    if isinstance(value, dict):
        copied = {key: _tags_kept(item) for key, item in value.items()}
        return _ObjectWithTagKeys(copied) if copied.keys() == {"_type_", "_data_"} else copied
    if isinstance(value, list | tuple):
        return [_tags_kept(item) for item in value]
    return value


class StorableTranscoder(JSONTranscoder):
    """Events as JSON (with their bytes after it, see BINARY_MAGIC), refusing a value the
    read models could not store (a NUL, a lone surrogate, an integer beyond 64 bits) with a
    ValidationFailed that names it, before anything is recorded. The commands refuse such
    values where they come in; this is the one place no path around them gets past, so no
    event can stop a read model for good."""

    def encode(self, obj: Any) -> bytes:
        segments: list[bytes] = []
        head, tags = self._head(obj, segments)
        if head is not None and head.count(_TAG_KEY) > tags:
            # An object of the data itself has a "_type_" key (rare): keep it from being
            # read as a tag if it has the shape of one.
            segments.clear()
            head, _ = self._head(_tags_kept(obj), segments)
        if head is None or may_be_unstorable(head):
            check_storable(obj, "")  # bytes are always storable: only the JSON is looked at
        if head is None:
            raise ValueError("an event has text that cannot be encoded as UTF-8")
        if not segments:
            return head
        counts = struct.pack(f"<{len(segments)}Q", *map(len, segments))
        return b"".join((_BINARY_HEADER.pack(BINARY_MAGIC, len(head), len(segments)), counts, head, *segments))

    def _head(self, obj: Any, segments: list[bytes]) -> tuple[bytes | None, int]:
        """The JSON of the object with its bytes set aside in `segments`, and how many tags
        it holds; None for JSON when a text has no UTF-8 encoding (a lone surrogate)."""
        tags = 0

        def tagged(value: Any) -> dict[str, Any]:
            nonlocal tags
            tags += 1
            if isinstance(value, bytes):
                segments.append(value)
                return {"_type_": _BYTES_AT, "_data_": len(segments) - 1}
            return self._encode_obj(value)

        encoder = json.JSONEncoder(default=tagged, separators=(",", ":"), ensure_ascii=False)
        try:
            return encoder.encode(obj).encode("utf8"), tags
        except UnicodeEncodeError:  # a lone surrogate has no UTF-8 encoding
            return None, tags

    def decode(self, data: bytes) -> Any:
        if data[:4] != BINARY_MAGIC:
            return super().decode(data)
        _, head_length, count = _BINARY_HEADER.unpack_from(data)
        offset = _BINARY_HEADER.size + 8 * count
        head = data[offset : offset + head_length]
        offset += head_length
        segments: list[bytes] = []
        for length in struct.unpack_from(f"<{count}Q", data, _BINARY_HEADER.size):
            segments.append(data[offset : offset + length])
            offset += length
        if offset != len(data):
            raise ValueError(f"an event's bytes end at {offset} of {len(data)}")

        def untagged(tag: dict[str, Any]) -> Any:
            if len(tag) == 2 and tag.get("_type_") == _BYTES_AT:
                return segments[tag["_data_"]]
            return self._decode_obj(tag)

        return json.JSONDecoder(object_hook=untagged).decode(head.decode("utf8"))


# How long a connection a pool opened beyond its kept size stays open unused (one at a time).
IDLE_SECONDS = 10.0


def shrinking_soon(datastore: PostgresDatastore) -> None:
    """Make the pool close a connection opened for a burst of work once unused, one per
    IDLE_SECONDS, not one per ten minutes (psycopg_pool's default). Only before the pool
    opens: its first shrink is scheduled then."""
    datastore.pool.max_idle = IDLE_SECONDS


class EventLog(Application[UUID]):
    """The application every event of the product is recorded by and read from."""

    # The name gives the tables ("modelledger_events"), the prefix of the application's
    # settings (MODELLEDGER_POSTGRES_POOL_SIZE) and the name tracking records follow.
    name = "ModelLedger"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # eventsourcing names a subclass after itself; every subclass here is the same log.
        super().__init_subclass__(**kwargs)
        cls.name = EventLog.name

    def construct_factory(self, env: Environment) -> InfrastructureFactory:
        factory = super().construct_factory(env)
        if isinstance(factory, PostgresFactory):
            shrinking_soon(factory.datastore)  # before the recorder opens its pool
        return factory

    def construct_transcoder(self) -> Transcoder:
        transcoder = StorableTranscoder()
        self.register_transcodings(transcoder)
        return transcoder

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(BytesAsBase64())  # bytes in events recorded before BINARY_MAGIC
        transcoder.register(ObjectWithTagKeys())
        transcoder.register(OntologyAsDict())
