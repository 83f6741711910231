"""What changed in a model run between two versions."""

from __future__ import annotations

import strawberry
from strawberry.scalars import JSON

from domain.splits import Split as DomainSplit
from projections.records import RunDiffRecord
from schema.types.data_row import Split


@strawberry.type
class SplitChange:
    global_key: str
    from_split: Split = strawberry.field(name="from")
    to_split: Split = strawberry.field(name="to")


@strawberry.type(description="Rows are named by global key.")
class RunDiff:
    from_version: int
    to_version: int
    rows_added: list[str]
    rows_removed: list[str]
    splits_changed: list[SplitChange]
    labels_changed: list[str]
    predictions_changed: list[str]
    config_before: JSON
    config_after: JSON
    metric_settings_before: JSON
    metric_settings_after: JSON

    @classmethod
    def from_record(cls, record: RunDiffRecord) -> RunDiff:
        return cls(
            from_version=record.from_version,
            to_version=record.to_version,
            rows_added=list(record.rows_added),
            rows_removed=list(record.rows_removed),
            splits_changed=[
                SplitChange(
                    global_key=c["globalKey"], from_split=DomainSplit(c["from"]), to_split=DomainSplit(c["to"])
                )
                for c in record.splits_changed
            ],
            labels_changed=list(record.labels_changed),
            predictions_changed=list(record.predictions_changed),
            config_before=record.config_before,
            config_after=record.config_after,
            metric_settings_before=record.metric_settings_before,
            metric_settings_after=record.metric_settings_after,
        )
