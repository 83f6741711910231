"""Matching one chunk of a run's rows: the metric kind's chunk handler.

The chunk's rows are the rows an upload changed (one chunk per chunk of the upload) or a
range of row ids (every row of the run). Only covered rows are evaluated (docs/metrics.md §4);
the match table of those rows is the chunk's result.
"""

from __future__ import annotations

from uuid import UUID

import orjson

from domain.computations import METRICS, Computation
from domain.metrics import build_objects, match
from domain.models import Model
from domain.ontology import Ontology
from domain.ontology_features import TEXT
from domain.uploads import Upload, UploadKind, read_chunk, rows_named
from projections.annotation_json import annotations_from_json
from projections.metrics.inputs import InputRow
from projections.metrics.match_table import from_match, to_parts
from projections.upload_owners import started_event
from workers.kinds import ChunkResult, register
from workers.services import WorkerServices


def upload_rows(services: WorkerServices, upload_id: UUID, index: int) -> list[str]:
    """The data row ids one chunk event of an upload names."""
    store = services.app.repository.event_store
    started = started_event(store, upload_id)
    chunk = next(iter(store.get(upload_id, gt=Upload.chunk_version(index) - 1, lte=Upload.chunk_version(index))), None)
    if started is None or not isinstance(chunk, Upload.ChunkAdded):
        raise LookupError(f"upload {upload_id} has no chunk {index}")
    return rows_named(*read_chunk(UploadKind(started.kind), chunk.payload))


def model_ontology(services: WorkerServices, model_id: UUID) -> Ontology:
    model = services.app.repository.get(model_id)
    assert isinstance(model, Model)
    return model.ontology


def matched_features(services: WorkerServices, model_id: UUID) -> list[str]:
    return [f.name for f in model_ontology(services, model_id).features if f.kind != TEXT]


def chunk_rows(services: WorkerServices, computation: Computation, chunk: int) -> list[InputRow]:
    plan = computation.plan
    run_id, version = computation.owner_id, computation.owner_version
    if plan["scope"] == "upload":
        piece = plan["upload_chunks"][chunk]
        # [upload chunk, first row, end row]; a computation planned before pieces existed
        # names the whole upload chunk.
        index, start, stop = (piece, 0, None) if isinstance(piece, int) else piece
        ids = upload_rows(services, UUID(plan["upload_id"]), index)[start:stop]
        return services.inputs.rows_by_id(run_id, version, ids)
    return services.inputs.rows_in_range(run_id, version, chunk, computation.chunk_count)


def compute_metric_chunk(services: WorkerServices, computation: Computation, chunk: int) -> ChunkResult:
    rows = chunk_rows(services, computation, chunk)
    parameters = computation.parameters
    ontology = model_ontology(services, UUID(parameters["model_id"]))
    features = [f.name for f in ontology.features if f.kind != TEXT]
    ground_truth = [annotations_from_json(orjson.loads(labels)) if labels else [] for _, labels, _ in rows]
    predictions = [annotations_from_json(orjson.loads(found)) for _, _, found in rows]
    objects = build_objects(ground_truth, predictions, features, ontology=ontology)
    result = match(objects, parameters["confidence_thresholds"], float(parameters["point_radius"]))
    table = from_match(result, [row_id for row_id, _, _ in rows])
    return len(rows), to_parts(table)


register(METRICS, compute_metric_chunk)
