"""The stored slice memberships: computed for every saved slice in every run of its model,
and kept current as metadata, predictions, metric results and slices change.

The run is tests.projections.gallery.test_gallery's: 8 rows k0..k7 with metadata
{"index": i, "city": "Lyon"}, a "car" prediction on the label for k0, k1, k2, k4 and far
off for the others, k3 and k5 also a "person" prediction.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import numpy as np

from projections.slice_membership.view import NO_GRID, MembershipRecord
from tests.projections.builders import box, numbered, predict
from tests.projections.gallery.test_gallery import run
from tests.workers.stack import Stack, eventually

__all__ = ["run"]  # the gallery tests' run, as a fixture

PERSONS = {"all": [{"prediction": {"features": ["person"]}}]}


def _stored(stack: Stack, slice_id: UUID, run_id: UUID, grid: str = NO_GRID, after: int = 0) -> MembershipRecord:
    """The stored membership once it has taken in the log up to `after`."""
    memberships = stack.runtime.read_models.memberships

    def probe() -> MembershipRecord | None:
        found = memberships.membership(slice_id, run_id, grid)
        return found if found is not None and found.as_of >= after else None

    return eventually(probe, f"membership of slice {slice_id} in run {run_id}")


def _members(stack: Stack, record: MembershipRecord) -> list[str]:
    """The global keys of the members, read from the stored bitmap."""
    assert record.members is not None
    index = stack.runtime.read_models.gallery.index(record.run_id)
    bits = np.unpackbits(np.frombuffer(record.members, dtype=np.uint8))[: index.n_rows].astype(bool)
    return sorted(index.global_keys[bits].tolist())


def _position(stack: Stack) -> int:
    return stack.runtime.read_models.log_position()


def test_a_metadata_slice_follows_a_metadata_update(stack: Stack, run: Any) -> None:
    app = stack.app
    low = app.create_slice(run.model_id, "low index", {"all": [{"metadata": {"key": "index", "max": 2}}]}, actor="ana")
    first = _stored(stack, low.id, run.run_id, after=_position(stack))
    assert (first.count, _members(stack, first)) == (3, ["k0", "k1", "k2"])
    assert first.error is None and first.run_version >= 1

    updates = [{"dataRow": {"globalKey": "k7"}, "metadata": {"index": 1}}, {"dataRow": {"globalKey": "k0"}, "metadata": {"index": None}}]
    app.update_metadata(run.dataset_id, numbered(updates), actor="ana")
    second = _stored(stack, low.id, run.run_id, after=_position(stack))
    assert (second.count, _members(stack, second)) == (3, ["k1", "k2", "k7"])
    assert second.digest != first.digest and second.updated_at > first.updated_at


def test_a_prediction_slice_follows_uploads_and_filter_changes(stack: Stack, run: Any) -> None:
    app = stack.app
    persons = app.create_slice(run.model_id, "persons", PERSONS, actor="ana")
    assert _members(stack, _stored(stack, persons.id, run.run_id, after=_position(stack))) == ["k3", "k5"]

    predict(stack.runtime, run.run_id, [{"dataRow": {"globalKey": "k6"}, "name": "person", "bbox": box(), "confidence": 0.5}])
    assert _members(stack, _stored(stack, persons.id, run.run_id, after=_position(stack))) == ["k3", "k5", "k6"]

    app.update_slice_filter(persons.id, {"all": [*PERSONS["all"], {"split": ["TEST"]}]}, actor="ana")
    assert _members(stack, _stored(stack, persons.id, run.run_id, after=_position(stack))) == ["k5", "k6"]

    app.delete_slice(persons.id, actor="ana")
    memberships = stack.runtime.read_models.memberships
    eventually(lambda: memberships.membership(persons.id, run.run_id, NO_GRID) is None or None, "the deleted slice's membership gone")


def test_a_slice_that_cannot_apply_in_a_run_stores_why(stack: Stack, run: Any) -> None:
    odd = stack.app.create_slice(run.model_id, "odd key", {"all": [{"metadata": {"key": "altitude", "min": 3}}]}, actor="ana")
    stored = _stored(stack, odd.id, run.run_id, after=_position(stack))
    assert stored.count is None and stored.members is None
    assert stored.error is not None and "unknown metadata key 'altitude'" in stored.error


def test_a_metric_slice_is_kept_at_the_watched_grid_points(stack: Stack, run: Any) -> None:
    app, read_models = stack.app, stack.runtime.read_models
    bad = app.create_slice(run.model_id, "bad cars", {"all": [{"metric": {"name": "fp", "feature": "car", "min": 1}}]}, actor="ana")
    stack.wait_until_current()
    assert read_models.refresher.needs_grid(read_models.slices.slice(bad.id).filter)  # type: ignore[union-attr]
    with read_models.refresher.watch(str(bad.id), run.run_id, (0.5, 0.5)) as grid:
        stored = _stored(stack, bad.id, run.run_id, grid, after=_position(stack))
        assert _members(stack, stored) == ["k3", "k5", "k6", "k7"]
        # k3's car prediction moves onto its label: one false positive fewer once recomputed.
        predict(stack.runtime, run.run_id, [{"dataRow": {"globalKey": "k3"}, "name": "car", "bbox": box(top=3), "confidence": 0.8}])
        stack.wait_for_status(run.run_id, "IN_SYNC")
        stored = _stored(stack, bad.id, run.run_id, grid, after=_position(stack))
        assert _members(stack, stored) == ["k5", "k6", "k7"]
        assert read_models.memberships.membership(bad.id, run.run_id, NO_GRID) is None
    # No longer watched: dropped at the run's next refresh.
    app.update_metadata(run.dataset_id, numbered([{"dataRow": {"globalKey": "k1"}, "metadata": {"city": "Paris"}}]), actor="ana")
    eventually(lambda: read_models.memberships.membership(bad.id, run.run_id, grid) is None or None, "the unwatched grid point dropped")


def test_a_grid_point_watched_by_another_server_is_kept_here(stack: Stack, run: Any) -> None:
    """Every server's refresher recomputes a run on its changes: it keeps the grid points
    that another server's subscriptions watch (shared in the database), and drops them
    once that server lets them go."""
    app, read_models = stack.app, stack.runtime.read_models
    bad = app.create_slice(run.model_id, "bad cars elsewhere", {"all": [{"metric": {"name": "fp", "feature": "car", "min": 1}}]}, actor="ana")
    stack.wait_until_current()
    memberships = read_models.memberships
    grid = "0.5/0.5"
    with read_models.refresher.watch(str(bad.id), run.run_id, (0.5, 0.5)):
        _stored(stack, bad.id, run.run_id, grid, after=_position(stack))
    # This server no longer watches it; another one does (its refresher published it).
    memberships.publish_watches("another server", [(str(bad.id), run.run_id, grid)], 60)
    app.update_metadata(run.dataset_id, numbered([{"dataRow": {"globalKey": "k1"}, "metadata": {"city": "Oslo"}}]), actor="ana")
    kept = _stored(stack, bad.id, run.run_id, grid, after=_position(stack))
    assert _members(stack, kept) == ["k3", "k5", "k6", "k7"]

    memberships.publish_watches("another server", [], 60)  # that server's subscription ended
    app.update_metadata(run.dataset_id, numbered([{"dataRow": {"globalKey": "k1"}, "metadata": {"city": "Rome"}}]), actor="ana")
    eventually(lambda: memberships.membership(bad.id, run.run_id, grid) is None or None, "the unwatched grid point dropped")
