"""Projector reductions as background work: the chunk handler of kind "projection".

A reduction is one chunk (UMAP cannot be split), computed by the generic chunk actor
(workers/actors.py), which records its result once. The numeric work runs in a child
process (workers/reduction_host.py), started as the worker starts.
"""

from __future__ import annotations

import threading
from typing import Any

from domain.computations import Computation
from domain.projector.layout import PROJECTION_KIND
from projections.embeddings.vectors import VectorReader
from storage.database import Database
from workers.kinds import ChunkResult, register
from workers.reduction_host import HOSTS
from workers.services import WorkerServices

_readers: dict[tuple[tuple[str, str], ...], VectorReader] = {}
_readers_lock = threading.Lock()


def vector_reader(database: Database) -> VectorReader:
    """One reader per database per process (a worker may serve one database only, but
    tests run several)."""
    key = tuple(sorted(database.settings.items()))
    with _readers_lock:
        reader = _readers.get(key)
        if reader is None:
            reader = _readers[key] = VectorReader(database)
        return reader


def compute_projection_chunk(services: WorkerServices, computation: Computation, chunk: int) -> ChunkResult:
    app = services.app
    projection_id = computation.owner_id

    def progress(fraction: float, stage: str) -> None:
        app.note_projection_progress(projection_id, fraction, stage)

    progress(0.02, "reading vectors")
    result: tuple[int, list[dict[str, Any]]] = app.projection_result(
        projection_id, vector_reader(services.database), HOSTS.reduce, progress
    )
    return result


register(PROJECTION_KIND, compute_projection_chunk, warm_up=HOSTS.prestart)
