"""The `embeddingSpaces(datasetId)` query: a dataset's embedding spaces, by name."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from schema.context import Context
from schema.ids import try_parse_id
from schema.types.embedding_space import EmbeddingSpace
from schema.types.projection import projector_queries


@strawberry.type
class EmbeddingSpaceQueries:
    @strawberry.field(description="The dataset's embedding spaces, by name.")
    async def embedding_spaces(self, info: Info[Context, None], dataset_id: strawberry.ID) -> list[EmbeddingSpace]:
        if try_parse_id(dataset_id) is None:
            return []
        ctx = info.context
        records = await ctx.read(projector_queries(ctx).embeddings.spaces, str(dataset_id))
        return [EmbeddingSpace.from_record(r) for r in records]
