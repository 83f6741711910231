"""A log whose upload chunks were written as JSON with base64 bytes (before bytes were
stored after the JSON) is read by the read models and extended in the new form."""

from __future__ import annotations

import numpy as np
from eventsourcing.persistence import JSONTranscoder

from runtime import Runtime
from storage.event_log import BINARY_MAGIC
from tests.projections.builders import scenario
from tests.projections.projector.harness import ProjectorReadModels, blobs, vector_lines
from tests.projections.projector.test_embeddings import row_ids


def chunk_states(ledger: Runtime, after: int) -> list[bytes]:
    """The stored (decompressed) states of upload chunks recorded after that position."""
    with ledger.database.connect() as conn:
        rows = conn.execute(
            "SELECT state FROM modelledger_events WHERE topic = 'domain.uploads:Upload.ChunkAdded'"
            " AND notification_id > %s ORDER BY notification_id", (after,)
        ).fetchall()
    mapper = ledger.app.mapper
    assert mapper.compressor is not None
    return [mapper.compressor.decompress(bytes(row[0])) for row in rows]


def test_chunks_written_as_base64_are_read_and_new_ones_stored_as_bytes(
    ledger: Runtime, projector: ProjectorReadModels
) -> None:
    world = scenario(ledger, rows=6)
    ids = row_ids(ledger, world.dataset_id, world.keys)
    mapper = ledger.app.mapper
    current = mapper.transcoder
    earlier = JSONTranscoder()  # events all JSON, bytes as base64 in it
    ledger.app.register_transcodings(earlier)
    start = ledger.app.recorder.max_notification_id() or 0
    first = blobs(6, 300)
    mapper.transcoder = earlier
    try:
        space, notification, _ = ledger.app.upload_embeddings(world.dataset_id, "clip", vector_lines(world.keys, first), "erin")
    finally:
        mapper.transcoder = current
    projector.wait(notification)
    written_before = chunk_states(ledger, start)
    assert written_before and all(s.startswith(b"{") and b'"_type_":"b64"' in s for s in written_before)
    assert np.array_equal(projector.embeddings.vectors(space.id, 2, 300, ids), first)

    middle = ledger.app.recorder.max_notification_id() or 0
    second = first[::-1] * 2
    space, notification, _ = ledger.app.upload_embeddings(world.dataset_id, "clip", vector_lines(world.keys, second), "erin")
    projector.wait(notification)
    written_now = chunk_states(ledger, middle)
    assert written_now and all(s.startswith(BINARY_MAGIC) for s in written_now)
    assert np.array_equal(projector.embeddings.vectors(space.id, 3, 300, ids), second)
    assert np.array_equal(projector.embeddings.vectors(space.id, 2, 300, ids), first)
