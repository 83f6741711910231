"""The runs a read model keeps in memory: a build holds only its key."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from projections.run_memory import RunMemory


@dataclass(frozen=True)
class Built:
    name: str
    stamp: int


def test_a_build_keeps_no_other_run_waiting_and_one_run_is_built_once() -> None:
    memory: RunMemory[str, Built] = RunMemory(size=4)
    slow_started, release = threading.Event(), threading.Event()
    builds: list[str] = []

    def slow() -> Built:
        builds.append("a")
        slow_started.set()
        assert release.wait(10)
        return Built("a", 1)

    with ThreadPoolExecutor(4) as pool:
        first = pool.submit(memory.get, "a", 1, slow)
        assert slow_started.wait(10)
        # While run a builds: run b is built and read, and two more reads of a wait for it.
        again = [pool.submit(memory.get, "a", 1, slow) for _ in range(2)]
        assert memory.get("b", 7, lambda: Built("b", 7)) == Built("b", 7)
        assert memory.get("b", 7, lambda: Built("b", 0)) == Built("b", 7)  # kept: not built again
        assert not first.done() and not any(f.done() for f in again)
        release.set()
        assert first.result(10) == Built("a", 1)
        assert [f.result(10) for f in again] == [Built("a", 1)] * 2
    assert builds == ["a"]
    assert memory.keys() == ["a", "b"]  # a was read last


def test_another_stamp_is_built_again_and_the_least_recently_used_goes() -> None:
    memory: RunMemory[str, Built] = RunMemory(size=2)
    memory.get("a", 1, lambda: Built("a", 1))
    assert memory.get("a", 2, lambda: Built("a", 2)) == Built("a", 2)
    memory.get("b", 1, lambda: Built("b", 1))
    memory.get("a", 2, lambda: Built("a", 0))  # a used again
    memory.get("c", 1, lambda: Built("c", 1))  # b goes
    assert memory.keys() == ["c", "a"]
    assert memory.peek("b") is None and memory.peek("a") == Built("a", 2)
    memory.forget("a")
    assert memory.keys() == ["c"]
