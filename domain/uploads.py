"""A bulk upload: the rows of one command, split into bounded chunk events.

A command that carries many rows (data rows with labels, predictions, a run snapshot)
records one small event on its owner (dataset or model run) and an Upload aggregate whose
chunk events hold the rows. Both are saved in one atomic `save()`, so the owner's version
advances by one per command while every event stays bounded: rows and labels well under
~500 KB (the size at which the event store's pipelined insert, which the log does not use,
was seen to stall), vectors ~1 MB (domain.embeddings.CHUNK_VECTOR_BYTES).

The protocol, in one place: an upload's `kind` (UploadKind) says what its rows are, and a
chunk of most kinds holds one part (Part) as its payload's only key: `chunk_payload` writes
it, `read_chunk` reads it back for commands, projections and workers alike. Two kinds hold
records of several fields instead (vectors: domain.embeddings.vector_chunks; a projection's
input rows: application.projector_commands).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event


class UploadKind(StrEnum):
    """What an upload's rows are. The value is what Started events hold."""

    DATA_ROWS = "data_rows"  # a dataset's new data rows, with their labels
    METADATA = "metadata"  # metadata merged into a dataset's rows
    LABELS = "labels"  # a dataset's rows' labels replaced
    RUN_ROWS = "run_rows"  # a model run's snapshot of rows, splits and labels
    SPLITS = "splits"  # a run's rows moved to other splits
    REMOVE_ROWS = "remove_rows"  # rows taken out of a run
    PREDICTIONS = "predictions"  # a run's predictions
    CUSTOM_METRICS = "custom_metrics"  # a run's custom metric values
    EMBEDDINGS = "embeddings"  # vectors of an embedding space
    PROJECTION_ROWS = "projection_rows"  # the rows a projector layout was asked for


class Part(StrEnum):
    """What one chunk holds: its payload's key."""

    ROWS = "rows"  # data rows: [id, globalKey, ...] records
    LABELS = "labels"  # labels in columns (domain.annotations.columns)
    METADATA = "metadata"  # [row id, {key: value}] records
    SPLITS = "splits"  # [row id, split] pairs
    REMOVE = "remove"  # row ids
    PREDICTIONS = "predictions"  # predictions in columns
    VALUES = "values"  # custom metric records


# The parts a chunk of each kind may hold; kinds absent here hold records of several fields.
PARTS: dict[UploadKind, tuple[Part, ...]] = {
    UploadKind.DATA_ROWS: (Part.ROWS, Part.LABELS),
    UploadKind.METADATA: (Part.METADATA,),
    UploadKind.LABELS: (Part.LABELS,),
    UploadKind.RUN_ROWS: (Part.ROWS, Part.LABELS),
    UploadKind.SPLITS: (Part.SPLITS,),
    UploadKind.REMOVE_ROWS: (Part.REMOVE,),
    UploadKind.PREDICTIONS: (Part.PREDICTIONS,),
    UploadKind.CUSTOM_METRICS: (Part.VALUES,),
}


def chunk_payload(kind: UploadKind, part: Part, value: Any) -> dict[str, Any]:
    """The payload of a chunk of a `kind` upload holding this part."""
    if part not in PARTS.get(kind, ()):
        raise ValueError(f"a {kind.value} upload holds no {part.value} chunks")
    return {part.value: value}


def read_chunk(kind: UploadKind, payload: dict[str, Any]) -> tuple[Part, Any]:
    """The part a chunk of a `kind` upload holds, and its value."""
    for part in PARTS.get(kind, ()):
        if part.value in payload:
            return part, payload[part.value]
    raise ValueError(f"a chunk of a {kind.value} upload holds {sorted(payload)}, none of its parts")


def rows_named(part: Part, value: Any) -> list[str]:
    """The data row ids a part names, each once, in their first order."""
    if part in (Part.LABELS, Part.PREDICTIONS):  # columns: a row id per object
        return list(dict.fromkeys(value["rows"]))
    if part in (Part.ROWS, Part.METADATA, Part.SPLITS, Part.VALUES):  # records: the row id first
        return list(dict.fromkeys(str(record[0]) for record in value))
    if part is Part.REMOVE:
        return list(dict.fromkeys(value))
    raise ValueError(f"unknown part {part!r}")


class Upload(Aggregate):
    """The rows of one bulk command: `kind` says what they are."""

    @event("Started")
    def __init__(self, owner_id: UUID, owner_version: int, kind: str, actor: str) -> None:
        self.owner_id = owner_id
        self.owner_version = owner_version
        self.kind = UploadKind(kind)
        self.actor = actor
        self.chunk_count = 0

    @staticmethod
    def chunk_version(index: int) -> int:
        """The aggregate version of chunk `index`'s event: Started is version 1, chunks follow in order."""
        return index + 2

    # Declared, not left to `@event("ChunkAdded")` to make, so that type checkers see the
    # class and its fields (commands, projections and workers read them). Same name, same topic
    # (domain.uploads:Upload.ChunkAdded) and same fields as the class @event made.
    class ChunkAdded(Aggregate.Event):
        index: int
        payload: dict[str, Any]

    @event(ChunkAdded)
    def add_chunk(self, index: int, payload: dict[str, Any]) -> None:
        # The payload is the columnar encoding of domain.annotations.columns (or a plain
        # JSON list for small records); it is read by projections, never kept here.
        self.chunk_count += 1
