"""Events take their positions in the log in the order they commit: a reader following the
log by position never passes over an event committed after a later one."""

from __future__ import annotations

import threading
import time

from eventsourcing.domain import Aggregate, event

from application import ModelLedger
from storage.database import Database
from storage.ordered_recorder import OrderedApplicationRecorder


class SlowToCommit(Aggregate):
    @event("Written")
    def __init__(self) -> None:
        pass


class QuickToCommit(Aggregate):
    @event("Written")
    def __init__(self) -> None:
        pass


def _slow_inserts(database: Database) -> None:
    """A test trigger: a SlowToCommit event holds its transaction 1 s after taking its
    position (a column's default is taken before BEFORE triggers run)."""
    with database.connect() as conn:
        conn.execute(
            "CREATE FUNCTION slow_insert() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
            " IF NEW.topic LIKE '%SlowToCommit%' THEN PERFORM pg_sleep(1); END IF; RETURN NEW; END $$"
        )
        conn.execute(
            "CREATE TRIGGER slow_insert BEFORE INSERT ON modelledger_events FOR EACH ROW EXECUTE FUNCTION slow_insert()"
        )
        conn.commit()


def test_a_reader_never_sees_a_later_position_before_an_earlier_one(database: Database) -> None:
    app = ModelLedger(env=database.application_env())
    try:
        assert isinstance(app.recorder, OrderedApplicationRecorder)
        _slow_inserts(database)
        slow = threading.Thread(target=lambda: app.save(SlowToCommit()))
        slow.start()
        time.sleep(0.3)  # the slow one has its position and has not committed
        app.save(QuickToCommit())  # waits for the slow one to commit
        seen = [n.topic.rsplit(":", 1)[1] for n in app.recorder.select_notifications(start=None, limit=10)]
        slow.join()
        # Whenever the quick one is visible, so is the slow one before it.
        assert seen == ["SlowToCommit.Written", "QuickToCommit.Written"]
    finally:
        app.close()
