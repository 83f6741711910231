"""The gallery over a small run: every filter clause, sorts, keyset pages, automatic slices.

The run (tests.projections.builders.scenario, 8 rows): every row k<i> has a "car" box
label at top=i and metadata {"index": i, "city": "Lyon"}; even rows also a "weather/sunny"
answer. k0..k3 are TRAINING, k4..k7 TEST. Predictions: a "car" box on the label for rows
0, 1, 2, 4 (confidence 0.8), far off for 3, 5, 6, 7 (confidence 0.6 + i/100); row 3 also has
a "person" box exactly on its car label (confidence 0.95, a candidate mislabel), row 5 a
"person" box far off at confidence 0.3.
"""

from __future__ import annotations

from typing import Any

import pytest

from domain.errors import NotFound, ValidationFailed
from domain.filter_language import clauses_from_json
from projections.gallery.sorting import SortKey
from tests.projections.builders import box, predict, scenario
from tests.workers.stack import Stack

GOOD = {0, 1, 2, 4}


def _lines(keys: list[str]) -> list[dict[str, Any]]:
    lines = []
    for i, key in enumerate(keys):
        if i in GOOD:
            lines.append({"dataRow": {"globalKey": key}, "name": "car", "bbox": box(top=i), "confidence": 0.8})
        else:
            lines.append({"dataRow": {"globalKey": key}, "name": "car", "bbox": box(top=i + 200), "confidence": 0.6 + i / 100})
    lines.append({"dataRow": {"globalKey": "k3"}, "name": "person", "bbox": box(top=3), "confidence": 0.95})
    lines.append({"dataRow": {"globalKey": "k5"}, "name": "person", "bbox": box(top=300), "confidence": 0.3})
    return lines


@pytest.fixture
def run(stack: Stack) -> Any:
    s = scenario(stack.runtime, rows=8)
    stack.start_work()
    predict(stack.runtime, s.run_id, _lines(s.keys))
    stack.wait_for_status(s.run_id, "IN_SYNC")
    return s


def _keys(stack: Stack, run: Any, filter_json: Any, sort: list[SortKey] | None = None, grid: Any = (0.5, 0.5)) -> list[str]:
    page = stack.runtime.read_models.gallery.data_rows(run.run_id, clauses_from_json(filter_json), sort or [], grid, 100)
    assert page.total_count == len(page.items)
    return [r.global_key for r in page.items]


def _rows(*indexes: int) -> list[str]:
    return [f"k{i}" for i in indexes]


def test_each_clause_selects_its_rows(stack: Stack, run: Any) -> None:
    def keys(*clauses: dict[str, Any]) -> list[str]:
        return sorted(_keys(stack, run, {"all": list(clauses)}))

    assert keys() == _rows(*range(8))
    assert keys({"annotation": {"features": ["weather/sunny"]}}) == _rows(0, 2, 4, 6)
    assert keys({"annotation": {"features": ["weather/sunny"], "present": False}}) == _rows(1, 3, 5, 7)
    assert keys({"annotation": {"features": ["car", "weather/sunny"], "min": 2}}) == _rows(0, 2, 4, 6)
    assert keys({"annotation": {"features": ["car"], "max": 0, "min": 0}}) == []
    assert keys({"prediction": {"features": ["person"]}}) == _rows(3, 5)
    assert keys({"prediction": {"features": ["road"], "present": False}}) == _rows(*range(8))
    assert keys({"confidence": {"min": 0.9}}) == _rows(3)
    assert keys({"confidence": {"feature": "car", "min": 0.62, "max": 0.665}}) == _rows(3, 5, 6)
    assert keys({"metadata": {"key": "index", "min": 2, "max": 4}}) == _rows(2, 3, 4)
    assert keys({"metadata": {"key": "index", "in": [1, 7]}}) == _rows(1, 7)
    assert keys({"metadata": {"key": "city", "equals": "Lyon"}}) == _rows(*range(8))
    assert keys({"metadata": {"key": "city", "contains": "yo"}}) == _rows(*range(8))
    assert keys({"metadata": {"key": "city", "equals": "Paris"}}) == []
    assert keys({"split": ["TEST"]}) == _rows(4, 5, 6, 7)
    assert keys({"dataRows": {"globalKeys": ["k1", "k6", "nope"]}}) == _rows(1, 6)
    assert keys({"metric": {"name": "precision", "feature": "car", "min": 1}}) == _rows(0, 1, 2, 4)
    assert keys({"metric": {"name": "fn", "min": 1}}, {"split": ["TRAINING"]}) == _rows(0, 2, 3)
    assert keys({"autoSlice": "Candidate mislabels"}) == _rows(3)
    chosen = {"all": [{"dataRows": {"globalKeys": ["k4", "k5"]}}]}
    ids = stack.runtime.read_models.gallery.selected_ids(run.run_id, clauses_from_json(chosen))
    assert keys({"selection": {"ids": ids}}) == _rows(4, 5)


def test_rows_carry_what_is_needed_to_draw_them(stack: Stack, run: Any) -> None:
    page = stack.runtime.read_models.gallery.data_rows(run.run_id, clauses_from_json({"all": [{"dataRows": {"globalKeys": ["k3"]}}]}))
    (row,) = page.items
    assert (row.row_data, row.media_type, row.metadata, row.split) == ("https://assets/k3.jpg", "IMAGE", {"index": 3, "city": "Lyon"}, "TRAINING")
    assert [p["name"] for p in row.predictions] == ["car", "person"]
    assert [label["name"] for label in row.labels] == ["car"]


def test_sorts_put_nulls_last_and_break_ties_by_id(stack: Stack, run: Any) -> None:
    by_index = _keys(stack, run, None, [SortKey("METADATA", descending=True, key="index")])
    assert by_index == _rows(7, 6, 5, 4, 3, 2, 1, 0)
    highest = _keys(stack, run, None, [SortKey("CONFIDENCE_MAX", descending=True)])
    # k3's person at 0.95 first, then the 0.8 cars (tied: by id), then 0.67, 0.66, 0.65.
    assert highest[0] == "k3" and set(highest[1:5]) == set(_rows(0, 1, 2, 4)) and highest[5:] == _rows(7, 6, 5)
    ids = {r.global_key: r.id for r in stack.runtime.read_models.gallery.data_rows(run.run_id, []).items}
    assert highest[1:5] == sorted(highest[1:5], key=lambda k: ids[k])
    person = _keys(stack, run, None, [SortKey("CONFIDENCE_MIN", feature="person")])
    assert person[:2] == _rows(5, 3)  # rows without a person prediction (null) come last
    worst = _keys(stack, run, None, [SortKey("METRIC", metric="f1", feature="car")])
    assert set(worst[:4]) == set(_rows(3, 5, 6, 7)) and set(worst[4:]) == set(_rows(0, 1, 2, 4))
    keys = _keys(stack, run, None, [SortKey("GLOBAL_KEY", descending=True)])
    assert keys == sorted(keys, reverse=True)


def test_keyset_pages_cover_every_row_once_in_order(stack: Stack, run: Any) -> None:
    gallery = stack.runtime.read_models.gallery
    sort = [SortKey("CONFIDENCE_MAX", descending=True), SortKey("METADATA", key="city")]
    whole = [r.global_key for r in gallery.data_rows(run.run_id, [], sort, None, 100).items]
    seen: list[str] = []
    after = None
    while True:
        page = gallery.data_rows(run.run_id, [], sort, None, 3, after)
        assert page.total_count == 8
        seen += [r.global_key for r in page.items]
        if not page.has_next_page:
            break
        after = page.end_cursor
    assert seen == whole
    with pytest.raises(ValidationFailed, match="invalid cursor"):
        gallery.data_rows(run.run_id, [], sort, None, 3, "not-a-cursor")


def test_a_page_goes_on_after_its_cursor_row_is_removed(stack: Stack, run: Any) -> None:
    gallery = stack.runtime.read_models.gallery
    first = gallery.data_rows(run.run_id, [], [], None, 3)
    assert [r.id for r in first.items] == sorted(r.id for r in first.items)
    last = first.items[-1]
    stack.app.remove_run_rows(run.run_id, [last.global_key], actor="erin")
    stack.wait_until_current()
    rest = gallery.data_rows(run.run_id, [], [], None, 100, first.end_cursor)
    listed = [r.id for r in first.items[:-1]] + [r.id for r in rest.items]
    assert len(listed) == 7 and last.id not in listed and rest.total_count == 7


def test_automatic_slices_follow_metrics_md(stack: Stack, run: Any) -> None:
    counts = {s.name: s.count for s in stack.runtime.read_models.gallery.auto_slices(run.run_id, 0.5, 0.5)}
    assert counts == {
        "True positive": 4,
        "False positive": 4,  # 3, 5, 6, 7: far-off cars (and 3's person, paired with its car)
        "False negative": 7,  # cars of 3, 5, 6, 7 and sunny answers of 0, 2, 4, 6
        "True negative": 0,
        "Low precision": 4,
        "Low recall": 7,  # car on 3, 5, 6, 7; sunny on 0, 2, 4, 6
        "Low F1": 7,
        "Low confidence": 0,
        "Candidate mislabels": 1,
    }
    low = {s.name: s.count for s in stack.runtime.read_models.gallery.auto_slices(run.run_id, 0.2, 0.5)}
    assert low["Low confidence"] == 1  # k5's person at 0.3 is active at 0.2


def test_bad_filters_name_the_clause(stack: Stack, run: Any) -> None:
    cases = [
        ({"all": [{"split": ["TEST"]}, {"annotation": {"features": ["dog"]}}]}, "clause 2 (annotation): unknown feature"),
        ({"all": [{"metadata": {"key": "colour", "equals": "red"}}]}, "clause 1 (metadata): unknown metadata key 'colour'"),
        ({"all": [{"metric": {"name": "f1", "min": 0.8, "max": 0.2}}]}, "clause 1 (metric): min 0.8 is greater than max 0.2"),
        ({"all": [{"metadata": {"key": "city", "min": 1}}]}, "clause 1 (metadata): a range needs a number or datetime"),
        ({"all": [{"metric": {"name": "sharpness", "min": 0.5}}]}, "metric 'sharpness' is neither"),
        ({"all": [{"slice": "00000000-0000-0000-0000-000000000000"}]}, "clause 1 (slice): unknown slice"),
        ({"all": [{"split": ["TRAIN"]}]}, "clause 1 (split): unknown split 'TRAIN'"),
    ]
    for filter_json, message in cases:
        with pytest.raises(ValidationFailed, match=message.replace("(", r"\(").replace(")", r"\)")):
            _keys(stack, run, filter_json)


def test_metrics_queries_take_gallery_clauses(stack: Stack, run: Any) -> None:
    q = stack.runtime.read_models.metrics
    training = q.metrics(run.run_id, 0.5, 0.5, clauses_from_json({"all": [{"metadata": {"key": "index", "max": 3}}]}))
    car = next(f for f in training.features if f.feature == "car")
    assert training.data_rows == 4 and car.tp == 3
    mislabels = q.metrics(run.run_id, 0.5, 0.5, clauses_from_json({"all": [{"autoSlice": "Candidate mislabels"}]}))
    assert mislabels.data_rows == 1


def test_a_row_in_detail(stack: Stack, run: Any) -> None:
    gallery = stack.runtime.read_models.gallery
    ids = {r.global_key: r.id for r in gallery.data_rows(run.run_id, []).items}
    detail = gallery.row_detail(run.run_id, ids["k3"], 0.5, 0.5)
    assert detail.row.global_key == "k3"
    # k3's car label is taken by the person box on it (cross-feature); its car box is far off.
    assert [(o.feature, o.outcome, o.partner_feature) for o in detail.outcomes.annotations] == [("car", "FN", "person")]
    assert [(o.feature, o.outcome) for o in detail.outcomes.predictions] == [("car", "FP"), ("person", "FP")]
    with pytest.raises(ValidationFailed, match="confidence 0.55"):
        gallery.row_detail(run.run_id, ids["k3"], 0.55, 0.5)
    with pytest.raises(NotFound, match="is not in model run"):
        gallery.row_detail(run.run_id, "00000000-0000-0000-0000-000000000000", 0.5, 0.5)


def test_a_run_of_a_deleted_model_still_filters_and_sorts_by_its_features(stack: Stack, run: Any) -> None:
    """Deleting a model leaves its runs; their features are the model's as it was."""
    stack.runtime.app.delete_model(run.model_id, actor="carol")
    stack.wait_until_current()
    assert stack.runtime.read_models.catalog.model(run.model_id) is None
    assert sorted(_keys(stack, run, {"all": [{"prediction": {"features": ["person"]}}]})) == _rows(3, 5)
    by_confidence = [SortKey(field="CONFIDENCE_MAX", descending=True, feature="person")]
    assert _keys(stack, run, None, by_confidence)[:2] == _rows(3, 5)
