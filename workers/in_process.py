"""Workers and the sweeper of one process: in the server (embedded default) or `worker`.

With the in-process broker the server runs worker threads itself; with Redis it only
sweeps (or nothing at all: `modelledger worker` processes sweep too).
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import dramatiq
from dramatiq.brokers.stub import StubBroker

if TYPE_CHECKING:
    from runtime import Runtime

from projections.leases import Leases
from projections.metrics.inputs import MetricInputs
from workers import kinds
from workers.broker import in_process, setup_broker
from workers.services import WorkerServices, configure, release
from workers.sweeper import Sweeper

DEFAULT_THREADS = 2


def _seconds(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value else default


@dataclass(frozen=True)
class WorkSettings:
    threads: int = DEFAULT_THREADS
    workers: bool = True  # consume messages in this process
    sweep: bool = True
    poll_seconds: float = 0.5
    stale_seconds: float = 60.0
    modules: Sequence[str] = ()  # more computation kinds to register

    @classmethod
    def from_environment(cls, **overrides: Any) -> WorkSettings:
        """The settings the environment gives, with `overrides` (fields by name; None keeps
        a field as the environment or its default has it)."""
        values: dict[str, Any] = {
            "threads": int(os.environ.get("MODELLEDGER_WORKER_THREADS", DEFAULT_THREADS)),
            "poll_seconds": _seconds("MODELLEDGER_SWEEP_POLL_SECONDS", 0.5),
            "stale_seconds": _seconds("MODELLEDGER_SWEEP_STALE_SECONDS", 60.0),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


class BackgroundWork:
    def __init__(
        self, services: WorkerServices, settings: WorkSettings | None = None, close_inputs: bool = False
    ) -> None:
        self.services = services
        self.settings = settings or WorkSettings.from_environment()
        self._close_inputs = close_inputs
        self.worker: dramatiq.Worker | None = None
        self.sweeper: Sweeper | None = None
        self._leases: Leases | None = None

    def start(self) -> BackgroundWork:
        configure(self.services)
        broker = setup_broker()
        from workers import actors

        for module in self.settings.modules:
            importlib.import_module(module)
        if self.settings.workers:
            self.worker = dramatiq.Worker(broker, worker_threads=self.settings.threads, worker_timeout=100)
            self.worker.start()
            kinds.warm_up()
        if self.settings.sweep:
            if not isinstance(broker, StubBroker):  # one queue for every process: one of them enqueues
                self._leases = Leases(self.services.database, kind="sweeper")
            self.sweeper = Sweeper(
                self.services.app,
                actors.enqueue,
                poll_seconds=self.settings.poll_seconds,
                stale_seconds=self.settings.stale_seconds,
                lease=self._holds_lease,
            ).start()
        return self

    def _holds_lease(self) -> bool:
        """Whether this process's sweeper enqueues: always with the in-process broker (its
        queue is its own); with Redis, while it holds the sweeper's lease."""
        if self._leases is None:
            return True
        return self._leases.check() and self._leases.take("computations")

    def stop(self) -> None:
        if self.sweeper is not None:
            self.sweeper.stop()
            self.sweeper = None
        if self._leases is not None:
            self._leases.close()
            self._leases = None
        if self.worker is not None:
            self.worker.stop(timeout=30_000)
            self.worker = None
        broker = setup_broker()
        if release(self.services) and isinstance(broker, StubBroker):
            broker.flush_all()  # messages of this process's work die with it
        if self._close_inputs:
            self.services.inputs.close()


def server_work(runtime: Runtime) -> BackgroundWork:
    """The server's share: worker threads with the in-process broker (the embedded default),
    and a sweeper either way (with Redis, `modelledger worker` processes compute)."""
    services = WorkerServices(runtime.database, runtime.app, MetricInputs(runtime.database))
    settings = WorkSettings.from_environment(workers=in_process())
    return BackgroundWork(services, settings, close_inputs=True).start()
