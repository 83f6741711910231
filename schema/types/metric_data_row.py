"""A data row as the metrics name it, by id and global key: a row of a confusion-matrix cell
(`confusionCellDataRows`) or one where a compared run is worse (`worseDataRows`)."""

from __future__ import annotations

import strawberry

from projections.metrics.records import RowRef


@strawberry.type
class MetricDataRow:
    id: strawberry.ID
    global_key: str

    @classmethod
    def from_record(cls, ref: RowRef) -> MetricDataRow:
        return cls(id=strawberry.ID(ref.id), global_key=ref.global_key)
