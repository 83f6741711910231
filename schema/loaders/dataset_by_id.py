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
            return await anyio.to_thread.run_sync(read_models.datasets_by_id, ids)  # one query for the batch

        super().__init__(load_fn=load)
