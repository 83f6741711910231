"""Keeps `slice_memberships` current: each saved slice's members in each run of its model.

A thread of every runtime takes in the changes the projection marked (slice_membership/
projection.py): it waits until every read model holds the events up to the newest mark,
finds the runs concerned (a run's own events; the runs with rows of a dataset whose
metadata changed; the runs of a slice's model) and recomputes, per run, every saved slice
of its model through the gallery's queries. A slice whose filter needs a grid point (metric,
confusion or automatic-slice clauses, directly or through the slices it includes) is kept
at the grid points being watched (`watch`: a subscription, on this server or another: the
watches are shared through the database); while the run's metrics are being computed it
keeps its last membership and is tried again.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections import Counter
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from time import monotonic
from typing import TYPE_CHECKING
from uuid import UUID, uuid4

from domain.errors import ValidationFailed
from domain.filter_language import SliceClause, clauses_from_json, depends_on_results
from projections.gallery.selection import MAX_SLICE_DEPTH
from projections.metrics.queries import MetricsOutOfSync
from projections.slice_membership.view import (
    DATASET,
    NO_GRID,
    RUN,
    SLICE,
    Membership,
    SliceMembershipView,
)

if TYPE_CHECKING:
    from projections import ReadModels

log = logging.getLogger(__name__)

RETRY_SECONDS = 1.0
# How long one pass waits for the read models to take in the log.
WAIT_SECONDS = 10.0
# A server's watches are published for this long and renewed a third of the way: those of
# a server that stopped are no longer kept after at most this long.
WATCH_SECONDS = 60.0

Grid = tuple[float, float]


def grid_key(grid: Grid | None) -> str:
    return NO_GRID if grid is None else f"{grid[0]!r}/{grid[1]!r}"


def grid_of(key: str) -> Grid | None:
    if key == NO_GRID:
        return None
    confidence, iou = key.split("/")
    return float(confidence), float(iou)


class MembershipRefresher:
    def __init__(self, view: SliceMembershipView, read_models: ReadModels, poll_seconds: float = 0.1) -> None:
        self.view = view
        self.read_models = read_models
        self.poll_seconds = poll_seconds
        self._lock = threading.Lock()
        self._watched: Counter[tuple[str, UUID, str]] = Counter()  # (slice id, run id, grid)
        # This server's watches as last published for every server's refresher, and when.
        self.watcher = f"{socket.gethostname()}:{os.getpid()}:{uuid4().hex[:8]}"
        self._published: set[tuple[str, UUID, str]] = set()
        self._published_at = 0.0
        self._due: set[UUID] = set()  # runs to recompute without a new change (watches, retries)
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._generation = 0
        self._thread: threading.Thread | None = None

    # -- running -------------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="slice-membership", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
        if self._published:
            try:  # this server's watches end with it (else they expire within WATCH_SECONDS)
                self.view.publish_watches(self.watcher, [], 0)
            except Exception:  # noqa: BLE001 (stopping goes on without the database)
                log.warning("slice memberships: this server's watches could not be withdrawn", exc_info=True)

    @property
    def generation(self) -> int:
        """Moves each time memberships were stored: a watcher reads them again then."""
        return self._generation

    @contextmanager
    def watch(self, slice_id: str, run_id: UUID, grid: Grid | None) -> Iterator[str]:
        """Keep the slice's membership in the run at this grid point while inside; gives the
        grid key the stored membership is found under."""
        key = (slice_id, run_id, grid_key(grid))
        with self._lock:
            self._watched[key] += 1
            self._due.add(run_id)
        self._wake.set()
        try:
            yield key[2]
        finally:
            with self._lock:
                self._watched[key] -= 1
                if self._watched[key] <= 0:
                    del self._watched[key]

    def _run(self) -> None:
        pause = self.poll_seconds
        while not self._stopping.is_set():
            try:
                complete = self.refresh()
                # Runs whose metrics are being computed are tried again, but not at once.
                pause = self.poll_seconds if complete else RETRY_SECONDS
            except Exception:  # noqa: BLE001 (a lost connection or a slow read model must not end the thread)
                log.exception("slice memberships: refreshing failed; trying again")
                pause = min(pause * 2, 5.0)
            self._wake.wait(pause)
            self._wake.clear()

    # -- one pass ------------------------------------------------------------------------

    def refresh(self) -> bool:
        """Take in every change marked so far. False when some run could not be completed
        (its metrics are being computed): its changes stay pending."""
        self._publish_watches()
        changes = self.view.pending()
        with self._lock:
            due, self._due = self._due, set()
        if not changes and not due:
            return True
        position = self.read_models.log_position()
        try:
            self.read_models.wait(position, WAIT_SECONDS)
        except TimeoutError:
            # The read models are busy (a bulk upload): the same changes are pending next time.
            with self._lock:
                self._due |= due
            return False
        runs_of = {(row["scope"], row["id"]): self._runs_of(row["scope"], row["id"]) for row in changes}
        runs = set(due).union(*runs_of.values())
        incomplete = {run_id for run_id in runs if not self._recompute(run_id, position)}
        self.view.taken_in(
            [
                (row["scope"], row["id"], row["notification_id"])
                for row in changes
                if not runs_of[(row["scope"], row["id"])] & incomplete
            ]
        )
        with self._lock:
            self._due |= incomplete & due
            self._generation += 1
        return not incomplete

    def _publish_watches(self) -> None:
        """Tell every server's refresher which grid points this one's subscriptions watch:
        at once when they change, and a third of WATCH_SECONDS after the last time."""
        with self._lock:
            watched = set(self._watched)
        if watched == self._published and monotonic() < self._published_at + WATCH_SECONDS / 3:
            return
        self.view.publish_watches(self.watcher, sorted(watched), WATCH_SECONDS)
        self._published, self._published_at = watched, monotonic()

    def _runs_of(self, scope: str, changed_id: UUID) -> set[UUID]:
        runs = self.read_models.runs
        if scope == RUN:
            return {changed_id}
        if scope == DATASET:
            return runs.live_runs_with_rows_of(changed_id)
        if scope == SLICE:
            model_id = self.read_models.slices.model_of(changed_id)
            return set() if model_id is None else runs.live_runs_of_model(model_id)
        raise ValueError(f"unknown change scope {scope!r}")

    def _recompute(self, run_id: UUID, position: int) -> bool:
        """Store the run's memberships; False when some must be tried again later."""
        run = self.read_models.runs.model_run(run_id)
        if run is None:
            self.view.remove_run(run_id)
            return True
        with self._lock:
            watched = {(s, g) for (s, r, g) in self._watched if r == run_id}
        watched.update(self.view.watched(run_id))  # other servers' subscriptions too
        memberships, kept, complete = self.memberships(run_id, run.model_id, watched)
        self.view.store(run_id, run.version, memberships, position, kept)
        return complete

    def memberships(
        self, run_id: UUID, model_id: UUID | str, watched: Collection[tuple[str, str]]
    ) -> tuple[list[Membership], list[tuple[UUID, str]], bool]:
        """The run's memberships now: every saved slice of its model, those needing a grid
        point at the `watched` (slice id, grid key) ones; the (slice id, grid key) ones to
        keep as they are (metrics being computed); and whether none had to be kept."""
        memberships: list[Membership] = []
        kept: list[tuple[UUID, str]] = []
        complete = True
        for record in self.read_models.slices.slices_of_model(model_id):
            slice_id = UUID(record.id)
            if self.needs_grid(record.filter):
                grids = sorted({g for s, g in watched if s == record.id and g != NO_GRID})
            else:
                grids = [NO_GRID]
            for grid in grids:
                try:
                    found = self.read_models.gallery.membership(run_id, [SliceClause(record.id)], grid_of(grid))
                except MetricsOutOfSync:
                    kept.append((slice_id, grid))
                    complete = False
                    continue
                except ValidationFailed as exc:
                    memberships.append(Membership(slice_id, grid, None, None, None, exc.message))
                    continue
                memberships.append(Membership(slice_id, grid, found.count, found.digest, found.bitmap))
        return memberships, kept, complete

    def needs_grid(self, filter_json: object, depth: int = 0) -> bool:
        """Whether the filter, or a slice it includes, has clauses evaluated at a grid point."""
        clauses = clauses_from_json(filter_json)
        if depends_on_results(clauses):
            return True
        if depth >= MAX_SLICE_DEPTH:
            return False
        for clause in clauses:
            if isinstance(clause, SliceClause):
                included = self.read_models.slices.slice(clause.slice_id)
                if included is not None and self.needs_grid(included.filter, depth + 1):
                    return True
        return False
