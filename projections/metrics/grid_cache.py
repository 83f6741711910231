"""The small per-run caches of RunResults: what was computed at the last few grid points.

Per-cell counts and per-row metrics are arrays of the size of a run's cells; a gallery
page asks for them at one grid point many times (filters, sorts, automatic slices), so
the last CACHED_GRID_POINTS of them stay in memory per run.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

# Grid points whose per-cell counts and per-row metrics stay cached (a few arrays of the
# size of the cells each).
CACHED_GRID_POINTS = 4

_CACHE_LOCK = threading.Lock()
K = TypeVar("K")
V = TypeVar("V")


def cached(cache: dict[K, V], key: K, compute: Callable[[], V]) -> V:
    """A value of a small per-run cache, computed outside the lock (two threads may both
    compute it; either result is the same)."""
    found = cache.get(key)
    if found is None:
        found = compute()
        with _CACHE_LOCK:
            cache[key] = found
            while len(cache) > CACHED_GRID_POINTS:
                cache.pop(next(iter(cache)))
    return found
