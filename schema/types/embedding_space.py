"""An embedding space: a named set of vectors of a dataset's data rows, one per row, that a
run's projections are computed from."""

from __future__ import annotations

from datetime import datetime

import strawberry

from projections.embeddings.queries import EmbeddingSpaceRecord


@strawberry.type(description="A named set of vectors of a dataset's data rows, one per row.")
class EmbeddingSpace:
    id: strawberry.ID
    dataset_id: strawberry.ID
    name: str
    dimension: int
    version: int = strawberry.field(description="Counts its uploads: a projection names the version it used.")
    vector_count: int = strawberry.field(description="Data rows with a vector now.")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_record(cls, record: EmbeddingSpaceRecord) -> EmbeddingSpace:
        return cls(
            id=strawberry.ID(record.id),
            dataset_id=strawberry.ID(record.dataset_id),
            name=record.name,
            dimension=record.dimension,
            version=record.version,
            vector_count=record.vector_count,
            created_at=record.created_at,
            updated_at=record.updated_at,
        )
