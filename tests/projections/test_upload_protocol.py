"""Each read model that follows uploads finds a chunk's upload when the upload's Started
event came before a restart (its memory of recent uploads is then empty): it reads the
Started event back from the log, as a worker does; no read model keeps a table of uploads."""

from __future__ import annotations

from uuid import uuid4

import pytest
from eventsourcing.persistence import Tracking

from application import ModelLedger
from domain.uploads import PARTS, Part, Upload, UploadKind, chunk_payload
from projections.following import FollowedLog
from projections.runners import READ_MODELS, make_projection, make_view, read_model_env
from projections.upload_owners import (
    FollowedUploads,
    UploadFollowingProjection,
    UploadInfo,
    started_events,
)
from storage.database import Database
from storage.event_log import EventLog

# Each read model and the kinds of upload it follows.
FOLLOWED = {
    "catalog": {UploadKind.DATA_ROWS, UploadKind.METADATA, UploadKind.LABELS},
    "model_runs": {UploadKind.RUN_ROWS, UploadKind.SPLITS, UploadKind.REMOVE_ROWS, UploadKind.PREDICTIONS},
    "gallery": {UploadKind.RUN_ROWS, UploadKind.REMOVE_ROWS, UploadKind.PREDICTIONS},
    "embeddings": {UploadKind.EMBEDDINGS},
    "metrics": {UploadKind.CUSTOM_METRICS},
}


def test_the_read_models_that_follow_uploads_are_these() -> None:
    following = {m.name for m in READ_MODELS if issubclass(m.projection, UploadFollowingProjection)}
    assert following == set(FOLLOWED)


@pytest.mark.parametrize("name", sorted(FOLLOWED))
def test_a_chunk_after_a_restart_finds_its_upload_in_the_log(database: Database, name: str) -> None:
    app = ModelLedger(env=database.application_env())
    model = next(m for m in READ_MODELS if m.name == name)
    view = make_view(model, database.application_env())
    chunks: dict[UploadKind, tuple[Upload, Upload.ChunkAdded]] = {}
    for kind in UploadKind:
        upload = Upload(owner_id=uuid4(), owner_version=4, kind=kind, actor="ann")
        upload.add_chunk(index=0, payload=chunk_payload(kind, PARTS[kind][0], []) if kind in PARTS else {"rowIds": b""})
        app.save(upload)
        chunk = app.repository.event_store.get(upload.id, gt=1)
        (event,) = chunk
        assert isinstance(event, Upload.ChunkAdded)
        chunks[kind] = (upload, event)

    reads: list[object] = []
    followed = FollowedLog(env=read_model_env(database.application_env(), model, EventLog.name))  # as a runner reads
    log = started_events(lambda: followed)
    projection = make_projection(model, view, lambda upload_id: reads.append(upload_id) or log(upload_id))
    uploads = projection.uploads  # type: ignore[attr-defined]
    assert isinstance(uploads, FollowedUploads) and uploads.kinds == FOLLOWED[name]
    for position, (kind, (upload, chunk)) in enumerate(chunks.items(), start=1):
        found = uploads.of_chunk(chunk, Tracking("log", position))
        if kind in FOLLOWED[name]:
            assert found == UploadInfo(upload.owner_id, 4, kind) and found.kind is kind
        else:
            assert found is None
    assert reads == [upload.id for upload, _ in chunks.values()]  # each read from the log once
    view.flush_skipped()  # a chunk of a kind not followed is tracked, its payload never read
    last_ignored = max(p for p, kind in enumerate(chunks, start=1) if kind not in FOLLOWED[name])
    assert view.max_tracking_id("log") == last_ignored
    followed.close()
    app.close()


def test_a_chunk_whose_upload_has_no_started_event_is_an_error_naming_it() -> None:
    uploads = FollowedUploads(_NoView(), frozenset({UploadKind.PREDICTIONS}), lambda upload_id: None)
    upload = Upload(owner_id=uuid4(), owner_version=2, kind=UploadKind.PREDICTIONS, actor="ann")
    upload.add_chunk(index=0, payload=chunk_payload(UploadKind.PREDICTIONS, Part.PREDICTIONS, {"rows": []}))
    _, chunk = upload.collect_events()
    with pytest.raises(LookupError, match=f"upload {upload.id} has chunks but no Started event in the log"):
        uploads.of_chunk(chunk, Tracking("log", 1))  # type: ignore[arg-type]


class _NoView:
    def skip(self, tracking: Tracking) -> None:
        raise AssertionError("nothing to track")
