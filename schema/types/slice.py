"""A saved slice: a named data row filter of a model, usable in any of its runs.

Named `SavedSlice` in the schema: `Slice` is a slice counted in one run (slice_count.py,
docs/uploads.md).
"""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.scalars import JSON

from domain.slices import Slice as SliceAggregate
from projections.slices.queries import SliceRecord


@strawberry.type(description="A named, saved data row filter of a model; apply it in any run of the model.")
class SavedSlice:
    id: strawberry.ID
    model_id: strawberry.ID
    name: str
    filter: JSON = strawberry.field(
        description='A DataRowFilter as JSON, in normal form: {"all": [clause, ...]}, every field of a '
        "clause present (null where unset)."
    )
    version: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_record(cls, record: SliceRecord) -> SavedSlice:
        return cls(
            id=strawberry.ID(record.id),
            model_id=strawberry.ID(record.model_id),
            name=record.name,
            filter=record.filter,
            version=record.version,
            created_at=record.created_at,
            updated_at=record.updated_at,
        )

    @classmethod
    def from_aggregate(cls, item: SliceAggregate) -> SavedSlice:
        return cls(
            id=strawberry.ID(str(item.id)),
            model_id=strawberry.ID(str(item.model_id)),
            name=item.name,
            filter=item.filter,
            version=item.version,
            created_at=item.created_on,
            updated_at=item.modified_on,
        )
