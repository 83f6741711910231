"""Pending data rows have one definition everywhere: the evaluated rows whose current inputs
(labels, predictions, metric settings) have no result yet. The status and the metrics say
the same number, never count a row twice, and never count a row that is not evaluated."""

from __future__ import annotations

from typing import Any

from projections.metrics.records import RunAt
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


def test_an_older_version_is_in_sync_once_its_own_rows_have_results(stack: Stack) -> None:
    s = scenario(stack.runtime, rows=6)
    stack.start_work()
    predict(stack.runtime, s.run_id, _lines(s.keys[:4]))
    stack.wait_for_status(s.run_id, "IN_SYNC")
    first = stack.runtime.app.repository.get(s.run_id).version

    stack.stop_work()
    predict(stack.runtime, s.run_id, _lines(s.keys[:2], shift=100))
    second = stack.runtime.app.repository.get(s.run_id).version
    predict(stack.runtime, s.run_id, _lines(s.keys[:3], shift=50))
    stack.wait_until_current()
    metrics = stack.metrics_read_models.metrics
    # The first version's rows all have their results: nothing pending there.
    at_first = metrics.status(RunAt(str(s.run_id), first))
    assert (at_first.state, at_first.pending_data_rows) == ("IN_SYNC", 0)
    # The second one's two changed rows have none yet: computing, two rows (not the three
    # the latest version waits for).
    at_second = metrics.status(RunAt(str(s.run_id), second))
    assert (at_second.state, at_second.pending_data_rows) == ("COMPUTING", 2)
    assert _pending(stack, s.run_id)[:2] == ("COMPUTING", 3)

    stack.start_work()
    stack.wait_for_status(s.run_id, "IN_SYNC")
    at_second = metrics.status(RunAt(str(s.run_id), second))
    assert (at_second.state, at_second.pending_data_rows) == ("IN_SYNC", 0)
