"""Faults against a real Redis (a redis-server of these tests' own) with `modelledger worker` processes:
a worker killed with SIGKILL mid-computation, Redis stopped and started again with jobs
queued, a computation that always fails. Every requested chunk is computed and recorded
exactly once, and the status reaches IN_SYNC (or FAILED, for the one that always fails)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.processes import WorkerProcess
from tests.projections.builders import box, predict, scenario
from tests.workers.redis_server import RedisServer, running_redis
from tests.workers.stack import Stack, assert_computed_once, eventually

# Several servers, workers or clients at once: run alone (see the serial marker).
pytestmark = pytest.mark.serial

UPLOADS = 6
ROWS_PER_UPLOAD = 4


@pytest.fixture
def redis_db() -> Iterator[RedisServer]:
    """A Redis of this test's own, which it may stop and start again."""
    with running_redis() as server:
        yield server


@pytest.fixture
def workers(stack: Stack, redis_db: RedisServer, tmp_path: Path) -> Iterator[Any]:
    started: list[WorkerProcess] = []

    def start(module: str = "tests.workers.slow_kind") -> WorkerProcess:
        worker = WorkerProcess(stack.database, redis_db.url, module, tmp_path / "worker.log")
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


def _upload_in_parts(stack: Stack) -> Any:
    s = scenario(stack.runtime, rows=UPLOADS * ROWS_PER_UPLOAD)
    for part in range(UPLOADS):
        keys = s.keys[part * ROWS_PER_UPLOAD : (part + 1) * ROWS_PER_UPLOAD]
        lines = [
            {"dataRow": {"globalKey": k}, "name": "car", "bbox": box(top=1), "confidence": 0.7}
            for k in keys
        ]
        predict(stack.runtime, s.run_id, lines)
    return s


def _wait_some_done(stack: Stack, run_id: Any, worker: WorkerProcess) -> None:
    try:
        eventually(lambda: _some_done(stack, run_id), "a first chunk computed")
    except AssertionError as exc:
        tail = worker.log.read_text(errors="replace")[-3000:] if worker.log.exists() else "(no log)"
        raise AssertionError(f"{exc}; the worker's log ends with:\n{tail}") from None


def _some_done(stack: Stack, run_id: Any) -> Any:
    stack.wait_until_current()
    status = stack.status(run_id)
    return status if status.state == "COMPUTING" and status.pending_chunks <= UPLOADS - 2 else None


def test_a_worker_killed_mid_computation_loses_nothing(stack: Stack, workers: Any) -> None:
    s = _upload_in_parts(stack)
    first = workers()
    _wait_some_done(stack, s.run_id, first)
    first.kill()  # SIGKILL, in the middle of a chunk: its message dies with it

    workers()
    stack.wait_for_status(s.run_id, "IN_SYNC")
    assert_computed_once(stack.app)
    assert (
        stack.metrics_read_models.metrics.metrics(s.run_id, 0.5, 0.5).data_rows
        == UPLOADS * ROWS_PER_UPLOAD
    )


def test_redis_restarted_with_jobs_queued_loses_nothing(
    stack: Stack, workers: Any, redis_db: RedisServer
) -> None:
    s = _upload_in_parts(stack)
    _wait_some_done(stack, s.run_id, workers())
    try:
        redis_db.stop()  # the queued messages are gone: this Redis keeps nothing on disk
    finally:
        redis_db.start()
    stack.wait_for_status(s.run_id, "IN_SYNC")
    assert_computed_once(stack.app)


def test_a_computation_that_always_fails_ends_failed(stack: Stack, workers: Any) -> None:
    s = scenario(stack.runtime, rows=3)
    predict(
        stack.runtime, s.run_id, [{"dataRow": {"globalKey": "k0"}, "name": "car", "bbox": box()}]
    )
    workers("tests.workers.failing_kind")
    failed = stack.wait_for_status(s.run_id, "FAILED")
    assert failed.error is not None and "injected failure" in failed.error
    assert failed.pending_data_rows == 1
