"""What computes a chunk, per kind of computation.

A handler reads its inputs, computes, and returns the chunk's result: how many rows it
covers and its payload parts (each small enough for one event). Kinds register here; the
actor looks the kind up, so a new kind of background work (a projector reduction, say)
needs a handler and nothing else.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from domain.computations import Computation
    from workers.services import WorkerServices

ChunkResult = tuple[int, list[dict[str, Any]]]
ChunkHandler = Callable[["WorkerServices", "Computation", int], ChunkResult]

# Modules whose import registers a kind; every worker process imports them.
KIND_MODULES: tuple[str, ...] = ("workers.metric_chunks", "workers.projector")

_HANDLERS: dict[str, ChunkHandler] = {}
_WARM_UPS: dict[str, Callable[[], None]] = {}


def register(kind: str, handler: ChunkHandler, warm_up: Callable[[], None] | None = None) -> None:
    """`warm_up`: what a worker process that computes this kind does as it starts, so the
    first computation does not wait for it (the projector starts its reduction process)."""
    _HANDLERS[kind] = handler
    if warm_up is not None:
        _WARM_UPS[kind] = warm_up


def warm_up() -> None:
    for prepare in list(_WARM_UPS.values()):
        prepare()


def handler_for(kind: str) -> ChunkHandler | None:
    """None for a kind this process does not know (a deployment whose workers lack a
    module): the computation then stays requested for a worker that knows it."""
    return _HANDLERS.get(kind)
