"""One entry of a model run's audit trail: what changed, who did it, when."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.scalars import JSON

from projections.records import RunEventRecord


@strawberry.type(description="An event of a model run: the change that made `version`.")
class RunEvent:
    run_id: strawberry.ID
    version: int
    type: str = strawberry.field(description='What happened, e.g. "ConfigUpdated".')
    actor: str = strawberry.field(description="The name of the API key that made the change.")
    at: datetime
    summary: JSON = strawberry.field(description="The event's small attributes (counts, config, settings).")

    @classmethod
    def from_record(cls, run_id: str, record: RunEventRecord) -> RunEvent:
        return cls(
            run_id=strawberry.ID(run_id),
            version=record.version,
            type=record.type,
            actor=record.actor,
            at=record.at,
            summary=record.summary,
        )
