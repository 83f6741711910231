"""Projections computed by the in-process workers: status, progress, failure and retry."""

from __future__ import annotations

from collections.abc import Iterator
from uuid import UUID

import numpy as np
import pytest
from eventsourcing.utils import get_topic

from application.projector_commands import ProjectionRequest
from domain.computations import ComputationResult
from domain.projector import Method
from projections.projector.queries import ProjectionRecord
from tests.projections.builders import scenario
from tests.projections.projector.harness import ProjectorReadModels, blobs, vector_lines
from tests.workers.stack import Stack, eventually
from workers import projector as projector_worker


@pytest.fixture
def read_models(stack: Stack) -> Iterator[ProjectorReadModels]:
    models = ProjectorReadModels(stack.runtime)
    try:
        yield models
    finally:
        models.close()


def requested(stack: Stack, read_models: ProjectorReadModels, rows: int, method: Method) -> tuple[UUID, UUID]:
    world = scenario(stack.runtime, rows=rows)
    _, notification, _ = stack.app.upload_embeddings(
        world.dataset_id, "clip", vector_lines(world.keys, blobs(rows, 16)), actor="erin"
    )
    read_models.wait(notification)
    projection, _ = stack.app.request_projection(
        ProjectionRequest(world.run_id, "clip", method), read_models.queries, actor="frank"
    )
    return world.run_id, projection.id


def state_of(read_models: ProjectorReadModels, run_id: UUID, pid: UUID, state: str) -> ProjectionRecord | None:
    read_models.wait()
    record = read_models.queries.projection(run_id, pid)
    assert record is not None
    return record if record.state == state else None


def results(stack: Stack) -> int:
    topic = get_topic(ComputationResult.Recorded)
    return len(stack.app.recorder.select_notifications(start=0, limit=100_000, topics=[topic]))


def test_a_requested_umap_is_computed_in_the_background(stack: Stack, read_models: ProjectorReadModels) -> None:
    run_id, pid = requested(stack, read_models, rows=60, method=Method.UMAP)
    stack.start_work(modules=("workers.projector",))
    record = eventually(lambda: state_of(read_models, run_id, pid, "READY"), "the projection READY")
    assert record.progress == 1.0 and record.point_count == 60
    points = read_models.queries.points(pid)
    assert points.xy.shape == (60, 2) and np.isfinite(points.xy).all()
    assert results(stack) == 1
    stages = [
        e.stage for e in stack.app.repository.event_store.get(pid) if type(e).__name__ == "ProgressNoted"
    ]
    assert stages[0] == "reading vectors" and "finding neighbours" in stages


def test_a_reduction_that_keeps_failing_ends_failed_and_a_retry_computes_it(
    stack: Stack, read_models: ProjectorReadModels, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_id, pid = requested(stack, read_models, rows=20, method=Method.PCA)

    def broken(*args: object) -> None:
        raise MemoryError("no room for the vectors")

    monkeypatch.setattr(projector_worker.HOSTS, "reduce", broken)
    stack.start_work(modules=("workers.projector",))
    record = eventually(lambda: state_of(read_models, run_id, pid, "FAILED"), "the projection FAILED")
    assert record.error is not None and "no room for the vectors" in record.error
    assert results(stack) == 0

    monkeypatch.undo()
    stack.app.retry_projection(run_id, pid, actor="frank")
    record = eventually(lambda: state_of(read_models, run_id, pid, "READY"), "the retried projection READY")
    assert record.attempt == 2 and results(stack) == 1
