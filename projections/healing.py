"""Starting stopped read models again, with backoff.

A read model stops when applying an event (or reading the log) fails: the database
restarted, a connection broke, or an event meets a defect. Its work on that event is rolled
back, so starting it again over the same view applies the event anew: a passing fault heals
by itself, and a lasting one is retried at growing intervals (1 s, 2 s, 4 s ... 60 s), each
failure logged and reported (`ReadModels.stopped`, /ready) until a fix lets it through.
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta

from projections.runners import ReadModelRunner

logger = logging.getLogger(__name__)

FIRST_DELAY = 1.0
LONGEST_DELAY = 60.0
CHECK_EVERY = 0.5


def delay_after(restarts: int) -> float:
    """Seconds to wait before the next start of a read model started `restarts` times."""
    return min(LONGEST_DELAY, FIRST_DELAY * float(2 ** min(restarts, 16)))


class ReadModelHealer:
    """A daemon thread that starts each stopped runner again, in place in `runners`."""

    def __init__(self, runners: dict[str, ReadModelRunner]) -> None:
        self._runners = runners
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="read-model-healer", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop healing; after this returns no runner is started again."""
        self._stopping.set()
        with self._lock:
            pass
        if self._thread.is_alive():
            self._thread.join(timeout=30)

    def heal_due(self, now: datetime | None = None) -> list[str]:
        """Start again every stopped runner whose delay has passed; their names."""
        now = now or datetime.now(UTC)
        healed: list[str] = []
        with self._lock:
            for name, runner in list(self._runners.items()):
                stopped = runner.stopped
                if self._stopping.is_set() or not runner.is_interrupted.is_set() or stopped is None:
                    continue
                if now < stopped.at + timedelta(seconds=delay_after(stopped.restarts)):
                    continue
                try:
                    self._runners[name] = runner.restarted()
                except Exception:  # noqa: BLE001 (the database may still be away: logged, and tried after the next delay)
                    continue
                logger.warning("read model %r started again (start %d)", name, runner.restarts + 1)
                healed.append(name)
        return healed

    def _run(self) -> None:
        while not self._stopping.wait(CHECK_EVERY):
            self.heal_due()
