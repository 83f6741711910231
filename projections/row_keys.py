"""Data row ids as 16-byte keys (their UUID bytes), as the in-memory read models hold them.

A million rows load as one buffer of keys, not a million Python objects, and sort as the
database sorts uuids; finding rows is numpy's sorted search.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from uuid import UUID

import numpy as np


def row_keys(row_ids: Sequence[str]) -> np.ndarray:
    """The keys of these ids, in their order (every id must be a UUID)."""
    return np.frombuffer(b"".join(UUID(r).bytes for r in row_ids), dtype="S16").copy()


def keys_of_ids(ids: Iterable[str]) -> np.ndarray:
    """The keys of those of these strings that are ids; the others name no row."""
    keys = []
    for row_id in ids:
        try:
            keys.append(UUID(row_id).bytes)
        except ValueError:
            continue
    return np.asarray(keys, dtype="S16")


def id_of(key: bytes) -> str:
    # numpy drops trailing zero bytes of S16 values: pad them back.
    return str(UUID(bytes=key.ljust(16, b"\0")))


def ids_of(keys: np.ndarray) -> list[str]:
    return [id_of(k) for k in keys.tolist()]


def find(sorted_keys: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """The position of each key in `sorted_keys` (ascending), -1 where it is not there."""
    if sorted_keys.size == 0:
        return np.full(keys.size, -1, dtype=np.int64)
    at = np.minimum(np.searchsorted(sorted_keys, keys), sorted_keys.size - 1)
    return np.where(sorted_keys[at] == keys, at, -1)
