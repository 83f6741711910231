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
            # One worker thread for the whole batch instead of one per id.
            return await anyio.to_thread.run_sync(lambda: [read_models.model(i) for i in ids])

        super().__init__(load_fn=load)
