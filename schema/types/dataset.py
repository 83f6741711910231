"""A dataset (catalog): a named collection of data rows with their current labels."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry
from strawberry.types import Info

from domain.datasets import Dataset as DatasetAggregate
from projections.records import DatasetRecord
from schema.context import Context
from schema.pagination import Connection, connection
from schema.types.data_row import DataRow
from schema.types.node import Node


@strawberry.enum
class MetadataKind(Enum):
    STRING = "STRING"
    NUMBER = "NUMBER"
    DATETIME = "DATETIME"
    ENUM = "ENUM"


@strawberry.type(description="A typed metadata key of a dataset's rows.")
class MetadataField:
    key: str
    kind: MetadataKind
    options: list[str] = strawberry.field(description="The allowed values of an ENUM field.")


@strawberry.type
class Dataset(Node):
    id: strawberry.ID
    name: str
    version: int
    created_at: datetime
    row_count: int
    metadata_fields: list[MetadataField]

    @strawberry.field(description="The dataset's current data rows, in upload order.")
    async def data_rows(
        self, info: Info[Context, None], first: int | None = None, after: str | None = None
    ) -> Connection[DataRow]:
        ctx = info.context
        size = ctx.page_size(first)
        page = await ctx.read(ctx.read_models.data_rows, str(self.id), first=size, after=after)
        return connection(page, DataRow.from_dataset_row, after)

    @classmethod
    def from_record(cls, record: DatasetRecord) -> Dataset:
        return cls(
            id=strawberry.ID(record.id),
            name=record.name,
            version=record.version,
            created_at=record.created_at,
            row_count=record.row_count,
            metadata_fields=[_field(f) for f in record.metadata_fields],
        )

    @classmethod
    def from_aggregate(cls, dataset: DatasetAggregate) -> Dataset:
        """The dataset exactly as a command left it (a payload shows its own write)."""
        return cls(
            id=strawberry.ID(str(dataset.id)),
            name=dataset.name,
            version=dataset.version,
            created_at=dataset.created_on,
            row_count=dataset.row_count,
            metadata_fields=[_field(f) for f in dataset.metadata_fields.values()],
        )


def _field(data: dict[str, object]) -> MetadataField:
    options = data.get("options") or []
    return MetadataField(
        key=str(data["key"]),
        kind=MetadataKind(data["kind"]),
        options=[str(o) for o in options] if isinstance(options, list | tuple) else [],
    )
