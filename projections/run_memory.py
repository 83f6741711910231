"""What a read model keeps of a few runs in memory, each under the stamp it was built at.

A run's metric results or gallery index take a second or two to build at 100,000 rows. A
build holds only its own key: a request for another run, or a read of what is already built,
does not wait for it (after a restart the server warms the recent runs in the background
while people already ask for them), and requests for the same run at once build it once.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, Protocol, TypeVar


class Stamped(Protocol):
    @property
    def stamp(self) -> object: ...


K = TypeVar("K", bound=Hashable)
V = TypeVar("V", bound=Stamped)


class RunMemory(Generic[K, V]):
    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[K, V] = OrderedDict()
        self._building: dict[K, threading.Lock] = {}
        self._lock = threading.Lock()

    def get(self, key: K, stamp: object, build: Callable[[], V]) -> V:
        """The item kept under `key` if it was built at `stamp`; else `build()`'s, kept."""
        with self._lock:
            found = self._current(key, stamp)
            if found is not None:
                return found
            building = self._building.setdefault(key, threading.Lock())
        with building:
            with self._lock:
                found = self._current(key, stamp)  # built meanwhile by another request
            if found is not None:
                return found
            item = build()
            with self._lock:
                self._items[key] = item
                self._items.move_to_end(key)
                while len(self._items) > self._size:
                    self._items.popitem(last=False)
                self._building.pop(key, None)
            return item

    def _current(self, key: K, stamp: object) -> V | None:
        item = self._items.get(key)
        if item is None or item.stamp != stamp:
            return None
        self._items.move_to_end(key)
        return item

    def peek(self, key: K) -> V | None:
        """The item kept under `key`, whatever its stamp, without marking it used."""
        with self._lock:
            return self._items.get(key)

    def forget(self, key: K) -> None:
        with self._lock:
            self._items.pop(key, None)

    def keys(self) -> list[K]:
        """The keys kept, most recently used first."""
        with self._lock:
            return list(reversed(self._items))
