"""A worker killed (-9) in the middle of a UMAP: the projection still ends READY, once.

Real processes on the real Redis broker: `modelledger worker` subprocesses, the test as the
API side. Outside CI an unreachable Redis skips with a message; in CI it fails.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import pytest
from eventsourcing.utils import get_topic

from application.projector_commands import ProjectionRequest
from domain.computations import Computation, ComputationResult
from domain.projector import Method
from runtime import Runtime, open_runtime
from storage.database import Database, drop_schema, ensure_schema
from tests.projections.builders import scenario
from tests.projections.projector.harness import ProjectorReadModels, blobs, vector_lines
from tests.workers.redis_server import RedisServer
from tests.workers.stack import eventually

# Several servers, workers or clients at once: run alone (see the serial marker).
pytestmark = pytest.mark.serial

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def redis_url() -> Iterator[str]:
    """A Redis of this test's own: no other suite's workers or leftover messages."""
    server = RedisServer()
    server.start()
    try:
        yield server.url
    finally:
        server.close()


@pytest.fixture
def world(external_server: Database) -> Iterator[tuple[Database, Runtime, ProjectorReadModels]]:
    database = external_server.with_schema(f"k_{uuid.uuid4().hex[:12]}")
    ensure_schema(database)
    runtime = open_runtime(database)
    read_models = ProjectorReadModels(runtime)
    try:
        yield database, runtime, read_models
    finally:
        read_models.close()
        runtime.close()
        drop_schema(database)


def start_worker(database: Database, redis_url: str, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        **database.settings,
        "REDIS_URL": redis_url,
        "MODELLEDGER_SWEEP_POLL_SECONDS": "0.2",
        "MODELLEDGER_SWEEP_STALE_SECONDS": "5",
    }
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-c", "from cli.main import app; app()", "worker", "--threads", "1", "--import", "workers.projector"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: the kill takes its children too
        )


def count(runtime: Runtime, cls: type, originator: UUID | None = None) -> int:
    found = runtime.app.recorder.select_notifications(start=0, limit=100_000, topics=[get_topic(cls)])
    return sum(originator is None or n.originator_id == originator for n in found)


def test_a_worker_killed_mid_umap_still_ends_ready_once(
    world: tuple[Database, Runtime, ProjectorReadModels], redis_url: str, tmp_path: Path
) -> None:
    database, runtime, read_models = world
    built = scenario(runtime, rows=2_000)
    _, notification, _ = runtime.app.upload_embeddings(
        built.dataset_id, "clip", vector_lines(built.keys, blobs(2_000, 32, clusters=6)), actor="erin"
    )
    read_models.wait(notification)
    projection, _ = runtime.app.request_projection(
        ProjectionRequest(built.run_id, "clip", Method.UMAP), read_models.queries, actor="frank"
    )
    computation_id = projection.computation_id
    log = tmp_path / "workers.log"

    first = start_worker(database, redis_url, log)
    try:

        def mid_umap() -> bool | None:
            read_models.wait()
            record = read_models.queries.projection(built.run_id, projection.id)
            assert record is not None and record.state != "READY", "finished before it could be killed"
            return True if record.stage == "finding neighbours" else None

        eventually(mid_umap, "the first worker to be in the middle of the UMAP")
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.wait()  # dead: it can record nothing more
    read_models.wait()
    record = read_models.queries.projection(built.run_id, projection.id)
    assert record is not None and record.state == "COMPUTING"
    assert count(runtime, ComputationResult.Recorded) == 0

    second = start_worker(database, redis_url, log)
    try:

        def ready() -> bool | None:
            read_models.wait()
            found = read_models.queries.projection(built.run_id, projection.id)
            assert found is not None and found.state != "FAILED", found
            return True if found.state == "READY" else None

        eventually(ready, "the projection READY after the kill", timeout=600)
    finally:
        second.send_signal(signal.SIGTERM)
        try:
            second.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(second.pid, signal.SIGKILL)
    assert count(runtime, ComputationResult.Recorded) == 1
    assert count(runtime, Computation.Completed, computation_id) == 1
    assert read_models.queries.points(projection.id).xy.shape == (2_000, 2)
