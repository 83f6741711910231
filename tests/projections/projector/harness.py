"""The embeddings and projector read models of a test runtime, and data to fill them.

Until these read models are started with the others, the tests start their runners
themselves (and stop them afterwards); once the runtime has them, they are used as is.
"""

from __future__ import annotations

from time import monotonic
from typing import Any

import numpy as np
from eventsourcing.projection import ProjectionRunner

from application import ModelLedger
from projections.embeddings.projection import EmbeddingsProjection
from projections.embeddings.queries import EmbeddingQueries
from projections.embeddings.view import EmbeddingsView
from projections.projector.projection import ProjectorProjection
from projections.projector.queries import ProjectorQueries
from projections.projector.view import ProjectorView
from projections.runners import wait_for
from runtime import Runtime


class ProjectorReadModels:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._runners: list[ProjectionRunner[Any, Any]] = []
        existing = getattr(runtime.read_models, "projector", None)
        if isinstance(existing, ProjectorQueries):
            self.queries = existing
            return
        env = runtime.database.application_env()
        for projection, view in ((EmbeddingsProjection, EmbeddingsView), (ProjectorProjection, ProjectorView)):
            runner = ProjectionRunner(
                application_class=ModelLedger, projection_class=projection, view_class=view, env=dict(env)
            )
            self._runners.append(runner.__enter__())
        embeddings_view, projector_view = (r.view for r in self._runners)
        assert isinstance(embeddings_view, EmbeddingsView) and isinstance(projector_view, ProjectorView)
        self.queries = ProjectorQueries(projector_view, EmbeddingQueries(embeddings_view))

    @property
    def embeddings(self) -> EmbeddingQueries:
        return self.queries.embeddings

    def wait(self, notification_id: int | None = None, timeout: float = 60.0) -> None:
        """Every read model, these included, has processed the log up to the id (default:
        all of it)."""
        if notification_id is None:
            notification_id = self.runtime.app.recorder.max_notification_id()
        self.runtime.read_models.wait(notification_id, timeout)
        deadline = monotonic() + timeout
        for runner in self._runners:
            wait_for(runner, notification_id, deadline)

    def close(self) -> None:
        for runner in self._runners:
            try:
                runner.__exit__(None, None, None)
            finally:
                runner.view.datastore.close()


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
