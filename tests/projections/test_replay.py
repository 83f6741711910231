"""Rebuilding every read model from the log gives the live read models, to the row."""

from __future__ import annotations

import time

import pytest

from projections.replay import replay_report, verify_replay
from projections.runners import READ_MODELS
from runtime import Runtime
from tests.projections.builders import box, numbered, poison_catalog, predict, scenario


def _history(ledger: Runtime) -> None:
    s = scenario(ledger, rows=6)
    app = ledger.app
    predict(ledger, s.run_id, [{"dataRow": {"globalKey": "k0"}, "name": "car", "bbox": box(), "confidence": 0.3}])
    app.update_metadata(s.dataset_id, numbered([{"dataRow": {"globalKey": "k1"}, "metadata": {"city": None}}]), actor="erin")
    app.reassign_splits(s.run_id, {"k1": "VALIDATION"}, actor="frank")
    app.remove_run_rows(s.run_id, ["k5"], actor="frank")
    app.upsert_run_rows(s.run_id, s.dataset_id, actor="grace", global_keys=["k5"])
    app.update_config(s.run_id, {"epochs": 10}, actor="heidi")
    app.delete_dataset(app.create_dataset("scratch", actor="alice").id, actor="alice")
    ledger.read_models.wait_until_current()


def test_a_rebuild_matches_and_a_tampered_table_is_reported(ledger: Runtime) -> None:
    _history(ledger)
    assert verify_replay(ledger.database) == []

    with ledger.database.connect() as conn:
        conn.execute("UPDATE run_rows SET split = 'TEST' WHERE global_key = 'k0' AND valid_to IS NULL")
        conn.execute("DELETE FROM catalog_data_rows WHERE global_key = 'k2'")
        conn.commit()
    differences = verify_replay(ledger.database)
    assert len(differences) == 2
    assert differences[0].startswith("catalog.catalog_data_rows: 0 row(s) only in the live read model, 1 only in the rebuild")
    assert differences[1].startswith("model_runs.run_rows: 1 row(s) only in the live read model, 1 only in the rebuild")
    assert '"k0"' in differences[1]
    with ledger.database.connect() as conn:
        scratch = conn.execute(
            "SELECT count(*) FROM pg_namespace WHERE nspname LIKE %s", (ledger.database.schema + "_replay_%",)
        ).fetchone()
    assert scratch == (0,)  # the scratch schemas are gone


def test_a_rebuild_of_an_empty_log_matches(ledger: Runtime) -> None:
    assert verify_replay(ledger.database) == []


def test_a_stopped_read_model_is_reported_behind_and_what_was_compared_is_named(
    ledger: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    _history(ledger)
    poison_catalog(monkeypatch, "unapplied")
    ledger.app.create_dataset("unapplied", actor="alice")
    deadline = time.monotonic() + 30
    while not (stopped := [s for s in ledger.read_models.stopped() if s.read_model == "catalog"]):
        assert time.monotonic() < deadline
        time.sleep(0.05)

    report = replay_report(ledger.database)
    [behind] = [d for d in report.differences if "behind" in d]
    assert behind.startswith("catalog: behind the event log: it has applied its events up to ")
    assert behind.endswith(f", the log holds them up to {stopped[0].notification_id} (stopped, or still catching up)")
    assert [line.split(":")[0] for line in report.compared] == [model.name for model in READ_MODELS] + ["slice_membership"]

    monkeypatch.undo()  # the fix: the read model is started again by itself and catches up
    deadline = time.monotonic() + 60
    while ledger.read_models.stopped() or verify_replay(ledger.database):
        assert time.monotonic() < deadline, ledger.read_models.stopped()
        time.sleep(0.5)


def _memberships_taken_in(ledger: Runtime) -> int:
    """Waits until the refresher has taken in every change; how many memberships are stored."""
    deadline = time.monotonic() + 30
    while ledger.read_models.memberships.pending():
        assert time.monotonic() < deadline, "the slice memberships were not refreshed"
        time.sleep(0.05)
    return len(ledger.read_models.memberships.fetch("SELECT 1 FROM {s}.slice_memberships"))


def test_slice_memberships_are_computed_again_and_compared(ledger: Runtime) -> None:
    s = scenario(ledger, rows=6)
    app = ledger.app
    ledger.read_models.wait_until_current()
    app.create_slice(s.model_id, "validation", {"all": [{"split": ["VALIDATION"]}]}, actor="ana")
    cities = app.create_slice(s.model_id, "city", {"all": [{"metadata": {"key": "city", "in": ["Lyon"]}}]}, actor="ana")
    app.update_metadata(s.dataset_id, numbered([{"dataRow": {"globalKey": "k1"}, "metadata": {"city": None}}]), actor="ana")
    ledger.read_models.wait_until_current()
    assert _memberships_taken_in(ledger) == 2
    report = replay_report(ledger.database)
    assert report.differences == []
    assert report.compared[-1] == "slice_membership: 2 membership(s) of 1 run(s) computed again and compared"

    with ledger.database.connect() as conn:
        conn.execute("UPDATE slice_memberships SET member_count = 5, digest = 'x' WHERE slice_id = %s", (cities.id,))
        conn.execute("DELETE FROM slice_memberships WHERE slice_id <> %s", (cities.id,))
        conn.commit()
    differences = replay_report(ledger.database).differences
    assert len(differences) == 2, differences
    assert any(d.startswith(f"slice_membership: slice {cities.id} in run {s.run_id} at ") and "stored" in d
               and "'x'" in d for d in differences)
    assert any(d.endswith(": no membership stored") for d in differences)
