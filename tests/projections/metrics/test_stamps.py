"""The runs kept in memory follow the writes to a run's rows that come after its new version.

A change such as removing rows is one event that takes the run to its next version and,
after it, the chunk events of its upload that write the rows. A read between the two loads
the new version with the old rows; the write that follows must make that load stale, or
the removed row stays in every answer at the latest version (it did, now and then, when a
read fell between the two events).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from eventsourcing.persistence import Tracking

from projections.model_runs.view import ModelRunsView
from tests.projections.builders import box, predict, scenario
from tests.workers.stack import Stack

# Positions far past the scenario's events, tracked under a name no runner uses.
WRITER = "stamps-test"


def test_rows_removed_after_a_read_of_the_new_version_leave_the_loaded_run(stack: Stack) -> None:
    s = scenario(stack.runtime, rows=4)
    stack.start_work()
    lines: list[dict[str, Any]] = [
        {"dataRow": {"globalKey": key}, "name": "car", "bbox": box(top=i), "confidence": 0.8} for i, key in enumerate(s.keys)
    ]
    predict(stack.runtime, s.run_id, lines)
    stack.wait_for_status(s.run_id, "IN_SYNC")
    read_models = stack.runtime.read_models
    before = read_models.metrics.loaded(s.run_id)
    assert len(before.row_ids) == 4 and read_models.gallery.index(s.run_id).n_rows == 4
    removed = before.row_ids[0]

    # What the model runs projection does for a removal, one event at a time.
    runs_view: ModelRunsView = read_models.runs.view
    version = before.stamp.version + 1
    entry = {"type": "RowsRemoved", "actor": "alice", "at": datetime.now(UTC), "summary": {"rows": 1}}
    runs_view.change_run(s.run_id, version, entry, Tracking(WRITER, 10**9 + 1), row_delta=-1)
    between = read_models.metrics.loaded(s.run_id)  # the new version, the rows not yet written
    assert between.stamp.version == version and removed in between.row_ids
    assert read_models.gallery.index(s.run_id).n_rows == 4
    runs_view.remove_rows(s.run_id, version, [removed], Tracking(WRITER, 10**9 + 2))

    after = read_models.metrics.loaded(s.run_id)
    assert removed not in after.row_ids and len(after.row_ids) == 3
    assert read_models.gallery.index(s.run_id).n_rows == 3
