"""A running ledger with its metric read models and in-process background work, for tests."""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from eventsourcing.utils import get_topic

from application import ModelLedger
from domain.computations import Computation, ComputationResult
from projections.computation_status.queries import StatusRecord
from projections.metrics.inputs import MetricInputs
from projections.metrics.read_models import MetricReadModels
from runtime import Runtime, open_runtime
from storage.database import Database, drop_schema, ensure_schema
from workers.in_process import BackgroundWork, WorkSettings
from workers.services import WorkerServices

T = TypeVar("T")
# Generous: a wait that runs out fails the test rather than hanging it; nothing is timed.
WAIT_SECONDS = 180.0


def eventually(probe: Callable[[], T | None], what: str, timeout: float = WAIT_SECONDS) -> T:
    deadline = time.monotonic() + timeout
    while True:
        found = probe()
        if found is not None:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.05)


def assert_computed_once(app: ModelLedger) -> set[tuple[str, int]]:
    """Every chunk of every computation requested in the log is completed exactly once, with
    one result each: (computation id, chunk) of each."""
    recorder, mapper = app.recorder, app.mapper
    requested = recorder.select_notifications(0, 10_000, topics=[get_topic(Computation.Requested)])
    planned = {
        (str(n.originator_id), chunk)
        for n in requested
        for chunk in range(mapper.to_domain_event(n).chunks)
    }
    completed = Counter(
        (str(n.originator_id), mapper.to_domain_event(n).chunk)
        for n in recorder.select_notifications(
            0, 10_000, topics=[get_topic(Computation.ChunkCompleted)]
        )
    )
    results = recorder.select_notifications(
        0, 10_000, topics=[get_topic(ComputationResult.Recorded)]
    )
    assert set(completed) == planned
    assert set(completed.values()) == {1}
    assert len(results) == len(planned)
    return planned


@dataclass
class Stack:
    database: Database
    runtime: Runtime
    metrics_read_models: MetricReadModels  # the runtime's read models answer as these
    work: BackgroundWork | None = None

    @property
    def app(self) -> ModelLedger:
        return self.runtime.app

    def start_work(self, **settings: Any) -> BackgroundWork:
        services = WorkerServices(self.database, self.app, MetricInputs(self.database), owned=False)
        options = {"threads": 2, "poll_seconds": 0.05, "stale_seconds": 5.0, **settings}
        self.work = BackgroundWork(services, WorkSettings(**options)).start()
        return self.work

    def stop_work(self) -> None:
        if self.work is not None:
            self.work.stop()
            self.work.services.inputs.close()
            self.work = None

    def status(self, run_id: uuid.UUID) -> StatusRecord:
        return self.metrics_read_models.metrics.status(run_id)

    def wait_for_status(self, run_id: uuid.UUID, state: str) -> StatusRecord:
        def probe() -> StatusRecord | None:
            self.wait_until_current()
            found = self.status(run_id)
            if found.state == "FAILED" and state != "FAILED":
                raise AssertionError(f"the computation failed: {found.error}")
            return found if found.state == state else None

        return eventually(probe, f"metrics status {state}")

    def wait_until_current(self) -> None:
        self.runtime.read_models.wait_until_current(WAIT_SECONDS)


@contextmanager
def running_stack(server: Database) -> Iterator[Stack]:
    database = server.with_schema(f"w_{uuid.uuid4().hex[:12]}")
    ensure_schema(database)
    runtime = open_runtime(database)
    stack = Stack(database, runtime, runtime.read_models)  # type: ignore[arg-type]
    try:
        yield stack
    finally:
        stack.stop_work()
        runtime.close()
        drop_schema(database)
