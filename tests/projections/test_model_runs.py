"""The model runs read model: a run as of every version, history and diffs."""

from __future__ import annotations

import threading
import time
from uuid import uuid4

import pytest

from application import SplitSpec
from domain.errors import NotFound, ValidationFailed
from runtime import Runtime
from tests.projections.builders import (
    CLASSIFICATIONS,
    all_run_rows,
    box,
    numbered,
    predict,
    row_line,
    scenario,
)


def test_a_new_run_is_a_snapshot_of_rows_splits_and_labels(ledger: Runtime) -> None:
    s = scenario(ledger, rows=4)
    run = ledger.read_models.model_run(s.run_id)
    assert run is not None
    assert (run.name, run.version, run.latest_version, run.row_count) == ("run 1", 1, 1, 4)
    assert run.config["learning_rate"] is None
    assert run.metric_settings["iou_thresholds"][-1] == 1.0
    rows = all_run_rows(ledger, s.run_id)
    assert {k: r.split for k, r in rows.items()} == {
        "k0": "TRAINING", "k1": "TRAINING", "k2": "TEST", "k3": "TEST"
    }
    assert rows["k0"].labels == [
        {"name": "car", "bbox": box(top=0)},
        {"name": "weather", "answer": {"name": "sunny"}},
    ]
    assert not any(r.covered for r in rows.values())
    # Later catalog edits do not reach the run.
    _, notification = ledger.app.update_labels(
        s.dataset_id, numbered([{"dataRow": {"globalKey": "k0"}, "labels": []}]), actor="erin"
    )
    ledger.read_models.wait(notification)
    assert all_run_rows(ledger, s.run_id)["k0"].labels == rows["k0"].labels
    assert [r.name for r in ledger.read_models.model_runs(s.model_id).items] == ["run 1"]


def test_predictions_replace_a_rows_set_and_cover_it(ledger: Runtime) -> None:
    s = scenario(ledger, rows=3)
    car = {"dataRow": {"globalKey": "k0"}, "name": "car", "bbox": box(), "confidence": 0.9}
    predict(ledger, s.run_id, [car, {**car, "bbox": box(top=50)}, {"dataRow": {"globalKey": "k1"}}])
    rows = all_run_rows(ledger, s.run_id)
    assert rows["k0"].covered and len(rows["k0"].predictions) == 2
    assert rows["k0"].predictions[0] == {"name": "car", "bbox": box(), "confidence": 0.9}
    assert rows["k1"].covered and rows["k1"].predictions == []  # covered, predicted nothing
    assert not rows["k2"].covered

    answer = {"dataRow": {"globalKey": "k0"}, "name": "weather", "answer": {"name": "rainy", "confidence": 0.4}}
    predict(ledger, s.run_id, [answer])
    rows = all_run_rows(ledger, s.run_id)
    assert rows["k0"].predictions == [{"name": "weather", "answer": {"name": "rainy", "confidence": 0.4}}]
    assert rows["k1"].covered and rows["k1"].predictions == []  # not in the upload: untouched

    # Each version still reads as it was.
    assert len(all_run_rows(ledger, s.run_id, version=2)["k0"].predictions) == 2
    assert not all_run_rows(ledger, s.run_id, version=1)["k0"].covered


def test_split_reassignment_and_removal_are_versions(ledger: Runtime) -> None:
    s = scenario(ledger, rows=4)
    predict(ledger, s.run_id, [{"dataRow": {"globalKey": "k3"}, "name": "car", "bbox": box()}])
    ledger.app.reassign_splits(s.run_id, {"k0": "validation", "k1": "TRAINING"}, actor="frank")
    ledger.app.remove_run_rows(s.run_id, ["k2", "k3"], actor="frank")
    ledger.read_models.wait_until_current()

    latest = ledger.read_models.model_run(s.run_id)
    assert latest is not None and (latest.version, latest.row_count) == (4, 2)
    assert {k: r.split for k, r in all_run_rows(ledger, s.run_id).items()} == {
        "k0": "VALIDATION", "k1": "TRAINING"
    }
    at_3 = all_run_rows(ledger, s.run_id, version=3)
    assert {k: r.split for k, r in at_3.items()} == {
        "k0": "VALIDATION", "k1": "TRAINING", "k2": "TEST", "k3": "TEST"
    }
    assert at_3["k3"].covered
    assert ledger.read_models.model_run(s.run_id, version=3).row_count == 4  # type: ignore[union-attr]
    page = ledger.read_models.run_rows(s.run_id, version=1, split="TEST")
    assert sorted(r.global_key for r in page.items) == ["k2", "k3"] and page.total_count == 2

    diff = ledger.read_models.run_diff(s.run_id, 1, 4)
    assert sorted(diff.rows_removed) == ["k2", "k3"]
    assert diff.rows_added == []
    assert diff.splits_changed == [{"globalKey": "k0", "from": "TRAINING", "to": "VALIDATION"}]
    assert ledger.read_models.run_diff(s.run_id, 4, 4).rows_removed == []  # the same version: nothing


def test_a_diff_of_reversed_or_unknown_versions_is_refused(ledger: Runtime) -> None:
    s = scenario(ledger, rows=2)
    ledger.app.update_config(s.run_id, {"epochs": 1}, actor="heidi")
    ledger.app.rename_model_run(s.run_id, "renamed", actor="heidi")
    ledger.read_models.wait_until_current()
    for versions, message in (
        ((3, 2), "fromVersion 3 is after toVersion 2"),
        ((1, 9), "toVersion 9 is beyond the run's current version 3"),
        ((4, 4), "fromVersion 4 is beyond the run's current version 3"),
        ((0, 2), "fromVersion 0 is below 1"),
        ((-1, -1), "fromVersion -1 is below 1"),
        ((1, 0), "toVersion 0 is below 1"),
    ):
        with pytest.raises(ValidationFailed, match=message) as refused:
            ledger.read_models.run_diff(s.run_id, *versions)
        assert "1 to 3" in refused.value.message
    assert ledger.read_models.run_diff(s.run_id, 3, 3).config_before == {"epochs": 1}
    with pytest.raises(NotFound):
        ledger.read_models.run_diff(uuid4(), 1, 1)


def test_upsert_adds_rows_and_replaces_labels_keeping_splits(ledger: Runtime) -> None:
    s = scenario(ledger, rows=4)
    ledger.app.remove_run_rows(s.run_id, ["k3"], actor="frank")
    _, notification = ledger.app.update_labels(
        s.dataset_id,
        numbered(
            [
                {"dataRow": {"globalKey": "k0"}, "labels": []},
                {"dataRow": {"globalKey": "k1"}, "labels": [{"name": "person", "bbox": box(1, 1, 5, 5)}]},
            ]
        ),
        actor="erin",
    )
    ledger.read_models.wait(notification)
    ids = [r.id for r in ledger.read_models.catalog.all_dataset_rows(s.dataset_id)]
    catalog = ledger.read_models.catalog.dataset_labels(s.dataset_id, ids)
    held = ledger.read_models.runs.current_labels(s.run_id, ids)
    assert sorted(held) == sorted(ids[:3])  # k3 left the run
    assert held[ids[2]] == catalog[ids[2]] and held[ids[1]] != catalog[ids[1]] and ids[0] not in catalog
    ledger.app.upsert_run_rows(s.run_id, s.dataset_id, actor="grace", global_keys=["k0", "k1", "k3"])
    ledger.read_models.wait_until_current()
    assert ledger.read_models.runs.current_labels(s.run_id, ids) == catalog

    rows = all_run_rows(ledger, s.run_id)
    assert sorted(rows) == ["k0", "k1", "k2", "k3"]
    assert rows["k0"].labels == []  # the snapshot has no labels for it: reset
    assert rows["k1"].labels == [{"name": "person", "bbox": box(1, 1, 5, 5)}]
    assert rows["k2"].labels[0]["name"] == "car"  # not upserted: untouched
    # Rows the run holds keep their split; a row new to it has none named: UNASSIGNED.
    assert {k: r.split for k, r in rows.items()} == {
        "k0": "TRAINING", "k1": "TRAINING", "k2": "TEST", "k3": "UNASSIGNED"
    }
    run = ledger.read_models.model_run(s.run_id)
    assert run is not None and (run.version, run.row_count) == (3, 4)

    diff = ledger.read_models.run_diff(s.run_id, 2, 3)
    assert diff.rows_added == ["k3"]
    assert set(diff.labels_changed) == {"k0", "k1", "k3"}
    assert diff.splits_changed == []


def test_upsert_places_only_named_rows_and_new_rows(ledger: Runtime) -> None:
    s = scenario(ledger, rows=4)  # k0, k1 TRAINING; k2, k3 TEST
    ledger.app.remove_run_rows(s.run_id, ["k2", "k3"], actor="frank")
    ledger.read_models.wait_until_current()
    ledger.app.upsert_run_rows(
        s.run_id, s.dataset_id, actor="grace", splits=SplitSpec(validate=1.0, seed=5)
    )  # every row of the dataset; ratios only for the rows new to the run
    ledger.read_models.wait_until_current()
    assert {k: r.split for k, r in all_run_rows(ledger, s.run_id).items()} == {
        "k0": "TRAINING", "k1": "TRAINING", "k2": "VALIDATION", "k3": "VALIDATION"
    }
    ledger.app.upsert_run_rows(
        s.run_id, s.dataset_id, actor="grace", global_keys=["k0", "k1", "k2"],
        splits=SplitSpec(assignments={"k1": "TEST"}),
    )
    ledger.read_models.wait_until_current()
    assert {k: r.split for k, r in all_run_rows(ledger, s.run_id).items()} == {
        "k0": "TRAINING", "k1": "TEST", "k2": "VALIDATION", "k3": "VALIDATION"
    }
    diff = ledger.read_models.run_diff(s.run_id, 3, 4)
    assert diff.splits_changed == [{"globalKey": "k1", "from": "TRAINING", "to": "TEST"}]


def test_commands_that_change_nothing_record_nothing(ledger: Runtime) -> None:
    s = scenario(ledger, rows=2)  # k0 TRAINING, k1 TEST
    app = ledger.app
    app.update_config(s.run_id, {"epochs": 3}, actor="heidi")
    assert app.update_config(s.run_id, {"epochs": 3}, actor="heidi").version == 2
    assert app.set_metric_settings(s.run_id, actor="ivan").version == 2
    same = app.set_metric_settings(s.run_id, actor="ivan", confidence_thresholds=[0.5, 0.0, 0.1, 0.2, 0.3, 0.4,
                                                                                 0.6, 0.7, 0.8, 0.9, 1.0])
    assert same.version == 2
    assert app.rename_model_run(s.run_id, "run 1", actor="heidi").version == 2
    assert app.reassign_splits(s.run_id, {"k0": "training", "k1": "TEST"}, actor="frank").version == 2
    assert app.upsert_run_rows(s.run_id, s.dataset_id, actor="frank", global_keys=["k0", "k1"]).version == 2
    assert app.copy_config(s.run_id, s.run_id, actor="heidi", expected_version=2).version == 2
    dataset_version, model_version = (app.repository.get(i).version for i in (s.dataset_id, s.model_id))
    assert app.rename_dataset(s.dataset_id, "street scenes", actor="alice").version == dataset_version
    assert app.rename_model(s.model_id, "detector", actor="bob").version == model_version
    ledger.read_models.wait_until_current()
    history = ledger.read_models.run_history(s.run_id)
    assert [e.type for e in history.items] == ["Created", "ConfigUpdated"]

    # One real change among the named rows is recorded, and only it.
    assert app.reassign_splits(s.run_id, {"k0": "TRAINING", "k1": "VALIDATION"}, actor="frank").version == 3
    ledger.read_models.wait_until_current()
    assert ledger.read_models.run_diff(s.run_id, 2, 3).splits_changed == [
        {"globalKey": "k1", "from": "TEST", "to": "VALIDATION"}
    ]
    assert ledger.read_models.run_history(s.run_id).items[-1].summary["rows"] == 1


def test_config_and_settings_per_version_history_and_diff(ledger: Runtime) -> None:
    s = scenario(ledger, rows=2)
    app = ledger.app
    app.update_config(s.run_id, {"learning_rate": 0.01, "optimizer": "adam"}, actor="heidi")
    app.set_metric_settings(s.run_id, actor="ivan", iou_thresholds=[0.5, 0.75])
    app.rename_model_run(s.run_id, "baseline", actor="heidi")
    app.reset_config(s.run_id, actor="judy")
    ledger.read_models.wait_until_current()

    at_2 = ledger.read_models.model_run(s.run_id, version=2)
    assert at_2 is not None
    assert at_2.config == {"learning_rate": 0.01, "optimizer": "adam"}
    assert at_2.metric_settings["iou_thresholds"][0] == 0.0
    at_4 = ledger.read_models.model_run(s.run_id, version=4)
    assert at_4 is not None and at_4.name == "baseline" and at_4.metric_settings["iou_thresholds"] == [0.5, 0.75]
    latest = ledger.read_models.model_run(s.run_id)
    assert latest is not None and latest.version == 5 and latest.config["optimizer"] is None

    history = ledger.read_models.run_history(s.run_id, first=3)
    assert [(e.version, e.type, e.actor) for e in history.items] == [
        (1, "Created", "carol"), (2, "ConfigUpdated", "heidi"), (3, "MetricSettingsChanged", "ivan")
    ]
    assert history.items[1].summary["config"] == {"learning_rate": 0.01, "optimizer": "adam"}
    assert history.items[0].summary["rows"] == 2
    rest = ledger.read_models.run_history(s.run_id, first=3, after=history.end_cursor)
    assert [(e.type, e.actor) for e in rest.items] == [("Renamed", "heidi"), ("ConfigUpdated", "judy")]
    assert rest.total_count == 5 and not rest.has_next_page
    assert rest.items[0].at >= history.items[0].at

    diff = ledger.read_models.run_diff(s.run_id, 1, 3)
    assert diff.config_after == {"learning_rate": 0.01, "optimizer": "adam"}
    assert diff.config_before["learning_rate"] is None
    assert diff.metric_settings_after["iou_thresholds"] == [0.5, 0.75]
    assert (diff.rows_added, diff.labels_changed, diff.predictions_changed) == ([], [], [])


def test_diff_lists_prediction_changes(ledger: Runtime) -> None:
    s = scenario(ledger, rows=3)
    predict(ledger, s.run_id, [{"dataRow": {"globalKey": "k0"}, "name": "car", "bbox": box()}, {"dataRow": {"globalKey": "k1"}}])
    predict(ledger, s.run_id, [{"dataRow": {"globalKey": "k0"}, "name": "car", "bbox": box()}])  # same again
    assert sorted(ledger.read_models.run_diff(s.run_id, 1, 2).predictions_changed) == ["k0", "k1"]
    assert ledger.read_models.run_diff(s.run_id, 2, 3).predictions_changed == []


def test_a_deleted_run_leaves_lists_but_earlier_versions_stay_readable(ledger: Runtime) -> None:
    s = scenario(ledger, rows=2)
    ledger.app.update_config(s.run_id, {"epochs": 3}, actor="heidi")
    ledger.app.delete_model_run(s.run_id, actor="mallory")
    ledger.read_models.wait_until_current()
    assert ledger.read_models.model_run(s.run_id) is None
    assert ledger.read_models.model_runs(s.model_id).items == []
    assert ledger.read_models.model_runs(s.model_id).total_count == 0
    earlier = ledger.read_models.model_run(s.run_id, version=2)
    assert earlier is not None and earlier.config == {"epochs": 3} and not earlier.deleted
    assert len(all_run_rows(ledger, s.run_id, version=2)) == 2
    assert ledger.read_models.run_history(s.run_id).items[-1].type == "Deleted"
    with pytest.raises(NotFound):
        ledger.read_models.run_rows(s.run_id)


def test_run_rows_pages_by_id_and_checks_its_arguments(ledger: Runtime) -> None:
    s = scenario(ledger, rows=5)
    ids: list[str] = []
    after = None
    while True:
        page = ledger.read_models.run_rows(s.run_id, first=2, after=after)
        assert page.total_count == 5
        ids += [r.id for r in page.items]
        if not page.has_next_page:
            break
        after = page.end_cursor
    assert ids == sorted(ids) and len(ids) == 5
    with pytest.raises(ValidationFailed, match="invalid cursor 'bm9wZQ=='"):
        ledger.read_models.run_rows(s.run_id, after="bm9wZQ==")
    with pytest.raises(ValidationFailed, match="version 9"):
        ledger.read_models.run_rows(s.run_id, version=9)
    with pytest.raises(ValidationFailed, match="first"):
        ledger.read_models.run_rows(s.run_id, first=5000)
    with pytest.raises(ValidationFailed, match="split"):
        ledger.read_models.run_rows(s.run_id, split="holdout")
    assert ledger.read_models.model_run("not-a-run") is None


def test_the_latest_run_read_while_it_changes_names_itself_the_latest(ledger: Runtime) -> None:
    """A run read at its latest version while new versions are recorded is always shown as
    its latest (its version and latest version read together): a query of such a record
    otherwise took it for an older version and refused its metrics."""
    s = scenario(ledger, rows=2)
    stop = threading.Event()

    def edit() -> None:
        n = 0
        while not stop.is_set():
            n += 1
            ledger.app.update_config(s.run_id, {"step": n}, actor="erin")

    editor = threading.Thread(target=edit)
    editor.start()
    try:
        seen = set()
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            run = ledger.read_models.model_run(s.run_id)
            assert run is not None and run.version == run.latest_version, (run.version, run.latest_version)
            seen.add(run.version)
    finally:
        stop.set()
        editor.join()
    assert len(seen) > 10  # versions were recorded while it was read


def test_a_run_refuses_labels_its_models_ontology_does_not_take_naming_the_first_row(ledger: Runtime) -> None:
    """Box labels are checked as columns, other labels as objects: either way the first row
    (in dataset order) that does not fit is named, and no run is recorded."""
    app = ledger.app
    dataset = app.create_dataset("mixed", actor="alice")
    lines = [
        row_line("a0"),
        row_line("b0", [{"name": "person", "bbox": box()}]),
        row_line("b1", [{"name": "car", "bbox": box()}, {"name": "person", "bbox": box(top=1)}]),
        row_line("b2", [{"name": "car", "bbox": box()}, {"name": "weather", "answer": {"name": "sunny"}}]),
        row_line("b3"),
    ]
    app.add_data_rows(dataset.id, numbered(lines), actor="alice")
    people = app.create_model("people", tools=[{"name": "person", "tool": "BBOX"}], classifications=CLASSIFICATIONS, actor="bob")
    boxes = app.create_model("boxes", tools=[{"name": "person", "tool": "BBOX"}, {"name": "car", "tool": "BBOX"}], classifications=[], actor="bob")
    for model, key, feature in ((people, "b1", "car"), (boxes, "b2", "weather")):
        with pytest.raises(ValidationFailed, match=rf"labels of data row '{key}': .*'{feature}'"):
            app.create_model_run(model.id, "run", dataset.id, actor="carol")
        ledger.read_models.wait_until_current()
        assert ledger.read_models.model_runs(model.id).items == []
    # Rows that fit: a0 and b3 (no labels) and b0 (a box) make a run with b0's label only.
    run = app.create_model_run(people.id, "run", dataset.id, actor="carol", global_keys=["a0", "b0", "b3"])
    ledger.read_models.wait_until_current()
    rows = all_run_rows(ledger, run.id)
    assert {key: row.labels for key, row in rows.items()} == {"a0": [], "b0": [{"name": "person", "bbox": box()}], "b3": []}


def test_a_new_run_takes_a_row_whose_labels_span_several_chunks_whole(ledger: Runtime) -> None:
    """A row with more labels than one chunk holds is split over consecutive chunks of the
    run's snapshot, after and before other rows: the run holds all of its labels, once."""
    app = ledger.app
    dataset = app.create_dataset("crowded", actor="alice")
    many = [{"name": "car", "bbox": box(top=i % 400, left=i % 500, height=2, width=3)} for i in range(9_000)]
    lines = [row_line("c0", [{"name": "person", "bbox": box()}]), row_line("c1", many), row_line("c2", many[:2])]
    app.add_data_rows(dataset.id, numbered([{**line, "height": 480, "width": 640} for line in lines]), actor="alice")
    model = app.create_model("m", tools=[{"name": "car", "tool": "BBOX"}, {"name": "person", "tool": "BBOX"}], classifications=[], actor="bob")
    run = app.create_model_run(model.id, "run", dataset.id, actor="carol")
    ledger.read_models.wait_until_current()
    uploads = ledger.read_models.runs.view.fetch("SELECT count(*) AS n FROM {s}.run_labels WHERE run_id = %s", (run.id,))
    assert uploads[0]["n"] == 3  # one record per row
    rows = all_run_rows(ledger, run.id)
    assert [len(rows[key].labels) for key in ("c0", "c1", "c2")] == [1, 9_000, 2]
    assert rows["c1"].labels == many
