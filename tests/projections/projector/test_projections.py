"""Projections requested, computed and read back, through the application's commands."""

from __future__ import annotations

from uuid import UUID

import numpy as np
import pytest
from eventsourcing.utils import get_topic
from sklearn.decomposition import PCA

from application.projector_commands import ProjectionRequest
from domain.computations import ComputationResult
from domain.errors import NotFound, ValidationFailed
from domain.projector import Method
from runtime import Runtime
from tests.projections.builders import Scenario, scenario
from tests.projections.projector.harness import ProjectorReadModels, blobs, vector_lines


def with_vectors(ledger: Runtime, projector: ProjectorReadModels, rows: int = 12, dimension: int = 6) -> tuple[Scenario, np.ndarray]:
    world = scenario(ledger, rows=rows)
    vectors = blobs(rows, dimension)
    _, notification, _ = ledger.app.upload_embeddings(
        world.dataset_id, "clip", vector_lines(world.keys, vectors), actor="erin"
    )
    projector.wait(notification)
    return world, vectors


def request(ledger: Runtime, projector: ProjectorReadModels, run_id: UUID, **kwargs: object) -> tuple[UUID, bool]:
    arguments = {"space": "clip", "method": Method.PCA, **kwargs}
    projection, created = ledger.app.request_projection(
        ProjectionRequest(run_id=run_id, **arguments),  # type: ignore[arg-type]
        projector.queries,
        actor="frank",
    )
    projector.wait()
    return projection.id, created


def compute(ledger: Runtime, projector: ProjectorReadModels, projection_id: UUID) -> bool:
    recorded = ledger.app.compute_projection(projection_id, projector.queries)
    projector.wait()
    return recorded


def key_order(ledger: Runtime, world: Scenario, projector: ProjectorReadModels, projection_id: UUID) -> list[int]:
    """Which scenario row (k<i>) each point is."""
    points = projector.queries.points(projection_id)
    keys, _ = projector.queries.runs.run_row_details(world.run_id, 1, points.ids)
    return [int(str(k)[1:]) for k in keys]


def test_a_pca_projection_is_computed_once_and_reads_back(ledger: Runtime, projector: ProjectorReadModels) -> None:
    world, vectors = with_vectors(ledger, projector)
    pid, created = request(ledger, projector, world.run_id)
    record = projector.queries.projection(world.run_id, pid)
    assert created and record is not None and record.state == "COMPUTING" and record.point_count == 12
    assert compute(ledger, projector, pid) is True
    assert compute(ledger, projector, pid) is False  # a second delivery records nothing
    record = projector.queries.projection(world.run_id, pid)
    assert record is not None and (record.state, record.progress) == ("READY", 1.0)

    order = key_order(ledger, world, projector, pid)
    expected = PCA(n_components=2).fit_transform(vectors[order])
    xy = projector.queries.points(pid).xy
    for column in range(2):
        assert np.allclose(xy[:, column], expected[:, column], atol=1e-4) or np.allclose(
            xy[:, column], -expected[:, column], atol=1e-4
        )
    recorded = ledger.app.recorder.select_notifications(start=1, limit=100_000)
    assert sum(n.topic == get_topic(ComputationResult.Recorded) for n in recorded) == 1


def test_an_identical_request_returns_the_existing_projection(ledger: Runtime, projector: ProjectorReadModels) -> None:
    world, _ = with_vectors(ledger, projector)
    first, _ = request(ledger, projector, world.run_id)
    again, created = request(ledger, projector, world.run_id)
    assert again == first and created is False
    # A config edit is a new run version with the same rows: still the same projection.
    ledger.app.update_config(world.run_id, {"learning_rate": 0.1}, actor="bob")
    assert request(ledger, projector, world.run_id)[0] == first
    other_method, created = request(ledger, projector, world.run_id, method=Method.UMAP)
    sphereized, _ = request(ledger, projector, world.run_id, sphereize=True)
    assert created and len({first, other_method, sphereized}) == 3
    assert [p.id for p in projector.queries.projections(world.run_id)] == [str(first), str(other_method), str(sphereized)]


def test_new_vectors_make_a_new_projection(ledger: Runtime, projector: ProjectorReadModels) -> None:
    world, vectors = with_vectors(ledger, projector)
    first, _ = request(ledger, projector, world.run_id)
    _, notification, _ = ledger.app.upload_embeddings(
        world.dataset_id, "clip", vector_lines(world.keys[:1], vectors[:1] * 2), actor="erin"
    )
    projector.wait(notification)
    assert request(ledger, projector, world.run_id)[0] != first


def test_a_selection_is_projected_on_its_own(ledger: Runtime, projector: ProjectorReadModels) -> None:
    world, vectors = with_vectors(ledger, projector)
    whole, _ = request(ledger, projector, world.run_id)
    compute(ledger, projector, whole)
    chosen = projector.queries.points(whole).ids[:5]
    part, created = request(
        ledger, projector, world.run_id, data_row_ids=[str(i) for i in chosen], source_projection_id=whole
    )
    assert created and part != whole
    compute(ledger, projector, part)
    record = projector.queries.projection(world.run_id, part)
    assert record is not None and record.selected and record.source_projection_id == str(whole)
    assert sorted(projector.queries.points(part).ids) == sorted(chosen)
    order = key_order(ledger, world, projector, part)
    expected = PCA(n_components=2).fit_transform(vectors[order])
    assert np.allclose(np.abs(projector.queries.points(part).xy), np.abs(expected), atol=1e-4)


def test_bad_requests_are_refused(ledger: Runtime, projector: ProjectorReadModels) -> None:
    world, _ = with_vectors(ledger, projector)
    with pytest.raises(NotFound, match="no dataset of model run .* 'other'"):
        request(ledger, projector, world.run_id, space="other")
    with pytest.raises(ValidationFailed, match="not in model run"):
        request(ledger, projector, world.run_id, data_row_ids=["6c8f1a9e-0000-4000-8000-000000000000", "junk"])
    with pytest.raises(ValidationFailed, match="holds no data row"):
        request(ledger, projector, world.run_id, data_row_ids=[])
    lonely = scenario(ledger, rows=2)
    ledger.app.create_embedding_space(lonely.dataset_id, "clip", 3, actor="erin")
    projector.wait()
    with pytest.raises(ValidationFailed, match="none of the 2 data row"):
        request(ledger, projector, lonely.run_id)


def test_rows_without_a_vector_are_left_out(ledger: Runtime, projector: ProjectorReadModels) -> None:
    world = scenario(ledger, rows=8)
    _, notification, _ = ledger.app.upload_embeddings(
        world.dataset_id, "clip", vector_lines(world.keys[:5], blobs(5, 4)), actor="erin"
    )
    projector.wait(notification)
    pid, _ = request(ledger, projector, world.run_id)
    record = projector.queries.projection(world.run_id, pid)
    assert record is not None and record.point_count == 5


def test_a_failed_projection_reports_its_reason_and_can_be_retried(
    ledger: Runtime, projector: ProjectorReadModels
) -> None:
    world, _ = with_vectors(ledger, projector)
    pid, _ = request(ledger, projector, world.run_id)
    assert ledger.app.fail_projection(pid, "the worker ran out of memory")
    projector.wait()
    record = projector.queries.projection(world.run_id, pid)
    assert record is not None and (record.state, record.error) == ("FAILED", "the worker ran out of memory")
    ledger.app.retry_projection(world.run_id, pid, actor="frank")
    with pytest.raises(ValidationFailed, match="has not failed"):
        ledger.app.retry_projection(world.run_id, pid, actor="frank")
    projector.wait()
    record = projector.queries.projection(world.run_id, pid)
    assert record is not None and (record.state, record.error, record.attempt) == ("COMPUTING", None, 2)
    compute(ledger, projector, pid)
    record = projector.queries.projection(world.run_id, pid)
    assert record is not None and record.state == "READY"


def test_colouring_columns_follow_the_run(ledger: Runtime, projector: ProjectorReadModels) -> None:
    world, _ = with_vectors(ledger, projector, rows=6)
    pid, _ = request(ledger, projector, world.run_id)
    compute(ledger, projector, pid)
    ids = projector.queries.points(pid).ids
    keys, splits = projector.queries.runs.run_row_details(world.run_id, 1, ids)
    index = {k: i for i, k in enumerate(keys)}
    assert splits[index["k0"]] == "TRAINING" and splits[index["k5"]] == "TEST"
    assert projector.runtime.read_models.catalog.metadata_values(ids, "index")[index["k4"]] == 4
    present = projector.queries.runs.features_present(world.run_id, 1, ids, "labels")
    assert sorted(present["car"]) == list(range(6))
    assert sorted(present["weather/sunny"]) == sorted(index[k] for k in ("k0", "k2", "k4"))
