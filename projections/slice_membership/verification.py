"""Checks the stored slice memberships (`replay --verify`): they are not rebuilt from the
log but computed by the refresher from the other read models, so each stored one is
computed again from those read models, as they are now, and compared.

Run in a process of its own with every read model on standby (it writes nothing). The
refresher must have taken in every change first: a change still pending after 30 s is
reported, as is a live run missing the membership of a slice that needs no grid point, a
membership of a run or slice that no longer exists, and one whose members differ. A server
writing meanwhile can make a membership differ by timing alone: verify a quiet database.
"""

from __future__ import annotations

import time
from collections import defaultdict
from uuid import UUID

from projections import start_read_models
from projections.slice_membership.view import NO_GRID
from storage.database import Database

NAME = "slice_membership"
# How long the refresher of a running server is given to take in the last changes.
PENDING_WAIT_SECONDS = 30.0


def verify_memberships(database: Database, wait: bool = True) -> tuple[list[str], str]:
    """The differences, and what was compared. Without `wait` pending changes are reported
    at once (a read model is already known to be behind: the refresher cannot catch up)."""
    read_models = start_read_models(database, database.application_env(), writing=False)
    try:
        view = read_models.memberships
        deadline = time.monotonic() + (PENDING_WAIT_SECONDS if wait else 0.0)
        while (pending := view.pending()) and time.monotonic() < deadline:
            time.sleep(0.2)  # a running server's refresher takes the last changes in
        if pending:
            return [
                f"{NAME}: {len(pending)} change(s) not taken in yet by the refresher (the first at event "
                f"{pending[0]['notification_id']}): is a server running, and are its read models current?"
            ], f"{NAME}: not compared ({len(pending)} change(s) pending)"
        stored = view.fetch("SELECT run_id, slice_id, grid, member_count, digest, error FROM {s}.slice_memberships")
        by_run: dict[UUID, dict[tuple[str, str], dict[str, object]]] = defaultdict(dict)
        for row in stored:
            by_run[row["run_id"]][(str(row["slice_id"]), row["grid"])] = row
        live_runs = read_models.runs.live_runs()
        differences: list[str] = []
        computing = 0
        for run_id, model_id, _version in live_runs:
            have = by_run.pop(run_id, {})
            watched = [key for key in have if key[1] != NO_GRID]
            expected, kept, _ = read_models.refresher.memberships(run_id, model_id, watched)
            computing += len(kept)
            for membership in expected:
                key = (str(membership.slice_id), membership.grid)
                row = have.pop(key, None)
                where = f"slice {key[0]} in run {run_id} at {key[1]}"
                if row is None:
                    if membership.grid == NO_GRID:
                        differences.append(f"{NAME}: {where}: no membership stored")
                    continue
                now = (membership.count, membership.digest, membership.error)
                then = (row["member_count"], row["digest"], row["error"])
                if now != then:
                    differences.append(f"{NAME}: {where}: stored (members, digest, error) {then}, computed now {now}")
            for slice_id, grid in have.keys() - {(str(s), g) for s, g in kept}:
                differences.append(f"{NAME}: slice {slice_id} in run {run_id} at {grid}: stored, but the slice is gone")
        for gone, rows in by_run.items():
            differences.append(f"{NAME}: {len(rows)} membership(s) stored for run {gone}, which is deleted or unknown")
        summary = f"{NAME}: {len(stored)} membership(s) of {len(live_runs)} run(s) computed again and compared"
        if computing:
            summary += f" ({computing} left out: their run's metrics are being computed)"
        return differences, summary
    finally:
        read_models.stop()
