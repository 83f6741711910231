"""The catalog read model: datasets, data rows with metadata and labels, models."""

from __future__ import annotations

import pytest

from domain.errors import NotFound, ValidationFailed
from runtime import Runtime
from tests.projections.builders import box, numbered, row_line, scenario


def test_datasets_and_data_rows_with_metadata_and_labels(ledger: Runtime) -> None:
    s = scenario(ledger, rows=5)
    dataset = ledger.read_models.dataset(s.dataset_id)
    assert dataset is not None
    assert (dataset.name, dataset.row_count) == ("street scenes", 5)
    assert {f["key"]: f["kind"] for f in dataset.metadata_fields} == {"index": "NUMBER", "city": "STRING"}

    page = ledger.read_models.data_rows(s.dataset_id, first=3)
    assert [r.global_key for r in page.items] == ["k0", "k1", "k2"]  # upload order
    assert (page.total_count, page.has_next_page) == (5, True)
    rest = ledger.read_models.data_rows(s.dataset_id, first=3, after=page.end_cursor)
    assert [r.global_key for r in rest.items] == ["k3", "k4"]
    assert not rest.has_next_page

    first = page.items[0]
    assert (first.width, first.height, first.media_type) == (640, 480, "IMAGE")
    assert first.metadata == {"index": 0.0, "city": "Lyon"}
    assert first.labels == [
        {"name": "car", "bbox": box(top=0)},
        {"name": "weather", "answer": {"name": "sunny"}},
    ]


def test_metadata_updates_merge_and_remove_keys(ledger: Runtime) -> None:
    s = scenario(ledger, rows=2)
    _, notification = ledger.app.update_metadata(
        s.dataset_id,
        numbered(
            [
                {"dataRow": {"globalKey": "k0"}, "metadata": {"city": None, "weather": "dry"}},
                # Text the database receives as it is (quotes, backslashes, braces, non-ASCII).
                {"dataRow": {"globalKey": "k1"}, "metadata": {"index": 7, "note": 'Zürich "a\\b" {x,y} ✓'}},
            ]
        ),
        actor="erin",
    )
    ledger.read_models.wait(notification)
    rows = {r.global_key: r for r in ledger.read_models.data_rows(s.dataset_id).items}
    assert rows["k0"].metadata == {"index": 0.0, "weather": "dry"}
    assert rows["k1"].metadata == {"index": 7.0, "city": "Lyon", "note": 'Zürich "a\\b" {x,y} ✓'}


def test_label_updates_replace_a_rows_labels(ledger: Runtime) -> None:
    s = scenario(ledger, rows=2)
    _, notification = ledger.app.update_labels(
        s.dataset_id,
        numbered(
            [
                {"dataRow": {"globalKey": "k0"}, "labels": [{"name": "person", "bbox": box(1, 2, 3, 4)}]},
                {"dataRow": {"globalKey": "k1"}, "labels": []},
            ]
        ),
        actor="erin",
    )
    ledger.read_models.wait(notification)
    rows = {r.global_key: r for r in ledger.read_models.data_rows(s.dataset_id).items}
    assert rows["k0"].labels == [{"name": "person", "bbox": box(1, 2, 3, 4)}]
    assert rows["k1"].labels == []
    labels = ledger.read_models.rows.dataset_labels(s.dataset_id, [rows["k0"].id, rows["k1"].id])
    assert list(labels) == [rows["k0"].id]
    assert labels[rows["k0"].id][0].feature == "person"


def test_models_with_their_ontology(ledger: Runtime) -> None:
    s = scenario(ledger, rows=1)
    model = ledger.read_models.model(s.model_id)
    assert model is not None and model.name == "detector"
    names = set(model.ontology["name"])
    assert {"car", "person", "road", "weather", "weather/sunny", "weather/rainy"} <= names
    ledger.app.extend_ontology(s.model_id, tools=[{"name": "bus", "tool": "BBOX"}], classifications=[], actor="bob")
    ledger.app.rename_model(s.model_id, "detector v2", actor="bob")
    ledger.read_models.wait_until_current()
    model = ledger.read_models.model(s.model_id)
    assert model is not None
    assert (model.name, model.version) == ("detector v2", 4)
    assert "bus" in model.ontology["name"]
    assert [m.name for m in ledger.read_models.models().items] == ["detector v2"]


def test_deleted_datasets_and_models_leave_the_lists(ledger: Runtime) -> None:
    s = scenario(ledger, rows=1)
    other = ledger.app.create_dataset("other", actor="alice")
    ledger.app.delete_dataset(s.dataset_id, actor="alice")
    ledger.app.delete_model(s.model_id, actor="bob")
    ledger.read_models.wait_until_current()
    datasets = ledger.read_models.datasets()
    assert [d.id for d in datasets.items] == [str(other.id)]
    assert datasets.total_count == 1
    assert ledger.read_models.dataset(s.dataset_id) is None
    assert ledger.read_models.models().items == []
    assert ledger.read_models.model(s.model_id) is None
    with pytest.raises(NotFound):
        ledger.read_models.data_rows(s.dataset_id)


def test_row_directory_answers_commands(ledger: Runtime) -> None:
    s = scenario(ledger, rows=3)
    rows = ledger.read_models.rows
    by_key = rows.dataset_rows(s.dataset_id, global_keys=["k1", "missing"])
    assert list(by_key) == ["k1"]
    info = by_key["k1"]
    assert (info.global_key, info.size) == ("k1", (480, 640))
    by_id = rows.dataset_rows(s.dataset_id, ids=[info.id, "not-a-uuid"])
    assert by_id == {info.id: info}
    assert [r.global_key for r in rows.all_dataset_rows(s.dataset_id)] == ["k0", "k1", "k2"]
    assert set(rows.run_rows(s.run_id, global_keys=["k0", "k2", "k9"])) == {"k0", "k2"}


def test_pages_are_bounded_and_cursors_checked(ledger: Runtime) -> None:
    s = scenario(ledger, rows=2)
    with pytest.raises(ValidationFailed, match="first"):
        ledger.read_models.datasets(first=1001)
    with pytest.raises(ValidationFailed, match="invalid cursor 'garbage'"):
        ledger.read_models.data_rows(s.dataset_id, after="garbage")
    cursor = ledger.read_models.datasets(first=1).end_cursor
    with pytest.raises(ValidationFailed, match="invalid cursor"):
        ledger.read_models.data_rows(s.dataset_id, after=cursor)  # another list's cursor
    assert ledger.read_models.datasets(first=0).items == []


def test_rows_added_later_keep_upload_order(ledger: Runtime) -> None:
    s = scenario(ledger, rows=2)
    _, notification = ledger.app.add_data_rows(s.dataset_id, numbered([row_line("a"), row_line("b")]), actor="alice")
    ledger.read_models.wait(notification)
    page = ledger.read_models.data_rows(s.dataset_id)
    assert [r.global_key for r in page.items] == ["k0", "k1", "a", "b"]
    assert page.total_count == 4


def test_datasets_and_models_by_id_in_one_query_each(ledger: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    """The GraphQL loaders' batches: each id's record in the order asked, None for an id that
    is not one, names nothing or names a deleted one; one query per batch."""
    app, catalog = ledger.app, ledger.read_models.catalog
    kept, gone = (app.create_dataset(name, actor="t") for name in ("kept", "gone"))
    tools = [{"name": "car", "tool": "BBOX"}]
    model, old = (app.create_model(name, tools=tools, classifications=[], actor="t") for name in ("m", "old"))
    app.delete_dataset(gone.id, actor="t")
    app.delete_model(old.id, actor="t")
    ledger.read_models.wait_until_current(timeout=30)
    unknown = "00000000-0000-4000-8000-000000000000"
    queries: list[str] = []
    fetch = catalog.view.fetch
    monkeypatch.setattr(catalog.view, "fetch", lambda sql, *a, **k: queries.append(sql) or fetch(sql, *a, **k))

    found = ledger.read_models.datasets_by_id([str(kept.id), "not-an-id", str(gone.id), unknown, str(kept.id).upper()])
    assert [d and d.name for d in found] == ["kept", None, None, None, "kept"]
    models = ledger.read_models.models_by_id([str(old.id), str(model.id)])
    assert [m and m.name for m in models] == [None, "m"]
    assert len(queries) == 2
    assert ledger.read_models.datasets_by_id(["nothing"]) == [None] and len(queries) == 2  # no query for no id


@pytest.mark.parametrize("every_row", [False, True])
def test_label_columns_follow_the_rows_asked_for(ledger: Runtime, every_row: bool) -> None:
    """A snapshot's labels line up with the rows the command listed, in its order; read by
    the dataset alone (every_row), a row the command did not list is read and left out."""
    s = scenario(ledger, rows=4)
    rows = ledger.read_models.catalog.all_dataset_rows(s.dataset_id)
    listed = [rows[2].id, rows[0].id]  # as if rows[1] and rows[3] had arrived after the listing
    boxes, others = ledger.read_models.rows.dataset_label_columns(s.dataset_id, listed, every_row)
    assert len(boxes) == 0  # each row also has a classification: all are read as objects
    assert [(line, row_id) for line, row_id, _ in others] == [(0, rows[2].id), (1, rows[0].id)]
    assert [[a.feature for a in labels] for _, _, labels in others] == [["car", "weather/sunny"]] * 2
