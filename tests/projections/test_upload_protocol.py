"""Each read model that follows uploads finds a chunk's upload in its own table when the
upload's Started event came before a restart (its memory of recent uploads is then empty)."""

from __future__ import annotations

from uuid import uuid4

import pytest
from eventsourcing.persistence import Tracking

from domain.uploads import PARTS, Part, Upload, UploadKind, chunk_payload
from projections.runners import READ_MODELS, make_view
from projections.upload_owners import FollowedUploads, UploadInfo
from storage.database import Database

# Each read model and the kinds of upload it follows.
FOLLOWED = {
    "catalog": {UploadKind.DATA_ROWS, UploadKind.METADATA, UploadKind.LABELS},
    "model_runs": {UploadKind.RUN_ROWS, UploadKind.SPLITS, UploadKind.REMOVE_ROWS, UploadKind.PREDICTIONS},
    "gallery": {UploadKind.RUN_ROWS, UploadKind.REMOVE_ROWS, UploadKind.PREDICTIONS},
    "embeddings": {UploadKind.EMBEDDINGS},
    "metrics": {UploadKind.CUSTOM_METRICS},
}


@pytest.mark.parametrize("name", sorted(FOLLOWED))
def test_a_chunk_after_a_restart_finds_its_upload_in_the_view(database: Database, name: str) -> None:
    model = next(m for m in READ_MODELS if m.name == name)
    view = make_view(model, database.application_env())
    before = model.projection(view)  # type: ignore[call-arg]
    uploads = before.uploads
    assert isinstance(uploads, FollowedUploads) and uploads.kinds == FOLLOWED[name]
    position = 0
    expected: dict[UploadKind, tuple[Upload, Upload.ChunkAdded]] = {}
    for kind in UploadKind:
        upload = Upload(owner_id=uuid4(), owner_version=4, kind=kind, actor="ann")
        part = PARTS.get(kind, (Part.ROWS,))[0]
        upload.add_chunk(index=0, payload=chunk_payload(kind, part, []) if kind in PARTS else {"rowIds": b""})
        started, chunk = upload.collect_events()
        position += 1
        uploads.started(started, Tracking("log", position))  # type: ignore[arg-type]
        assert isinstance(chunk, Upload.ChunkAdded)
        expected[kind] = (upload, chunk)
    view.flush_skipped()

    after = model.projection(view)  # type: ignore[call-arg]  # a restarted read model: nothing in memory
    for kind, (upload, chunk) in expected.items():
        position += 1
        found = after.uploads.of_chunk(chunk, Tracking("log", position))
        if kind in FOLLOWED[name]:
            assert found == UploadInfo(upload.owner_id, 4, kind) and found.kind is kind
        else:
            assert found is None
    view.flush_skipped()
    assert view.max_tracking_id("log") == position
