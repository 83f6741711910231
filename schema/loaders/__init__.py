"""Per-request DataLoaders, one per file; made fresh for every request (see Context)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from schema.loaders.dataset_by_id import DatasetByIdLoader
from schema.loaders.model_by_id import ModelByIdLoader

if TYPE_CHECKING:
    from projections import ReadModels


class Loaders:
    def __init__(self, read_models: ReadModels) -> None:
        self.model_by_id = ModelByIdLoader(read_models)
        self.dataset_by_id = DatasetByIdLoader(read_models)
