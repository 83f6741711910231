"""A log written before the layout aggregate's rename (it was domain.projector.projection's
`Projection`) holds its events under the old topics: the command side and the projector read
model read them as the layout's events."""

from __future__ import annotations

from uuid import uuid4

from eventsourcing.utils import get_topic
from psycopg.sql import SQL, Identifier

from application import ModelLedger
from domain.projector.layout import FORMER_TOPIC, Layout
from runtime import open_runtime
from storage.database import Database


def test_layout_events_under_the_former_topics_are_read_as_layouts(database: Database) -> None:
    app = ModelLedger(env=database.application_env())
    run_id = uuid4()
    layout = Layout(
        id=uuid4(), run_id=run_id, run_version=1, space="clip", spaces=[], params={"method": "PCA", "sphereize": False}, points=3,
        selected=False, source_projection_id=None, input_upload_id=uuid4(), computation_id=uuid4(), actor="ann",
    )  # fmt: skip
    layout.note_progress(fraction=0.5, stage="reducing")
    app.save(layout)
    with database.connect() as conn:  # as an earlier server recorded them
        for event in ("Requested", "ProgressNoted"):
            renamed = conn.execute(
                SQL("UPDATE {}.{} SET topic = %s WHERE topic = %s").format(
                    Identifier(database.schema), Identifier(app.recorder.events_table_name)
                ),
                (f"{FORMER_TOPIC}.{event}", get_topic(getattr(Layout, event))),
            )
            assert renamed.rowcount == 1
    app.close()

    runtime = open_runtime(database)  # the read models start and read the log from the start
    try:
        runtime.read_models.wait_until_current(timeout=30)
        loaded = runtime.app.repository.get(layout.id)
        assert isinstance(loaded, Layout) and loaded.stage == "reducing" and loaded.version == 2
        record = runtime.read_models.projector.projection(run_id, layout.id)
        assert record is not None and (record.point_count, record.space, record.stage) == (3, "clip", "reducing")
    finally:
        runtime.close()
