"""Starting stopped read models again, with backoff; taking over those another process
stopped writing (projections.leases).

A read model stops when applying an event (or reading the log) fails: the database
restarted, a connection broke, or an event meets a defect. Its work on that event is rolled
back, so starting it again over the same view applies the event anew: a passing fault heals
by itself, and a lasting one is retried at growing intervals (1 s, 2 s, 4 s ... 60 s), each
failure logged and reported (`ReadModels.stopped`, /ready) until a fix lets it through.
The other processes on the database learn of it from the stop board (projections.stop_board).
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta

from projections.leases import Leases, StandbyLog, StandbyRunner
from projections.runners import ReadModelRunner, Stopped
from projections.stop_board import StopBoard

Runner = ReadModelRunner | StandbyRunner

logger = logging.getLogger(__name__)

FIRST_DELAY = 1.0
LONGEST_DELAY = 60.0
CHECK_EVERY = 0.5


def delay_after(restarts: int) -> float:
    """Seconds to wait before the next start of a read model started `restarts` times."""
    return min(LONGEST_DELAY, FIRST_DELAY * float(2 ** min(restarts, 16)))


class ReadModelHealer:
    """A daemon thread that starts each stopped runner again, in place in `runners`, and,
    with `leases`, keeps each read model written by one process: it takes over a read model
    whose lease is free and puts on standby one whose lease it lost."""

    def __init__(
        self,
        runners: dict[str, Runner],
        leases: Leases | None = None,
        standby_log: StandbyLog | None = None,
        board: StopBoard | None = None,
    ) -> None:
        self._runners = runners
        self._leases = leases
        self._standby_log = standby_log
        self._board = board
        self._posted: dict[str, Stopped] = {}  # this process's stops as the board shows them
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
        """Start again every stopped runner whose delay has passed; their names. One whose
        lease another process took meanwhile goes on standby instead."""
        now = now or datetime.now(UTC)
        healed: list[str] = []
        with self._lock:
            for name, runner in list(self._runners.items()):
                stopped = runner.stopped
                if not isinstance(runner, ReadModelRunner):
                    continue  # on standby: the writing process heals it
                if self._stopping.is_set() or not runner.is_interrupted.is_set() or stopped is None:
                    continue
                if now < stopped.at + timedelta(seconds=delay_after(stopped.restarts)):
                    continue
                if self._leases is not None and not self._leases.take(name):
                    self._stand_by(name, runner)
                    continue
                try:
                    self._runners[name] = runner.restarted()
                except Exception:  # noqa: BLE001 (the database may still be away: logged, and tried after the next delay)
                    continue
                logger.warning("read model %r started again (start %d)", name, runner.restarts + 1)
                healed.append(name)
        return healed

    def keep_leases(self) -> list[str]:
        """Take over every read model on standby whose lease is free now; their names. If
        the leases' connection was lost (and so every lease), every runner goes on standby
        first: another process may be writing its read model already."""
        if self._leases is None:
            return []
        taken: list[str] = []
        with self._lock:
            if self._stopping.is_set():
                return []
            if not self._leases.check():
                for name, runner in list(self._runners.items()):
                    if isinstance(runner, ReadModelRunner):
                        self._stand_by(name, runner)
            standby = [name for name, runner in self._runners.items() if isinstance(runner, StandbyRunner)]
            for name in self._leases.take_free(standby):
                runner = self._runners[name]
                assert isinstance(runner, StandbyRunner)
                try:
                    self._runners[name] = runner.started()
                except Exception:  # noqa: BLE001 (the lease stays held: started again at the next check)
                    logger.warning("read model %r could not be taken over yet", name, exc_info=True)
                    continue
                logger.info("read model %r is written by this process now", name)
                taken.append(name)
        return taken

    def _stand_by(self, name: str, runner: ReadModelRunner) -> None:
        assert self._standby_log is not None
        try:
            runner.__exit__(None, None, None)
        except Exception:  # noqa: BLE001, S110 (it is being replaced; its error was logged)
            pass
        self._runners[name] = StandbyRunner(runner.model, runner.env, self._standby_log.get(), runner.view)
        logger.warning("read model %r is on standby: another process holds its lease", name)

    def share_stops(self) -> None:
        """Post this process's stopped read models on the board (and take them off once they
        run again); tell the read models on standby whether their writer reports them stopped."""
        if self._board is None:
            return
        with self._lock:
            runners = dict(self._runners)
        stopped_here = {
            name: runner.stopped
            for name, runner in runners.items()
            if isinstance(runner, ReadModelRunner) and runner.is_interrupted.is_set() and runner.stopped is not None
        }
        for name, stopped in stopped_here.items():
            if self._posted.get(name) != stopped:
                self._board.post(stopped)
                self._posted[name] = stopped
        running_again = [name for name in self._posted if name not in stopped_here]
        if running_again:
            self._board.take_off(running_again)
            for name in running_again:
                del self._posted[name]
        standby = {name: runner for name, runner in runners.items() if isinstance(runner, StandbyRunner)}
        if standby:
            reported = self._board.read(list(standby))
            for name, runner in standby.items():
                runner.stopped_elsewhere(reported.get(name))

    def _run(self) -> None:
        while not self._stopping.wait(CHECK_EVERY):
            self.keep_leases()
            self.heal_due()
            try:
                self.share_stops()
            except Exception:  # noqa: BLE001 (the database may be away: the next check tries again)
                logger.debug("stopped read models could not be shared", exc_info=True)
