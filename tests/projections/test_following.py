"""Runners read upload chunks lazily: a projection that ignores a chunk never decodes it."""

from __future__ import annotations

from uuid import uuid4

from application import ModelLedger
from domain.uploads import Upload
from projections.following import (
    DeferredNotification,
    FollowedLog,
    FollowingRecorder,
    LazyChunkAdded,
)
from projections.runners import READ_MODELS, read_model_env
from storage.database import Database
from storage.event_log import EventLog


def test_chunk_events_decode_on_first_use_and_equal_the_eager_ones() -> None:
    app = FollowedLog(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    upload = Upload(owner_id=uuid4(), owner_version=3, kind="predictions", actor="dave")
    upload.add_chunk(index=0, payload={"rows": [["a", 1]], "blob": b"\x00\x01"})
    app.save(upload)
    notifications = app.recorder.select_notifications(start=1, limit=10)
    started, chunk = (app.mapper.to_domain_event(n) for n in notifications)

    assert isinstance(started, Upload.Started) and started.kind == "predictions"
    assert isinstance(chunk, LazyChunkAdded) and isinstance(chunk, Upload.ChunkAdded)
    assert chunk.originator_id == upload.id and chunk.originator_version == 2
    assert "_decode" in vars(chunk)  # nothing decoded yet
    assert chunk.payload == {"rows": [["a", 1]], "blob": b"\x00\x01"}
    assert chunk.index == 0 and chunk.timestamp is not None
    assert "_decode" not in vars(chunk)
    # The same application: the same tables, settings and tracking records. eventsourcing
    # names a subclass after itself unless told; the name was ModelLedger's from the start.
    assert FollowedLog.name == ModelLedger.name == "ModelLedger"


def test_runners_read_a_chunk_state_only_when_a_projection_decodes_it(database: Database) -> None:
    """On PostgreSQL the log is read without chunk states (most runners ignore most chunks);
    decoding one reads its state by position, and it equals the event as saved."""
    ledger = ModelLedger(env=database.application_env())
    upload = Upload(owner_id=uuid4(), owner_version=3, kind="predictions", actor="dave")
    upload.add_chunk(index=0, payload={"rows": [["a", 1]], "blob": bytes(range(256)) * 100})
    ledger.save(upload)
    log = FollowedLog(env=read_model_env(database.application_env(), READ_MODELS[0], EventLog.name))
    assert isinstance(log.recorder, FollowingRecorder)
    started, chunk = log.recorder.select_notifications(start=1, limit=10)
    assert started.state and not isinstance(started, DeferredNotification)
    assert isinstance(chunk, DeferredNotification) and chunk.state == b""
    event = log.mapper.to_domain_event(chunk)
    assert isinstance(event, LazyChunkAdded) and event.originator_id == upload.id
    assert event.payload == {"rows": [["a", 1]], "blob": bytes(range(256)) * 100}
    # Asked for whole, a chunk comes with its state (as the command side reads it).
    assert ledger.recorder.select_notifications(start=2, limit=1)[0].state == log.recorder.chunk_state(chunk.id)
    log.close()
    ledger.close()
