"""A data row: one asset, read from its dataset (catalog) or from a model run."""

from __future__ import annotations

from enum import Enum

import strawberry
from strawberry.scalars import JSON

from domain.splits import Split as DomainSplit
from projections.metrics.records import RowFigures
from projections.records import DataRowRecord, RunRowRecord

# strawberry.enum marks the domain's enum itself as the GraphQL enum (and returns it): the
# name is bound to the class, not to the call, so that annotations can name it as a type.
strawberry.enum(DomainSplit, name="Split", description="Where a data row is in a model run.")
Split = DomainSplit


@strawberry.enum(description="What kind of asset a data row is.")
class MediaType(Enum):
    IMAGE = "IMAGE"
    TEXT = "TEXT"
    VIDEO = "VIDEO"
    AUDIO = "AUDIO"
    DOCUMENT = "DOCUMENT"
    DICOM = "DICOM"
    HTML = "HTML"
    JSON = "JSON"
    CONVERSATION = "CONVERSATION"
    GEOSPATIAL_TILE = "GEOSPATIAL_TILE"


@strawberry.type(
    description="A data row's metrics at a grid point: TP, FP, FN and TN summed over its features, "
    "precision, recall and F1 from those sums, IoU the mean of its features' IoUs; a ratio is null "
    "where it is undefined (docs/metrics.md)."
)
class RowMetrics:
    tp: int
    fp: int
    fn: int
    tn: int
    precision: float | None
    recall: float | None
    f1: float | None
    iou: float | None

    @classmethod
    def from_record(cls, record: RowFigures) -> RowMetrics:
        return cls(
            tp=record.tp, fp=record.fp, fn=record.fn, tn=record.tn,
            precision=record.precision, recall=record.recall, f1=record.f1, iou=record.iou,
        )  # fmt: skip


@strawberry.type(
    description="One asset. Read from a dataset it carries rowData, mediaType and metadata; "
    "read from a model run it carries its split, its predictions and whether a prediction "
    "upload covered it, with its labels as snapshotted into the run."
)
class DataRow:
    id: strawberry.ID
    global_key: str
    width: int | None
    height: int | None
    labels: JSON = strawberry.field(description="Ground-truth annotations, in the NDJSON line format.")
    row_data: str | None = None
    media_type: MediaType | None = None
    metadata: JSON | None = None
    split: Split | None = None
    covered: bool | None = strawberry.field(
        default=None, description="A prediction upload covered this row (possibly with nothing)."
    )
    predictions: JSON | None = strawberry.field(
        default=None, description="The run's predictions, in the NDJSON line format."
    )
    metrics: RowMetrics | None = strawberry.field(
        default=None,
        description="Read from a run's dataRows asked with confidence and iou: the row's metrics at "
        "that grid point. Null otherwise, and for a row no prediction upload covered.",
    )

    @classmethod
    def from_dataset_row(cls, record: DataRowRecord) -> DataRow:
        return cls(
            id=strawberry.ID(record.id),
            global_key=record.global_key,
            width=record.width,
            height=record.height,
            labels=record.labels,
            row_data=record.row_data,
            media_type=MediaType(record.media_type),
            metadata=record.metadata,
        )

    @classmethod
    def from_run_row(cls, record: RunRowRecord, figures: RowFigures | None = None) -> DataRow:
        return cls(
            metrics=None if figures is None else RowMetrics.from_record(figures),
            id=strawberry.ID(record.id),
            global_key=record.global_key,
            width=record.width,
            height=record.height,
            labels=record.labels,
            split=DomainSplit(record.split),
            covered=record.covered,
            predictions=record.predictions,
            row_data=record.row_data,
            media_type=None if record.media_type is None else MediaType(record.media_type),
            metadata=record.metadata,
        )
