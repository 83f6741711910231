"""Keeps the runs people are about to look at ready in memory.

A run's gallery index, its metadata columns, its metric results and the per-row metrics
of the grid point the web app opens it at are built on the first read after they change
(about a second for 100,000 rows and a million predictions), and the first person to open
the run after an upload, a computation or a restart would wait for that. Instead, after each
change of the event log, the server rebuilds them in the background for the runs whose
computations changed last and the runs already in memory: the gallery index as soon as the
run's rows change (a computation does not change it), the metric results once the metrics
are IN_SYNC (rebuilding while a computation is still recording results would redo the work
at every result). A read that comes before the warm-up finishes builds them itself, as before.

While a run's predictions stream in, each upload changes its rows and its metrics compute:
its gallery index is then built only once its rows have stayed as they are for QUIET_SECONDS
(rebuilding a 100,000-row index after every upload took a sixth of the server's time during
a million-prediction upload).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING
from uuid import UUID

from domain.computations import METRICS
from domain.errors import NotFound
from projections.computation_status.queries import IN_SYNC
from projections.gallery.queries import CACHED_RUNS

if TYPE_CHECKING:
    from projections import ReadModels

log = logging.getLogger(__name__)

# The runs whose computations changed last that are warmed besides those already in memory.
RECENT_RUNS = 2
# How long a computing run's rows stay unchanged before its gallery index is built.
QUIET_SECONDS = 5.0


class RunWarming:
    def __init__(
        self, read_models: ReadModels, quiet_seconds: float = QUIET_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._read_models = read_models
        self._quiet_seconds = quiet_seconds
        self._clock = clock
        # Per computing run: the gallery stamp last seen and when it was first seen.
        self._seen: dict[UUID, tuple[object, float]] = {}

    def candidates(self) -> list[UUID]:
        """The recently computed runs, then the runs in memory; as many as memory keeps."""
        recent = self._read_models.computation_status.recent_owners(METRICS, RECENT_RUNS)
        in_memory = [*self._read_models.gallery.runs_in_memory(), *self._read_models.metrics.runs_in_memory()]
        return list(dict.fromkeys([*recent, *in_memory]))[:CACHED_RUNS]

    def warm(self) -> list[UUID]:
        """Builds what changed of the candidates; returns the runs it built.

        What is built is kept under a stamp read from one read model while its rows come from
        others, so every read model is first brought to the log's end. If anything was
        recorded while building, every read model is brought to the new end and what was
        built is kept only where its stamp is still the one a read would ask for: the change
        did not touch it, so its rows are the same at both ends (a computation's results do
        not touch a gallery index). The rest is dropped; the next read builds it after its
        own wait."""
        models = self._read_models
        position = models.log_position()
        models.wait(position)
        warmed = self._build()
        moved_to = models.log_position()
        if moved_to == position:
            return warmed
        models.wait(moved_to)
        kept = []
        for run_id in warmed:
            gallery, metrics = models.gallery.is_current(run_id), models.metrics.is_current(run_id)
            if not gallery:
                models.gallery.forget(run_id)
            if not metrics:
                models.metrics.forget(run_id)
            if gallery or metrics:
                kept.append(run_id)
        return kept

    def _build(self) -> list[UUID]:
        warmed = []
        candidates = self.candidates()
        for run_id in candidates:
            try:
                in_sync = self._read_models.metrics.status(run_id).state == IN_SYNC
                if not in_sync and not self._quiet(run_id):
                    continue
                self._read_models.gallery.warm(run_id)
                if in_sync:
                    self._read_models.metrics.warm(run_id)
            except NotFound:
                continue  # deleted since
            warmed.append(run_id)
        self._seen = {run_id: seen for run_id, seen in self._seen.items() if run_id in candidates}
        return warmed

    def _quiet(self, run_id: UUID) -> bool:
        """Whether the run's rows have stayed as they are for the quiet period."""
        stamp, now = self._read_models.gallery.current_stamp(run_id), self._clock()
        seen = self._seen.get(run_id)
        if seen is None or seen[0] != stamp:
            self._seen[run_id] = (stamp, now)
            return False
        return now - seen[1] >= self._quiet_seconds
