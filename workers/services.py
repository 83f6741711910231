"""What an actor works with: the command application and the metric inputs, per process.

The server hands over its own (in-process workers); a worker process opens them from the
environment (POSTGRES_* or the embedded database) on first use.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from application import ModelLedger
from projections.metrics.inputs import MetricInputs
from storage.database import Database, database_from_environment, preparing


@dataclass
class WorkerServices:
    database: Database
    app: ModelLedger
    inputs: MetricInputs
    # How long a chunk waits for the read models it reads to catch up.
    input_wait_seconds: float = 120.0
    owned: bool = field(default=False)

    @classmethod
    def open(cls, database: Database) -> WorkerServices:
        with preparing(database):
            return cls(database, ModelLedger(env=database.application_env()), MetricInputs(database), owned=True)

    def close(self) -> None:
        if self.owned:
            self.inputs.close()
            self.app.close()


_lock = threading.Lock()
_services: WorkerServices | None = None


def configure(services: WorkerServices | None) -> None:
    global _services
    with _lock:
        _services = services


def release(services: WorkerServices) -> bool:
    """Unset these services if they are still the process's (a server stopping late must not
    unset the next one's); True if they were."""
    global _services
    with _lock:
        if _services is not services:
            return False
        _services = None
        return True


def current() -> WorkerServices:
    global _services
    with _lock:
        if _services is None:
            _services = WorkerServices.open(database_from_environment())
        return _services
