"""The upload protocol (domain/uploads.py): kinds, the part each chunk holds, the rows it names."""

from __future__ import annotations

from uuid import uuid4

import pytest

from domain.uploads import PARTS, Part, Upload, UploadKind, chunk_payload, read_chunk, rows_named


def test_kinds_keep_the_values_recorded_logs_hold() -> None:
    """Started events hold these strings: renaming one would strand every upload logged before."""
    assert sorted(k.value for k in UploadKind) == [
        "custom_metrics", "data_rows", "embeddings", "labels", "metadata",
        "predictions", "projection_rows", "remove_rows", "run_rows", "splits",
    ]  # fmt: skip
    assert sorted(p.value for p in Part) == ["labels", "metadata", "predictions", "remove", "rows", "splits", "values"]


@pytest.mark.parametrize(("kind", "part"), [(kind, part) for kind, parts in PARTS.items() for part in parts])
def test_each_part_reads_back_as_written(kind: UploadKind, part: Part) -> None:
    payload = chunk_payload(kind, part, ["value"])
    assert payload == {part.value: ["value"]}  # the payloads' shape in the log
    assert read_chunk(kind, payload) == (part, ["value"])
    assert read_chunk(UploadKind(kind.value), payload)[0] is part  # as a Started event's string gives it


def test_a_part_a_kind_does_not_hold_is_refused_both_ways() -> None:
    with pytest.raises(ValueError, match="a splits upload holds no predictions chunks"):
        chunk_payload(UploadKind.SPLITS, Part.PREDICTIONS, [])
    with pytest.raises(ValueError, match=r"a chunk of a run_rows upload holds \['remove'\], none of its parts"):
        read_chunk(UploadKind.RUN_ROWS, {"remove": []})
    with pytest.raises(ValueError, match="embeddings upload holds no rows chunks"):
        chunk_payload(UploadKind.EMBEDDINGS, Part.ROWS, [])  # vectors are records of their own


def test_rows_named_by_each_part_once_in_first_order() -> None:
    assert rows_named(Part.PREDICTIONS, {"rows": ["b", "a", "b", "c"]}) == ["b", "a", "c"]
    assert rows_named(Part.LABELS, {"rows": []}) == []
    assert rows_named(Part.ROWS, [["r1", "key-1", "TRAINING"], ["r2", "key-2", "TEST"]]) == ["r1", "r2"]
    assert rows_named(Part.SPLITS, [["r2", "TEST"], ["r1", "TEST"]]) == ["r2", "r1"]
    assert rows_named(Part.VALUES, [["r1", "blur", None], ["r1", "score", "car"]]) == ["r1"]
    assert rows_named(Part.REMOVE, ["r3", "r3"]) == ["r3"]


def test_chunk_versions_are_the_aggregates_own() -> None:
    upload = Upload(owner_id=uuid4(), owner_version=2, kind=UploadKind.PREDICTIONS, actor="ann")
    for index in range(3):
        upload.add_chunk(index=index, payload=chunk_payload(UploadKind.PREDICTIONS, Part.PREDICTIONS, {"rows": []}))
    events = upload.collect_events()
    assert isinstance(events[0], Upload.Started) and events[0].kind == "predictions"
    chunks = [e for e in events if isinstance(e, Upload.ChunkAdded)]
    assert [e.originator_version for e in chunks] == [Upload.chunk_version(e.index) for e in chunks] == [2, 3, 4]
    assert upload.kind is UploadKind.PREDICTIONS
