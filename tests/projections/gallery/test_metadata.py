"""Declared metadata fields (DATETIME, ENUM) and the gallery's clauses and sorts on them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

import pytest

from application import SplitSpec
from domain.errors import ValidationFailed
from domain.filter_language import clauses_from_json
from projections.gallery.sorting import SortKey
from tests.projections.builders import TOOLS, numbered, row_line
from tests.workers.stack import Stack


@dataclass
class Drives:
    id: UUID  # the run
    dataset_id: UUID


@pytest.fixture
def run(stack: Stack) -> Drives:
    app = stack.app
    dataset = app.create_dataset("drives", actor="alice")
    app.declare_metadata_fields(
        dataset.id,
        [{"key": "captured", "kind": "DATETIME"}, {"key": "weather", "kind": "ENUM", "options": ["sun", "rain", "fog"]}],
        actor="alice",
    )
    lines = [
        row_line(f"d{i}", [], metadata={"captured": f"2026-0{1 + i}-15T08:00:00+02:00", "weather": ["sun", "rain", "fog"][i % 3]})
        for i in range(6)
    ]
    app.add_data_rows(dataset.id, numbered(lines), actor="alice")
    model = app.create_model("m", tools=TOOLS, classifications=[], actor="alice")
    created = app.create_model_run(model.id, "r", dataset.id, actor="alice", splits=SplitSpec(train=1.0, seed=1))
    stack.wait_until_current()
    return Drives(created.id, dataset.id)


def _keys(stack: Stack, run: Any, filter_json: Any, sort: list[SortKey] | None = None) -> list[str]:
    page = stack.runtime.read_models.gallery.data_rows(run.id, clauses_from_json(filter_json), sort or [])
    return [r.global_key for r in page.items]


def test_datetime_ranges_compare_instants(stack: Stack, run: Any) -> None:
    # 2026-03-15T08:00+02:00 is 06:00 UTC: inside a range starting at 05:00Z.
    march = {"all": [{"metadata": {"key": "captured", "min": "2026-03-15T05:00:00Z", "max": "2026-04-30T00:00:00+00:00"}}]}
    assert sorted(_keys(stack, run, march)) == ["d2", "d3"]
    latest = _keys(stack, run, None, [SortKey("METADATA", True, key="captured")])
    assert latest == ["d5", "d4", "d3", "d2", "d1", "d0"]


def test_enum_and_bad_values_are_named(stack: Stack, run: Any) -> None:
    assert sorted(_keys(stack, run, {"all": [{"metadata": {"key": "weather", "in": ["rain", "fog"]}}]})) == ["d1", "d2", "d4", "d5"]
    with pytest.raises(ValidationFailed, match="clause 1 \\(metadata\\): metadata 'captured': 'yesterday' is not an ISO 8601"):
        _keys(stack, run, {"all": [{"metadata": {"key": "captured", "min": "yesterday"}}]})


def test_declarations_are_checked(stack: Stack, run: Any) -> None:
    app = stack.app
    dataset_id = run.dataset_id
    with pytest.raises(ValidationFailed, match="'weather' is already declared as ENUM"):
        app.declare_metadata_fields(dataset_id, [{"key": "weather", "kind": "STRING"}], actor="alice")
    with pytest.raises(ValidationFailed, match="unknown kind 'COLOR'"):
        app.declare_metadata_fields(dataset_id, [{"key": "tint", "kind": "COLOR"}], actor="alice")
    with pytest.raises(ValidationFailed, match="an ENUM field needs 1 to"):
        app.declare_metadata_fields(dataset_id, [{"key": "tint", "kind": "ENUM", "options": []}], actor="alice")
    with pytest.raises(ValidationFailed, match="only ENUM fields take options"):
        app.declare_metadata_fields(dataset_id, [{"key": "tint", "kind": "NUMBER", "options": ["a"]}], actor="alice")


def test_a_metadata_update_reaches_columns_already_read(stack: Stack, run: Any) -> None:
    stack.app.declare_metadata_fields(run.dataset_id, [{"key": "note", "kind": "STRING"}], actor="alice")
    stack.wait_until_current()
    rainy = {"all": [{"metadata": {"key": "weather", "equals": "rain"}}]}
    assert sorted(_keys(stack, run, rainy)) == ["d1", "d4"]
    by_note = [SortKey("METADATA", False, key="note"), SortKey("GLOBAL_KEY", False)]
    assert _keys(stack, run, None, by_note) == ["d0", "d1", "d2", "d3", "d4", "d5"]  # all absent
    updates = [
        {"dataRow": {"globalKey": "d0"}, "metadata": {"weather": "rain", "note": "a much longer note than any before"}},
        {"dataRow": {"globalKey": "d1"}, "metadata": {"weather": None}},
        {"dataRow": {"globalKey": "d5"}, "metadata": {"note": "b"}},
    ]
    stack.app.update_metadata(run.dataset_id, numbered(updates), actor="alice")
    stack.wait_until_current()
    assert sorted(_keys(stack, run, rainy)) == ["d0", "d4"]
    # Strings longer than any the column held before are kept whole.
    assert _keys(stack, run, {"all": [{"metadata": {"key": "note", "contains": "LONGER NOTE"}}]}) == ["d0"]
    assert _keys(stack, run, None, by_note)[:2] == ["d0", "d5"]
    index = stack.runtime.read_models.gallery.index(run.id)
    column = index.metadata_column(stack.runtime.read_models.gallery.view, "weather", "ENUM", "another stamp")
    by_key = dict(zip(index.global_keys.tolist(), column.tolist(), strict=True))
    assert by_key == {"d0": "rain", "d1": "", "d2": "fog", "d3": "sun", "d4": "rain", "d5": "fog"}


def test_metadata_that_lands_after_its_datasets_new_version_is_read(stack: Stack, run: Any) -> None:
    """The catalog takes a metadata update's new dataset version and the rows' new metadata
    as two events: a column read between the two is read again once the rows change."""
    rainy = {"all": [{"metadata": {"key": "weather", "equals": "rain"}}]}
    assert sorted(_keys(stack, run, rainy)) == ["d1", "d4"]
    with stack.runtime.database.connect() as conn:
        conn.execute("UPDATE catalog_datasets SET version = version + 1 WHERE id = %s", (run.dataset_id,))
        conn.commit()
        assert sorted(_keys(stack, run, rainy)) == ["d1", "d4"]  # read in between
        conn.execute(
            "UPDATE catalog_data_rows SET metadata = metadata || '{\"weather\": \"rain\"}',"
            " metadata_at = (SELECT max(metadata_at) + 1 FROM catalog_data_rows) WHERE global_key = 'd0'"
        )
        conn.commit()
    assert sorted(_keys(stack, run, rainy)) == ["d0", "d1", "d4"]
