"""A chunk that keeps failing ends its computation FAILED after its retries; a retry
resumes it; the sweeper re-enqueues exactly the unfinished work."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from domain.computations import METRICS
from projections.leases import Leases
from tests.projections.builders import box, predict, scenario
from tests.workers.stack import Stack
from workers import kinds
from workers.actors import MAX_RETRIES
from workers.sweeper import Sweeper


def _lines(keys: list[str]) -> list[dict[str, Any]]:
    return [{"dataRow": {"globalKey": k}, "name": "car", "bbox": box(top=i), "confidence": 0.9} for i, k in enumerate(keys)]


@pytest.fixture
def failing(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Every metric chunk fails; the list counts the attempts."""
    attempts: list[int] = []
    lock = threading.Lock()

    def fail(services: Any, computation: Any, chunk: int) -> Any:
        with lock:
            attempts.append(chunk)
        raise RuntimeError("the disk is on fire")

    monkeypatch.setitem(kinds._HANDLERS, METRICS, fail)
    return attempts


def test_a_chunk_that_always_fails_ends_failed_and_a_retry_resumes(stack: Stack, failing: list[int], monkeypatch: pytest.MonkeyPatch) -> None:
    s = scenario(stack.runtime, rows=5)
    # The sweeper must not add attempts of its own while the retries back off.
    stack.start_work(stale_seconds=3600.0)
    predict(stack.runtime, s.run_id, _lines(s.keys))
    failed = stack.wait_for_status(s.run_id, "FAILED")
    assert failed.error is not None and "the disk is on fire" in failed.error
    assert failed.pending_data_rows == 5 and len(failed.failed) == 1
    assert len(failing) == 1 + MAX_RETRIES

    monkeypatch.undo()  # the disk is fine again
    stack.app.retry_computations(s.run_id, [__import__("uuid").UUID(failed.failed[0])], actor="hank")
    done = stack.wait_for_status(s.run_id, "IN_SYNC")
    assert done.error is None
    assert stack.metrics_read_models.metrics.metrics(s.run_id, 0.5, 0.5).data_rows == 5


class _Log:
    def __init__(self) -> None:
        self.sent: list[tuple[Any, int, int]] = []

    def __call__(self, computation_id: Any, chunk: int, notification_id: int) -> None:
        self.sent.append((computation_id, chunk, notification_id))


def test_the_sweeper_enqueues_unfinished_work_again_only_when_stalled(stack: Stack) -> None:
    s = scenario(stack.runtime, rows=4)
    now = [0.0]
    sent = _Log()
    sweeper = Sweeper(stack.app, sent, stale_seconds=30.0, clock=lambda: now[0])
    predict(stack.runtime, s.run_id, _lines(s.keys))
    assert sweeper.step() == 1 and len(sent.sent) == 1
    computation_id, chunk, _ = sent.sent[0]
    assert sweeper.step() == 0  # nothing new, nothing stalled
    now[0] = 31.0
    assert sweeper.step() == 1  # stalled: enqueued again
    # A fresh sweeper (a restart) enqueues every open computation at once.
    assert Sweeper(stack.app, _Log(), clock=lambda: 0.0).step() == 1

    stack.start_work()
    stack.wait_for_status(s.run_id, "IN_SYNC")
    now[0] = 1000.0
    assert sweeper.step() == 0 and sweeper.open == {}
    assert Sweeper(stack.app, _Log()).step() == 0


def test_only_the_sweeper_holding_the_lease_enqueues(stack: Stack) -> None:
    """With Redis every process's sweeper follows the log, but one enqueues: each chunk
    once, not once per server and worker. Another takes over when the holder goes."""
    s = scenario(stack.runtime, rows=4)
    predict(stack.runtime, s.run_id, _lines(s.keys))
    first, second = Leases(stack.database, kind="sweeper"), Leases(stack.database, kind="sweeper")
    try:
        holder, standby = _Log(), _Log()
        holding = Sweeper(stack.app, holder, clock=lambda: 0.0, lease=lambda: first.take("computations"))
        waiting = Sweeper(stack.app, standby, clock=lambda: 0.0, lease=lambda: second.take("computations"))
        assert holding.step() == 1 and waiting.step() == 0 and standby.sent == []
        first.close()  # the holder's process ends: its session, and the lease, with it
        assert waiting.step() == 1 and len(standby.sent) == 1  # what is open, at once
        assert standby.sent[0][:2] == holder.sent[0][:2]
    finally:
        first.close()
        second.close()
