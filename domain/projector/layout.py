"""A layout: one requested 2-D reduction (PCA, UMAP) of a model run's embedding vectors,
what the API and the web app call a projection.

Its id follows from what it is computed from (the run, the exact data rows, each
embedding space at its version, the method and sphereize), so an identical request finds
the existing layout instead of computing it again. The work itself is a background
computation of kind "projection" owned by the layout (domain/computations.py): its
status says COMPUTING, READY or FAILED, and its one chunk's result holds the coordinates.

The aggregate was named `Projection` in module domain.projector.projection, like the read
models' projections; logs written then hold its events under that name (FORMER_TOPIC),
which resolves to this class.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event
from eventsourcing.utils import register_topic

from domain.projector.reductions import ReductionParams

# The computation kind of a reduction (domain/computations.py).
PROJECTION_KIND = "projection"
# Points per result part: ids (16 bytes) and x, y (float32) come to ~200 KB per event.
POINTS_PER_PART = 8_192
# Data row ids per input chunk event (~130 KB).
ROWS_PER_INPUT_CHUNK = 8_192

_PROJECTION_NAMESPACE = UUID("0b6f5a2e-3c1d-5e7f-8a9b-1c2d3e4f5a6b")


@dataclass(frozen=True, slots=True)
class SpaceVersion:
    """An embedding space (of one dataset of the run) at the version the vectors are read at."""

    space_id: UUID
    dataset_id: UUID
    version: int
    dimension: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "spaceId": str(self.space_id),
            "datasetId": str(self.dataset_id),
            "version": self.version,
            "dimension": self.dimension,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SpaceVersion:
        return cls(UUID(data["spaceId"]), UUID(data["datasetId"]), data["version"], data["dimension"])


def rows_digest(row_ids: list[UUID]) -> str:
    """The data rows as a set: the same rows in any order have the same digest."""
    digest = hashlib.sha256()
    for row_id in sorted(row_ids):
        digest.update(row_id.bytes)
    return digest.hexdigest()


def projection_id(
    run_id: UUID, spaces: list[SpaceVersion], params: ReductionParams, row_ids: list[UUID]
) -> UUID:
    """The id of the projection of exactly these inputs (see the module's docstring)."""
    spaces_part = ",".join(sorted(f"{s.space_id}@{s.version}" for s in spaces))
    key = f"{run_id}|{spaces_part}|{params.method.value}|{int(params.sphereize)}|{rows_digest(row_ids)}"
    return uuid5(_PROJECTION_NAMESPACE, key)


class Layout(Aggregate):
    """What was asked and from which inputs; the coordinates are the computation's result."""

    @event("Requested")
    def __init__(
        self,
        id: UUID,  # noqa: A002 (eventsourcing takes the aggregate id by this name)
        run_id: UUID,
        run_version: int,
        space: str,
        spaces: list[dict[str, Any]],
        params: dict[str, Any],
        points: int,
        selected: bool,
        source_projection_id: UUID | None,
        input_upload_id: UUID,
        computation_id: UUID,
        actor: str,
    ) -> None:
        self.run_id = run_id
        self.run_version = run_version
        self.space = space
        self.spaces = spaces
        self.params = params
        self.points = points
        self.selected = selected
        self.input_upload_id = input_upload_id
        # Requested in the same save: the projection and its work arrive together.
        self.computation_id = computation_id
        self.stage = "requested"

    @event("ProgressNoted")
    def note_progress(self, fraction: float, stage: str) -> None:
        # Only for the status a user watches: the result's record is the computation's.
        self.stage = stage


# The topic of the aggregate's events in logs written before its rename.
FORMER_TOPIC = "domain.projector.projection:Projection"
register_topic(FORMER_TOPIC, Layout)
