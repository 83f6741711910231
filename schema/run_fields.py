"""What the ModelRun type's groups of fields read of the run they belong to.

ModelRun (schema/types/model_run.py) is one GraphQL type whose fields come from a class per
read model (schema/gallery_queries.py, metrics_queries.py, projector_queries.py). Each reads
the run's id and the version shown, which ModelRun holds; they are declared here for the type
checker only (GraphQL sees them once, on ModelRun).
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
