"""The ModelRun type's groups of fields, one module per read model they ask: the gallery's
(gallery.py), the metrics' (metrics.py) and the projector's (projector.py).

ModelRun (schema/types/model_run.py) is one GraphQL type that inherits every group. Each
group reads the run's id and the version shown, which ModelRun holds; `RunFieldGroup`
declares them for the type checker only (GraphQL sees them once, on ModelRun).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from projections.metrics.records import RunAt

if TYPE_CHECKING:
    import strawberry


class RunFieldGroup:
    if TYPE_CHECKING:
        id: strawberry.ID
        model_id: strawberry.ID
        version: int
        latest_version: int

    def run_at(self) -> str | RunAt:
        """The run as of the version shown: an older version reads only what was computed from
        that version's inputs and settings."""
        if self.version != self.latest_version:
            return RunAt(str(self.id), self.version)
        return str(self.id)
