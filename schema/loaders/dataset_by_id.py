"""Datasets by id, batched per request."""

from __future__ import annotations

from typing import TYPE_CHECKING

import anyio.to_thread
from strawberry.dataloader import DataLoader

from projections.records import DatasetRecord

if TYPE_CHECKING:
    from projections import ReadModels


class DatasetByIdLoader(DataLoader[str, DatasetRecord | None]):
    def __init__(self, read_models: ReadModels) -> None:
        async def load(ids: list[str]) -> list[DatasetRecord | None]:
            return await anyio.to_thread.run_sync(lambda: [read_models.dataset(i) for i in ids])

        super().__init__(load_fn=load)
