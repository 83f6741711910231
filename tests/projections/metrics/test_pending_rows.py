"""Pending data rows have one definition everywhere: the evaluated rows whose current inputs
(labels, predictions, metric settings) have no result yet. The status and the metrics say
the same number, never count a row twice, and never count a row that is not evaluated."""

from __future__ import annotations

from typing import Any

from tests.projections.builders import box, predict, scenario
from tests.workers.stack import Stack


def _lines(keys: list[str], shift: float = 0.0) -> list[dict[str, Any]]:
    return [{"dataRow": {"globalKey": k}, "name": "car", "bbox": box(top=i + shift), "confidence": 0.8} for i, k in enumerate(keys)]


def _pending(stack: Stack, run_id: Any) -> tuple[str, int, int]:
    stack.wait_until_current()
    status = stack.status(run_id)
    figures = stack.metrics_read_models.metrics.metrics(run_id, 0.5, 0.5)
    return status.state, status.pending_data_rows, figures.pending_data_rows


def test_rows_with_new_predictions_are_pending_in_the_status_and_the_metrics(stack: Stack) -> None:
    s = scenario(stack.runtime, rows=6)
    stack.start_work()
    predict(stack.runtime, s.run_id, _lines(s.keys[:4]))
    stack.wait_for_status(s.run_id, "IN_SYNC")
    assert _pending(stack, s.run_id) == ("IN_SYNC", 0, 0)

    stack.stop_work()
    predict(stack.runtime, s.run_id, _lines(s.keys[:2], shift=100))
    # Two uploads over the same two rows: still two rows pending, not four.
    predict(stack.runtime, s.run_id, _lines(s.keys[:2], shift=50))
    assert _pending(stack, s.run_id) == ("COMPUTING", 2, 2)

    stack.start_work()
    stack.wait_for_status(s.run_id, "IN_SYNC")
    assert _pending(stack, s.run_id) == ("IN_SYNC", 0, 0)


def test_new_settings_make_only_the_evaluated_rows_pending(stack: Stack) -> None:
    s = scenario(stack.runtime, rows=6)
    stack.start_work()
    predict(stack.runtime, s.run_id, _lines(s.keys[:4]))
    stack.wait_for_status(s.run_id, "IN_SYNC")

    stack.stop_work()
    stack.app.set_metric_settings(s.run_id, actor="test", point_radius=12.0)
    # Two rows were never covered by an upload: they are not evaluated, so not pending.
    assert _pending(stack, s.run_id) == ("COMPUTING", 4, 4)
    stack.start_work()
    stack.wait_for_status(s.run_id, "IN_SYNC")
    assert _pending(stack, s.run_id) == ("IN_SYNC", 0, 0)
