"""The event log as an eventsourcing application: its name (which names its tables), and how
values that JSON lacks are written into events. The command side (`application.LedgerCore`)
and the read models' runners (`projections.following.FollowedLog`) are both built on it, so
neither needs the other to read or write the same log."""

from __future__ import annotations

import base64
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import InfrastructureFactory, JSONTranscoder, Transcoder, Transcoding
from eventsourcing.postgres import PostgresDatastore, PostgresFactory
from eventsourcing.utils import Environment

from domain.ontology import Ontology
from domain.storable import check_storable, may_be_unstorable


class BytesAsBase64(Transcoding):
    """Columnar chunks (numpy buffers, RLE counts) travel as bytes: compactly, never pickled."""

    type = bytes
    name = "b64"

    def encode(self, obj: bytes) -> str:
        return base64.b64encode(obj).decode("ascii")

    def decode(self, data: str) -> bytes:
        return base64.b64decode(data)


class OntologyAsDict(Transcoding):
    """Snapshots of a model carry its ontology as plain data."""

    type = Ontology
    name = "ontology"

    def encode(self, obj: Ontology) -> dict[str, Any]:
        return obj.to_dict()

    def decode(self, data: dict[str, Any]) -> Ontology:
        return Ontology.from_dict(data)


class StorableTranscoder(JSONTranscoder):
    """Events as JSON, refusing a value the read models could not store (a NUL, a lone
    surrogate, an integer beyond 64 bits) with a ValidationFailed that names it, before
    anything is recorded. The commands refuse such values where they come in; this is the
    one place no path around them gets past, so no event can stop a read model for good."""

    def encode(self, obj: Any) -> bytes:
        try:
            data: bytes | None = super().encode(obj)
        except UnicodeEncodeError:  # a lone surrogate has no UTF-8 encoding
            data = None
        if data is None or may_be_unstorable(data):
            check_storable(obj, "")
        if data is None:
            raise ValueError("an event has text that cannot be encoded as UTF-8")
        return data


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
        transcoder.register(BytesAsBase64())
        transcoder.register(OntologyAsDict())
