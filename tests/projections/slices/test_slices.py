"""The slices read model: queries, rebuilding from the log, and names under concurrency."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from threading import Barrier
from uuid import UUID

from domain.errors import Conflict, ValidationFailed
from domain.slices import Slice
from projections.replay import verify_replay
from runtime import Runtime
from tests.projections.builders import CLASSIFICATIONS, TOOLS

CARS = {"all": [{"annotation": {"features": ["car"]}}]}


def new_model(ledger: Runtime, name: str = "detector") -> UUID:
    return ledger.app.create_model(name, tools=TOOLS, classifications=CLASSIFICATIONS, actor="bob").id


def test_the_queries_show_live_slices(ledger: Runtime) -> None:
    app, slices = ledger.app, ledger.read_models.slices
    model_id = new_model(ledger)
    night = app.create_slice(model_id, "night", {"all": [{"split": ["TEST"]}]}, actor="ana")
    cars = app.create_slice(model_id, "Cars", CARS, actor="ana")
    app.rename_slice(cars.id, "All cars", actor="bo")
    gone = app.create_slice(model_id, "Gone", CARS, actor="ana")
    app.delete_slice(gone.id, actor="bo")
    ledger.read_models.wait_until_current()

    assert [(s.name, s.version) for s in slices.slices_of_model(model_id)] == [("All cars", 2), ("night", 1)]
    record = slices.slice(night.id)
    assert record is not None
    assert (record.id, record.model_id, record.filter) == (str(night.id), str(model_id), night.filter)
    assert record.created_at == night.created_on == record.updated_at
    assert slices.slice(gone.id) is None and slices.slice("not an id") is None
    found = slices.slice_named(model_id, " All cars ")
    assert found is not None and found.id == str(cars.id)
    assert slices.slice_named(model_id, "Cars") is None and slices.slice_named(model_id, "Gone") is None
    assert slices.slices_of_model(new_model(ledger, "other")) == [] and slices.slices_of_model("x") == []


def test_a_rebuild_matches_and_a_tampered_slice_is_reported(ledger: Runtime) -> None:
    app = ledger.app
    model_id = new_model(ledger)
    base = app.create_slice(model_id, "Cars", CARS, actor="ana")
    outer = app.create_slice(model_id, "Cars in test", {"all": [{"slice": str(base.id)}, {"split": ["test"]}]}, actor="ana")
    app.rename_slice(outer.id, "Test cars", actor="bo")
    app.update_slice_filter(base.id, {"all": [{"prediction": {"features": ["car"], "present": False}}]}, actor="cy")
    gone = app.create_slice(model_id, "Scratch", {}, actor="ana")
    app.delete_slice(gone.id, actor="di", expected_version=1)
    ledger.read_models.wait_until_current()
    assert verify_replay(ledger.database) == []

    with ledger.database.connect() as conn:
        conn.execute("UPDATE saved_slices SET name = 'tampered' WHERE id = %s", (outer.id,))
        conn.commit()
    differences = verify_replay(ledger.database)
    assert len(differences) == 1, differences
    assert differences[0].startswith("slices.saved_slices: 1 row(s) only in the live read model, 1 only in the rebuild")


def test_of_concurrent_requests_for_one_name_exactly_one_wins(ledger: Runtime) -> None:
    app = ledger.app
    model_id = new_model(ledger)
    others = [app.create_slice(model_id, f"Other {i}", CARS, actor="ana") for i in range(3)]
    contenders = 4
    barrier = Barrier(contenders + len(others))

    def create(i: int) -> Slice | Exception:
        barrier.wait()
        try:
            return app.create_slice(model_id, "Popular", CARS, actor=f"creator {i}")
        except (ValidationFailed, Conflict) as exc:
            return exc

    def rename(item: Slice) -> Slice | Exception:
        barrier.wait()
        try:
            return app.rename_slice(item.id, "Popular", actor="renamer")
        except (ValidationFailed, Conflict) as exc:
            return exc

    with ThreadPoolExecutor(contenders + len(others)) as pool:
        futures = [pool.submit(create, i) for i in range(contenders)] + [pool.submit(rename, s) for s in others]
        outcomes = [f.result() for f in futures]
    winners = [o for o in outcomes if isinstance(o, Slice)]
    assert len(winners) == 1, outcomes
    duplicate = f"model {model_id} already has a slice named 'Popular'"
    assert all(isinstance(o, ValidationFailed) and o.message == duplicate for o in outcomes if o not in winners)
    ledger.read_models.wait_until_current()
    live = ledger.read_models.slices.slices_of_model(model_id)
    assert sorted(s.name for s in live) == sorted(["Popular", *(s.name for s in others if s.id != winners[0].id)])
