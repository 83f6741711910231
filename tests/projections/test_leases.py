"""Two server processes on one database: each read model is written by one of them, both
answer every read and take every write, and when the writer goes the other takes over.

(Two runtimes in one test process, as two servers would open them: their leases are held on
connections of their own, exactly as across processes.)"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from projections.runners import READ_MODELS, ReadModelStopped
from runtime import Runtime, open_runtime
from storage.database import Database
from tests.projections.builders import numbered, poison_catalog, row_line

ALL = sorted(model.name for model in READ_MODELS)


@pytest.fixture
def two(database: Database) -> Iterator[tuple[Runtime, Runtime]]:
    first = open_runtime(database)
    try:
        second = open_runtime(database)
    except BaseException:
        first.close()
        raise
    try:
        yield first, second
    finally:
        second.close()
        first.close()


def _until(condition: object, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "not within the time allowed"
        time.sleep(0.05)


def test_each_read_model_has_one_writer_and_both_serve_reads_and_writes(two: tuple[Runtime, Runtime]) -> None:
    first, second = two
    assert sorted(first.read_models.written_here()) == ALL
    assert second.read_models.written_here() == []
    # Writes through either one: the second one's commands wait on the first one's runners.
    for i, runtime in enumerate((first, second, second, first)):
        dataset = runtime.app.create_dataset(f"set {i}", actor="alice")
        lines = [row_line(f"d{i}-{j}") for j in range(5)]
        runtime.app.add_data_rows(dataset.id, numbered(lines), actor="alice")
        for reader in (first, second):
            reader.read_models.wait_until_current(30)
            assert reader.read_models.dataset(dataset.id).row_count == 5  # type: ignore[union-attr]
    # The second one's repeat of a key is refused by what the first one projected.
    taken = second.read_models.datasets().items[0]
    with pytest.raises(Exception, match="already exists"):
        second.app.add_data_rows(taken.id, numbered([row_line("d0-0")]), actor="alice")
    assert first.read_models.stopped() == [] and second.read_models.stopped() == []


def test_the_other_process_takes_over_when_the_writer_goes(database: Database) -> None:
    first = open_runtime(database)
    second = open_runtime(database)
    try:
        dataset = second.app.create_dataset("before", actor="alice")
        first.close()
        # The leases were freed with the first one's session: the second one writes now.
        _until(lambda: sorted(second.read_models.written_here()) == ALL)
        second.app.add_data_rows(dataset.id, numbered([row_line(f"after-{j}") for j in range(3)]), actor="alice")
        second.read_models.wait_until_current(30)
        assert second.read_models.dataset(dataset.id).row_count == 3  # type: ignore[union-attr]
        assert second.read_models.stopped() == []
        # A third process started now finds every read model written.
        third = open_runtime(database)
        try:
            assert third.read_models.written_here() == []
            third.read_models.wait_until_current(30)
            assert third.read_models.dataset(dataset.id).row_count == 3  # type: ignore[union-attr]
        finally:
            third.close()
    finally:
        second.close()


def test_a_read_model_stopped_in_the_writing_process_shows_in_the_others(
    two: tuple[Runtime, Runtime], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The standby's /ready names it, and its commands waiting for it are refused at once
    (not after a wait); once it runs again, both are clear."""
    first, second = two
    poison_catalog(monkeypatch, "poison")
    first.app.create_dataset("poison", actor="alice")
    _until(lambda: [s.read_model for s in first.read_models.stopped()] == ["catalog"])
    _until(lambda: [s.read_model for s in second.read_models.stopped()] == ["catalog"])
    [seen] = second.read_models.stopped()
    assert seen.error == "RuntimeError: injected fault" and seen.topic is not None and seen.topic.endswith("Created")
    started = time.monotonic()
    with pytest.raises(ReadModelStopped, match="'catalog' is stopped"):
        second.read_models.wait_until_current(timeout=20, only=["catalog"])
    assert time.monotonic() - started < 2

    monkeypatch.undo()  # the fix: the writer starts it again, and the board is cleared
    _until(lambda: first.read_models.stopped() == [] and second.read_models.stopped() == [], seconds=60)
    second.read_models.wait_until_current(timeout=20)
    assert second.read_models.datasets().items[-1].name == "poison"
