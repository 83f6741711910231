"""The embeddings and projector read models rebuild from the log to the row."""

from __future__ import annotations

from application.projector_commands import ProjectionRequest
from domain.projector import Method
from projections.replay import verify_replay
from runtime import Runtime
from tests.projections.builders import scenario
from tests.projections.projector.harness import ProjectorReadModels, blobs, vector_lines


def test_a_rebuild_matches_and_a_tampered_projection_is_reported(
    ledger: Runtime, projector: ProjectorReadModels
) -> None:
    world = scenario(ledger, rows=8)
    app = ledger.app
    vectors = blobs(8, 4)
    app.upload_embeddings(world.dataset_id, "clip", vector_lines(world.keys, vectors), actor="erin")
    app.upload_embeddings(world.dataset_id, "clip", vector_lines(world.keys[:3], vectors[:3] * 3), actor="erin")
    projector.wait()
    done, _ = app.request_projection(ProjectionRequest(world.run_id, "clip", Method.PCA), projector.queries, actor="f")
    failed, _ = app.request_projection(ProjectionRequest(world.run_id, "clip", Method.UMAP), projector.queries, actor="f")
    app.note_projection_progress(done.id, 0.1, "finding neighbours")
    app.compute_projection(done.id, projector.queries)
    app.fail_projection(failed.id, "out of memory")
    projector.wait()
    assert verify_replay(ledger.database) == []

    with ledger.database.connect() as conn:
        conn.execute("UPDATE projector_projections SET error = 'tampered' WHERE id = %s", (done.id,))
        conn.execute("DELETE FROM embedding_vectors WHERE valid_to IS NOT NULL")
        conn.commit()
    differences = verify_replay(ledger.database)
    assert len(differences) == 2, differences
    assert differences[0].startswith("embeddings.embedding_vectors: 0 row(s) only in the live read model, 3 only")
    assert differences[1].startswith("projector.projector_projections: 1 row(s) only in the live read model, 1 only")
