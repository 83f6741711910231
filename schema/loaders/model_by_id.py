"""Models by id, batched per request (a page of runs names the same model many times)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import anyio.to_thread
from strawberry.dataloader import DataLoader

from projections.records import ModelRecord

if TYPE_CHECKING:
    from projections import ReadModels


class ModelByIdLoader(DataLoader[str, ModelRecord | None]):
    def __init__(self, read_models: ReadModels) -> None:
        async def load(ids: list[str]) -> list[ModelRecord | None]:
            return await anyio.to_thread.run_sync(read_models.models_by_id, ids)  # one query for the batch

        super().__init__(load_fn=load)
