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
"""

from __future__ import annotations

import logging
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


class RunWarming:
    def __init__(self, read_models: ReadModels) -> None:
        self._read_models = read_models

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
        for run_id in self.candidates():
            try:
                self._read_models.gallery.warm(run_id)
                if self._read_models.metrics.status(run_id).state == IN_SYNC:
                    self._read_models.metrics.warm(run_id)
            except NotFound:
                continue  # deleted since
            warmed.append(run_id)
        return warmed
