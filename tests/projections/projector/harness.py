"""The embeddings and projector read models of a test runtime, and data to fill them."""

from __future__ import annotations

from typing import Any

import numpy as np

from projections.embeddings.queries import EmbeddingQueries
from runtime import Runtime


class ProjectorReadModels:
    """The runtime's embeddings and projector read models, and a wait for them."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.queries = runtime.read_models.projector

    @property
    def embeddings(self) -> EmbeddingQueries:
        return self.queries.embeddings

    def wait(self, notification_id: int | None = None, timeout: float = 60.0) -> None:
        """Every read model has processed the log up to the id (default: all of it)."""
        if notification_id is None:
            notification_id = self.runtime.app.recorder.max_notification_id()
        self.runtime.read_models.wait(notification_id, timeout)

    def close(self) -> None:
        """Nothing of its own to close: the runtime's read models are closed with it."""


def vector_lines(keys: list[str], vectors: np.ndarray, by: str = "globalKey") -> list[tuple[int, Any]]:
    """Numbered upload lines naming rows by global key (or by id, `by="id"`)."""
    return [
        (n, {"dataRow": {by: key}, "vector": [float(v) for v in vector]})
        for n, (key, vector) in enumerate(zip(keys, vectors, strict=True), start=1)
    ]


def blobs(points: int, dimension: int, clusters: int = 3, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=8.0, size=(clusters, dimension))
    return (centres[np.arange(points) % clusters] + rng.normal(size=(points, dimension))).astype(np.float32)
