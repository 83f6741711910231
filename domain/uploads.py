"""A bulk upload: the rows of one command, split into bounded chunk events.

A command that carries many rows (data rows with labels, predictions, a run snapshot)
records one small event on its owner (dataset or model run) and an Upload aggregate whose
chunk events hold the rows. Both are saved in one atomic `save()`, so the owner's version
advances by one per command while every event stays bounded: rows and labels well under
~500 KB (the size at which the event store's pipelined insert, which the log does not use,
was seen to stall), vectors ~1 MB (domain.embeddings.CHUNK_VECTOR_BYTES).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event


class Upload(Aggregate):
    """The rows of one bulk command. `kind` says what they are (e.g. "predictions")."""

    @event("Started")
    def __init__(self, owner_id: UUID, owner_version: int, kind: str, actor: str) -> None:
        self.owner_id = owner_id
        self.owner_version = owner_version
        self.kind = kind
        self.actor = actor
        self.chunk_count = 0

    @event("ChunkAdded")
    def add_chunk(self, index: int, payload: dict[str, Any]) -> None:
        # The payload is the columnar encoding of domain.annotations.columns (or a plain
        # JSON list for small records); it is read by projections, never kept here.
        self.chunk_count += 1
