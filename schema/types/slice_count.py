"""A slice counted in one run: `Slice`, automatic or saved, as the run's `autoSlices` and
`slices` count it; `SliceMembership`, its members as the `sliceMembership` subscription
pushes them.

Named `Slice` in the schema; a model's saved filter itself is `SavedSlice` (slice.py).
"""

from __future__ import annotations

import strawberry
from strawberry.scalars import JSON

from projections.gallery.queries import SliceCount


@strawberry.type(description="A slice counted in a run: automatic (id null, named after the metric rules) or saved.")
class Slice:
    id: strawberry.ID | None
    name: str
    count: int | None = strawberry.field(
        description="Data rows of the run in the slice; null when it cannot be counted here (see `reason`)."
    )
    reason: str | None = strawberry.field(
        description="Why `count` is null: e.g. a metric clause asked for without confidence and iou."
    )
    filter: JSON = strawberry.field(description="The DataRowFilter that selects the slice's rows in `dataRows`.")

    @classmethod
    def from_record(cls, record: SliceCount) -> Slice:
        clause = {"autoSlice": record.name} if record.slice_id is None else {"slice": record.slice_id}
        return cls(
            id=None if record.slice_id is None else strawberry.ID(record.slice_id),
            name=record.name,
            count=record.count,
            reason=record.reason,
            filter={"all": [clause]},
        )


@strawberry.type(description="A slice's members in a run: how many, and at which run version.")
class SliceMembership:
    name: str
    count: int
    run_version: int
