"""Uploads request metric computations; in-process workers compute them; the results read
model answers exactly what the engine computes on the same rows."""

from __future__ import annotations

from typing import Any

import pytest
from eventsourcing.utils import get_topic

from domain.computations import METRICS, Computation
from domain.metrics import build_objects, match
from projections.annotation_json import annotations_from_json
from tests.projections.builders import box, predict, scenario
from tests.workers.stack import Stack


def _predictions(keys: list[str], shift: float = 0.0) -> list[dict[str, Any]]:
    lines: list[dict[str, Any]] = []
    for i, key in enumerate(keys):
        lines.append({"dataRow": {"globalKey": key}, "name": "car", "bbox": box(top=i + shift), "confidence": 0.1 * (i % 10)})
        if i % 3 == 0:
            lines.append({"dataRow": {"globalKey": key}, "name": "person", "bbox": box(top=i, left=25), "confidence": 0.95})
        if i % 4 == 1:
            lines.append({"dataRow": {"globalKey": key}, "name": "weather", "answer": {"name": "rainy"}})
    return lines


def _engine(stack: Stack, run_id: Any) -> Any:
    """The engine's evaluation of the run's covered rows, read from the model runs view."""
    rows = [r for r in _all_rows(stack, run_id) if r.covered]
    gt = [annotations_from_json(r.labels) for r in rows]
    pred = [annotations_from_json(r.predictions) for r in rows]
    model = stack.app.repository.get(stack.app.repository.get(run_id).model_id)
    features = [f.name for f in model.ontology.features if f.kind != "TEXT"]
    return match(build_objects(gt, pred, features), model_thresholds(stack, run_id)), rows


def model_thresholds(stack: Stack, run_id: Any) -> list[float]:
    return list(stack.app.repository.get(run_id).settings.confidence_thresholds)


def _all_rows(stack: Stack, run_id: Any) -> list[Any]:
    rows, after = [], None
    while True:
        page = stack.runtime.read_models.run_rows(run_id, first=1000, after=after)
        rows += page.items
        if not page.has_next_page:
            return sorted(rows, key=lambda r: r.id)
        after = page.end_cursor


def _count_events(stack: Stack, topic: str) -> int:
    notifications = stack.app.recorder.select_notifications(start=0, limit=100_000, topics=[topic])
    return len(notifications)


def test_an_upload_computes_its_rows_and_the_results_match_the_engine(stack: Stack) -> None:
    s = scenario(stack.runtime, rows=40)
    predict(stack.runtime, s.run_id, _predictions(s.keys[:30]))
    stack.wait_until_current()

    computing = stack.status(s.run_id)
    assert computing.state == "COMPUTING"
    assert computing.pending_data_rows == 30 and computing.pending_chunks >= 1

    stack.start_work()
    done = stack.wait_for_status(s.run_id, "IN_SYNC")
    assert done.pending_data_rows == 0 and done.error is None

    queries = stack.metrics_read_models.metrics
    expected, rows = _engine(stack, s.run_id)
    for confidence in (0.0, 0.5, 0.9):
        for iou in (0.0, 0.5, 0.9):
            got = queries.metrics(s.run_id, confidence, iou)
            ci = expected.confidence_index(confidence)
            report = expected.feature_metrics(ci, iou)
            assert got.data_rows == 30
            assert [f.feature for f in got.features] == list(report.features)
            assert [f.tp for f in got.features] == report.per_feature.tp.tolist()
            assert [f.tn for f in got.features] == report.per_feature.tn.tolist()
            assert (got.all.tp, got.all.fp, got.all.fn, got.all.tn) == (
                report.all.tp, report.all.fp, report.all.fn, report.all.tn,
            )
            assert got.all.precision == report.all.precision and got.all.iou == report.all.iou
            assert got.macro == report.macro
            matrix = queries.confusion(s.run_id, confidence, iou)
            assert matrix.counts == expected.confusion(ci, iou).tolist()
            assert matrix.labels == [*report.features, None]
    curve = queries.pr_curve(s.run_id, 0.5)
    assert [(p.confidence, p.precision, p.recall) for p in curve] == [
        (p.confidence, p.precision, p.recall) for p in expected.pr_curve(0.5)
    ]


def test_each_chunk_is_recorded_once_and_reuploads_replace_results(stack: Stack) -> None:
    s = scenario(stack.runtime, rows=12)
    stack.start_work()
    predict(stack.runtime, s.run_id, _predictions(s.keys))
    stack.wait_for_status(s.run_id, "IN_SYNC")
    first = stack.metrics_read_models.metrics.metrics(s.run_id, 0.0, 0.5)

    # Shift every car prediction off its label: the same rows, worse results.
    predict(stack.runtime, s.run_id, _predictions(s.keys, shift=25.0))
    stack.wait_for_status(s.run_id, "IN_SYNC")
    second = stack.metrics_read_models.metrics.metrics(s.run_id, 0.0, 0.5)
    car = [f for f in second.features if f.feature == "car"][0]
    assert car.tp == 0 and [f for f in first.features if f.feature == "car"][0].tp > 0
    assert second.data_rows == 12

    chunk_events = _count_events(stack, get_topic(Computation.ChunkCompleted))
    requested = stack.app.recorder.select_notifications(start=0, limit=1000, topics=[get_topic(Computation.Requested)])
    chunks = sum(stack.app.mapper.to_domain_event(n).chunks for n in requested)
    assert chunk_events == chunks

    # A redelivered message is a no-op.
    computation_id = requested[0].originator_id
    assert stack.app.record_chunk_result(computation_id, 0, 1, []) is False
    assert _count_events(stack, get_topic(Computation.ChunkCompleted)) == chunk_events


def test_new_confidence_thresholds_recompute_every_row(stack: Stack) -> None:
    s = scenario(stack.runtime, rows=10)
    stack.start_work()
    predict(stack.runtime, s.run_id, _predictions(s.keys))
    stack.wait_for_status(s.run_id, "IN_SYNC")
    queries = stack.metrics_read_models.metrics
    with pytest.raises(Exception, match="0.55"):
        queries.metrics(s.run_id, 0.55, 0.5)

    stack.app.set_metric_settings(s.run_id, actor="erin", confidence_thresholds=[0.0, 0.55, 0.9])
    stack.wait_for_status(s.run_id, "IN_SYNC")
    got = queries.metrics(s.run_id, 0.55, 0.5)
    expected, _ = _engine(stack, s.run_id)
    report = expected.feature_metrics(1, 0.5)
    assert [f.tp for f in got.features] == report.per_feature.tp.tolist()
    assert [f.fp for f in got.features] == report.per_feature.fp.tolist()

    # IoU thresholds are a cut at query time: nothing to recompute.
    before = _count_events(stack, get_topic(Computation.Requested))
    stack.app.set_metric_settings(s.run_id, actor="erin", iou_thresholds=[0.25, 0.75])
    stack.wait_until_current()
    assert _count_events(stack, get_topic(Computation.Requested)) == before
    assert stack.status(s.run_id).state == "IN_SYNC"
    assert queries.metrics(s.run_id, 0.55, 0.75).data_rows == 10
    assert METRICS == "metrics"


def test_the_metric_read_models_rebuild_identically_from_the_log(stack: Stack) -> None:
    from projections.replay import verify_replay
    from tests.projections.builders import numbered

    s = scenario(stack.runtime, rows=6)
    stack.start_work()
    predict(stack.runtime, s.run_id, _predictions(s.keys))
    predict(stack.runtime, s.run_id, _predictions(s.keys[:3], shift=9.0))  # supersedes some rows
    stack.app.upload_custom_metrics(
        s.run_id,
        numbered([{"dataRow": {"globalKey": k}, "metricName": "blur", "metricValue": 0.5} for k in s.keys]),
        actor="ivan",
    )
    stack.wait_for_status(s.run_id, "IN_SYNC")
    stack.wait_until_current()
    assert verify_replay(stack.database) == []


def test_an_upload_of_one_chunk_is_computed_in_pieces_so_its_progress_moves(stack: Stack) -> None:
    from application.metric_commands import MIN_PIECE_ROWS, piece_rows
    from projections.metrics.inputs import MetricInputs
    from workers.metric_chunks import compute_metric_chunk
    from workers.services import WorkerServices

    rows = 2 * MIN_PIECE_ROWS + 50  # one upload chunk, three pieces
    assert piece_rows(rows) == MIN_PIECE_ROWS and piece_rows(100_000) == 10_000
    s = scenario(stack.runtime, rows=rows)
    predict(stack.runtime, s.run_id, _predictions(s.keys))
    requested = stack.app.recorder.select_notifications(start=0, limit=1000, topics=[get_topic(Computation.Requested)])
    computation = stack.app.computation(requested[-1].originator_id)
    assert computation.plan["upload_chunks"] == [
        [0, 0, MIN_PIECE_ROWS],
        [0, MIN_PIECE_ROWS, 2 * MIN_PIECE_ROWS],
        [0, 2 * MIN_PIECE_ROWS, rows],
    ]
    stack.wait_until_current()
    assert (stack.status(s.run_id).progress, stack.status(s.run_id).pending_data_rows) == (0.0, rows)

    # One piece done by hand: a third of the work, its rows no longer pending.
    services = WorkerServices(stack.database, stack.app, MetricInputs(stack.database), owned=False)
    try:
        done, parts = compute_metric_chunk(services, computation, 1)
    finally:
        services.inputs.close()
    assert done == MIN_PIECE_ROWS
    assert stack.app.record_chunk_result(computation.id, 1, done, parts)
    stack.wait_until_current()
    status = stack.status(s.run_id)
    assert (status.state, status.pending_data_rows) == ("COMPUTING", rows - MIN_PIECE_ROWS)
    assert status.progress == pytest.approx(1 / 3)

    stack.start_work()
    stack.wait_for_status(s.run_id, "IN_SYNC")
    assert stack.metrics_read_models.metrics.metrics(s.run_id, 0.0, 0.5).data_rows == rows
