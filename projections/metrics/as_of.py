"""Which results a metric query reads for a run shown as of a version."""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from domain.errors import NotFound
from projections.ids import as_uuid
from projections.metrics.records import RunAt

if TYPE_CHECKING:
    from projections.metrics.queries import MetricQueries


def run_at(queries: MetricQueries, run_id: UUID | str, version: int | None) -> str | RunAt:
    """The run as of `version` (None: its latest): an older version reads only the results
    of that version's inputs and settings, as `modelRun(id, version)` does."""
    if version is None:
        return str(run_id)
    parsed = as_uuid(str(run_id))
    stamp = None if parsed is None else queries.stamp(parsed)
    if stamp is None:
        raise NotFound(f"model run {run_id} not found")
    if version < 1 or version > stamp.version:
        raise NotFound(f"model run {run_id} has no version {version} (its latest is {stamp.version})")
    return str(run_id) if version == stamp.version else RunAt(str(run_id), version)
