"""Embedding uploads through the application, read back from the embeddings read model."""

from __future__ import annotations

from uuid import UUID, uuid4

import numpy as np
import pytest

from domain.embeddings import CHUNK_VECTOR_BYTES, EmbeddingSpace, embedding_space_id, rows_per_chunk
from domain.errors import ValidationFailed
from domain.uploads import Upload
from runtime import Runtime
from tests.projections.builders import scenario
from tests.projections.projector.harness import ProjectorReadModels, blobs, vector_lines


def row_ids(ledger: Runtime, dataset_id: UUID, keys: list[str]) -> list[UUID]:
    found = ledger.read_models.rows.dataset_rows(dataset_id, global_keys=keys)
    return [UUID(found[key].id) for key in keys]


def event_count(ledger: Runtime) -> int:
    return ledger.app.recorder.max_notification_id() or 0


def test_vectors_round_trip_exactly_and_a_new_upload_replaces_them(
    ledger: Runtime, projector: ProjectorReadModels
) -> None:
    world = scenario(ledger, rows=6)
    vectors = blobs(6, 5)
    space, notification, count = ledger.app.upload_embeddings(
        world.dataset_id, "clip", vector_lines(world.keys, vectors), actor="erin"
    )
    projector.wait(notification)
    assert count == 6 and space.version == 2 and space.dimension == 5
    record = projector.embeddings.space(world.dataset_id, "clip")
    assert record is not None and (record.dimension, record.version, record.vector_count) == (5, 2, 6)
    ids = row_ids(ledger, world.dataset_id, world.keys)
    assert np.array_equal(projector.embeddings.vectors(space.id, 2, 5, ids), vectors)

    changed = vectors[:2] + 100
    by_id = [(n, {"id": str(i), "vector": v.tolist()}) for n, (i, v) in enumerate(zip(ids[:2], changed, strict=True), 1)]
    space, notification, _ = ledger.app.upload_embeddings(world.dataset_id, "clip", by_id, actor="erin")
    projector.wait(notification)
    assert space.version == 3
    now = projector.embeddings.vectors(space.id, 3, 5, ids)
    assert np.array_equal(now[:2], changed) and np.array_equal(now[2:], vectors[2:])
    # The space as of version 2 is still what it was.
    assert np.array_equal(projector.embeddings.vectors(space.id, 2, 5, ids), vectors)
    record = projector.embeddings.space(world.dataset_id, "clip")
    assert record is not None and (record.version, record.vector_count) == (3, 6)
    # A few rows of a space are probed one by one, most of them read in one scan: the same
    # vectors in the order asked, as of either version.
    few, most = [ids[4]], ids[::-1][:5]  # 1 of 6 probed, 5 of 6 scanned
    for version, expected in ((2, vectors), (3, np.concatenate([changed, vectors[2:]]))):
        assert np.array_equal(projector.embeddings.vectors(space.id, version, 5, few), expected[[4]])
        assert np.array_equal(projector.embeddings.vectors(space.id, version, 5, most), expected[::-1][:5])
    stranger = uuid4()  # a row with no vector: probed alone, scanned among the most
    assert projector.embeddings.rows_with_vectors(space.id, 3, few) == set(few)
    assert projector.embeddings.rows_with_vectors(space.id, 3, [stranger]) == set()
    assert projector.embeddings.rows_with_vectors(space.id, 3, [*most, stranger]) == set(most)


def test_a_wide_upload_is_split_into_bounded_chunk_events(ledger: Runtime, projector: ProjectorReadModels) -> None:
    world = scenario(ledger, rows=80)
    vectors = blobs(80, 4096, seed=1)
    space, notification, _ = ledger.app.upload_embeddings(
        world.dataset_id, "wide", vector_lines(world.keys, vectors), actor="erin"
    )
    projector.wait(notification)
    upload_id = next(
        e.upload_id for e in ledger.app.repository.event_store.get(space.id) if isinstance(e, EmbeddingSpace.VectorsUploaded)
    )
    stored = ledger.app.recorder.select_events(upload_id)
    chunks = [e for e in stored if e.topic.endswith("ChunkAdded")]
    assert len(chunks) == -(-80 // rows_per_chunk(4096)) and len(chunks) > 1
    # 1 MB of vectors, stored as they are after the event's JSON
    assert max(len(e.state) for e in stored) < CHUNK_VECTOR_BYTES + 4_096
    ids = row_ids(ledger, world.dataset_id, world.keys)
    assert np.array_equal(projector.embeddings.vectors(space.id, space.version, 4096, ids), vectors)
    assert isinstance(ledger.app.repository.get(upload_id), Upload)


@pytest.mark.parametrize(
    ("line", "words"),
    [
        ({"dataRow": {"globalKey": "k1"}, "vector": [1.0, 2.0]}, "has 2 values; the space's dimension is 3"),
        ({"dataRow": {"globalKey": "k1"}, "vector": [1.0, float("nan"), 2.0]}, "position 1, which is not finite"),
        ({"dataRow": {"globalKey": "k1"}, "vector": [1.0, 1e39, 2.0]}, "beyond the float32 range"),
        ({"dataRow": {"globalKey": "k1"}, "vector": [1.0, "2", 2.0]}, "'2' at position 1"),
        ({"dataRow": {"globalKey": "k1"}, "vector": [1.0, True, 2.0]}, "true at position 1"),
        ({"dataRow": {"globalKey": "nope"}, "vector": [1.0, 2.0, 3.0]}, "'nope' is not in dataset"),
        ({"dataRow": {"globalKey": "k0"}, "vector": [1.0, 2.0, 3.0]}, "already has a vector on line 1"),
        ({"vector": [1.0, 2.0, 3.0]}, 'missing "dataRow"'),
        ({"dataRow": {"globalKey": "k1"}}, "has no vector"),
    ],
)
def test_a_bad_line_is_named_and_nothing_is_recorded(
    ledger: Runtime, projector: ProjectorReadModels, line: dict[str, object], words: str
) -> None:
    world = scenario(ledger, rows=3)
    good = {"dataRow": {"globalKey": "k0"}, "vector": [0.5, 0.25, 1.0]}
    before = event_count(ledger)
    with pytest.raises(ValidationFailed) as caught:
        ledger.app.upload_embeddings(world.dataset_id, "clip", [(1, good), (2, line)], actor="erin")
    errors = caught.value.errors
    assert [e.line for e in errors] == [2] and words in errors[0].message, errors
    assert event_count(ledger) == before
    assert ledger.app.embedding_space(world.dataset_id, "clip") is None


def test_the_dimension_is_bounded_and_fixed_by_the_space(ledger: Runtime, projector: ProjectorReadModels) -> None:
    world = scenario(ledger, rows=2)
    with pytest.raises(ValidationFailed, match="1 to 4096"):
        ledger.app.upload_embeddings(world.dataset_id, "big", [(1, {"id": "x", "vector": [0.0] * 4097})], actor="e")
    ledger.app.create_embedding_space(world.dataset_id, "fixed", 4, actor="erin")
    with pytest.raises(ValidationFailed) as caught:
        ledger.app.upload_embeddings(
            world.dataset_id, "fixed", [(1, {"dataRow": {"globalKey": "k0"}, "vector": [1.0, 2.0, 3.0]})], actor="e"
        )
    assert "dimension is 4" in caught.value.errors[0].message
    with pytest.raises(ValidationFailed, match="space name"):
        ledger.app.create_embedding_space(world.dataset_id, "no/slash", 4, actor="erin")
    assert embedding_space_id(world.dataset_id, "fixed") != embedding_space_id(world.dataset_id, "other")
