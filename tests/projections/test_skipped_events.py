"""Events a read model ignores are tracked without a transaction each (PostgresView.skip)."""

from __future__ import annotations

from eventsourcing.persistence import Tracking

from projections.runners import READ_MODELS, make_view
from runtime import Runtime
from storage.database import Database


def test_a_skipped_event_is_tracked_with_the_next_write_or_when_flushed(database: Database) -> None:
    model = next(m for m in READ_MODELS if m.name == "embeddings")
    view = make_view(model, database.application_env())
    view.skip(Tracking("log", 5))
    assert view.max_tracking_id("log") is None  # not yet
    with view.tracked(Tracking("log", 6)):
        pass
    view.flush_skipped()  # nothing left: 5 is behind 6, and writing it would fail
    assert view.max_tracking_id("log") == 6
    view.skip(Tracking("log", 7))
    view.skip(Tracking("log", 8))
    view.flush_skipped()
    assert view.max_tracking_id("log") == 8


def test_read_models_that_ignore_an_upload_are_current_after_it(ledger: Runtime) -> None:
    """Every read model but the embeddings' ignores an embeddings upload's chunks; each
    still tracks the last of them once it has read them all, so a wait for it ends (it
    would time out on the catalog, whose last event to track is the last chunk)."""
    app = ledger.app
    dataset = app.create_dataset("d", actor="t")
    app.add_data_rows(dataset.id, ((n, {"globalKey": f"k{n}", "rowData": "s3://x"}) for n in range(1, 301)), actor="t")
    rows = ((n, {"globalKey": f"k{n}", "vector": [float(n), 1.0] * 256}) for n in range(1, 301))
    _, notification, accepted = app.upload_embeddings(dataset.id, "s", rows, actor="t")
    assert accepted == 300
    ledger.read_models.wait_until_current(timeout=30)
    catalog = make_view(READ_MODELS[0], ledger.database.application_env())
    assert catalog.max_tracking_id(app.name) == app.recorder.max_notification_id() == notification
