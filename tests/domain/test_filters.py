"""The data row filter as JSON: every rule, its exact message, and the normal form."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.errors import ValidationFailed
from domain.filter_language import clauses_from_json
from domain.filters import AUTOMATIC_METRICS, MAX_CLAUSES, validate_filter
from domain.ontology import Ontology
from domain.splits import SPLITS

SLICE_A = "6f1c0e1e-8b7a-4d2c-9a51-0c3b2d4e5f60"
SLICE_B = "7a2d1f2f-9c8b-4e3d-8b62-1d4c3e5f6a71"
UNKNOWN_SLICE = "8b3e2a3a-0d9c-4f4e-9c73-2e5d4f6a7b82"
counter = itertools.count()
ONTOLOGY = Ontology.build(
    tools=[{"name": "car", "tool": "BBOX"}, {"name": "person", "tool": "POLYGON"}],
    classifications=[
        {"name": "weather", "kind": "RADIO", "answers": ["sunny", "rainy"]},
        {"name": "note", "kind": "TEXT"},
    ],
    id_factory=lambda: f"f{next(counter)}",
)
FEATURES = ["car", "person", "weather/sunny", "weather/rainy", "note"]


def check(filter_json: Any, known: Any = (SLICE_A, SLICE_B), own: str | None = None) -> dict[str, Any]:
    return validate_filter(filter_json, ONTOLOGY, known, own_slice_id=own)


def one(clause: dict[str, Any]) -> dict[str, Any]:
    return dict(check({"all": [clause]})["all"][0])


def message(filter_json: Any, **kwargs: Any) -> str:
    with pytest.raises(ValidationFailed) as caught:
        check(filter_json, **kwargs)
    return caught.value.message


def clause_message(*clauses: dict[str, Any], **kwargs: Any) -> str:
    return message({"all": list(clauses)}, **kwargs)


# -- the normal form -----------------------------------------------------------------------


def test_every_condition_gets_its_normal_form() -> None:
    given_filter = {
        "all": [
            {"annotation": {"features": ["car", "car", "weather/sunny"], "min": 1}},
            {"prediction": {"features": ["note"], "present": False}},
            {"metric": {"name": "F1", "feature": "car", "min": 0, "max": 1}},
            {"metric": {"name": "sharpness"}},
            {"confidence": {"max": 0.5}},
            {"metadata": {"key": "city", "in": ["Oslo", "Oslo", 3]}},
            {"split": ["training", "TEST", "TRAINING"]},
            {"dataRows": {"globalKeys": ["k1", "k2", "k1"]}},
            {"slice": SLICE_A.upper()},
            {"selection": {"ids": ["r1", "r2"]}},
            {"confusionCell": {"groundTruth": "car"}},
        ]
    }
    assert check(given_filter) == {
        "all": [
            {"annotation": {"features": ["car", "weather/sunny"], "present": True, "min": 1, "max": None}},
            {"prediction": {"features": ["note"], "present": False}},
            {"metric": {"name": "f1", "feature": "car", "min": 0.0, "max": 1.0, "maxExclusive": False}},
            {"metric": {"name": "sharpness", "feature": None, "min": None, "max": None, "maxExclusive": False}},
            {"confidence": {"feature": None, "min": None, "max": 0.5}},
            {"metadata": {"key": "city", "equals": None, "in": ["Oslo", 3], "contains": None, "min": None, "max": None}},
            {"split": ["TRAINING", "TEST"]},
            {"dataRows": {"ids": [], "globalKeys": ["k1", "k2"]}},
            {"slice": SLICE_A},
            {"selection": {"ids": ["r1", "r2"]}},
            {"confusionCell": {"groundTruth": "car", "prediction": None}},
        ]
    }


def test_an_empty_filter_selects_everything() -> None:
    assert check({}) == {"all": []}
    assert check({"all": None}) == {"all": []}
    assert check({"all": []}) == {"all": []}


def test_null_conditions_beside_the_one_set_are_unset_ones() -> None:
    assert check({"all": [{"annotation": None, "split": ["TEST"]}]}) == {"all": [{"split": ["TEST"]}]}


def test_known_slices_may_be_a_test_called_with_the_canonical_id() -> None:
    asked: list[str] = []

    def known(slice_id: str) -> bool:
        asked.append(slice_id)
        return slice_id == SLICE_B

    assert check({"all": [{"slice": SLICE_B.upper()}]}, known=known) == {"all": [{"slice": SLICE_B}]}
    assert asked == [SLICE_B]


# -- the filter and its clauses ------------------------------------------------------------


@pytest.mark.parametrize(
    ("filter_json", "expected"),
    [
        (None, 'filter must be a JSON object {"all": [clauses]}, got null'),
        ([1], 'filter must be a JSON object {"all": [clauses]}, got [1]'),
        ({"any": []}, "filter has unknown field 'any'; expected only 'all'"),
        ({"all": {"split": ["TEST"]}}, "filter field 'all' must be a list of clauses, got {\"split\": [\"TEST\"]}"),
        ({"all": [{"split": ["TEST"]}] * (MAX_CLAUSES + 1)}, f"filter has {MAX_CLAUSES + 1} clauses; at most 100 are allowed"),
    ],
)
def test_the_filter_itself(filter_json: Any, expected: str) -> None:
    assert message(filter_json) == expected


CONDITIONS = "annotation, prediction, metric, confidence, metadata, split, dataRows, slice, autoSlice, selection, confusionCell, evaluated"


@pytest.mark.parametrize(
    ("clause", "expected"),
    [
        ("split", f"clause 2 must be an object with one of {CONDITIONS}; got 'split'"),
        ({}, f"clause 2 must set exactly one condition of {CONDITIONS}; it sets none"),
        (
            {"split": ["TEST"], "slice": SLICE_A},
            f"clause 2 must set exactly one condition of {CONDITIONS}; it sets 'split' and 'slice'",
        ),
        ({"label": {}}, f"clause 2: unknown condition 'label'; expected one of {CONDITIONS}"),
    ],
)
def test_a_clause_sets_exactly_one_known_condition(clause: Any, expected: str) -> None:
    assert clause_message({"split": ["TEST"]}, clause) == expected


# -- each condition ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("clause", "expected"),
    [
        ({"annotation": {"features": ["dog"]}}, "clause 1 (annotation): unknown feature 'dog'"),
        (
            {"annotation": {"features": ["weather"]}},
            "clause 1 (annotation): 'weather' is a question, not a feature; name its answers, e.g. 'weather/sunny'",
        ),
        ({"annotation": {"features": []}}, "clause 1 (annotation): features must be a non-empty list of feature names, got []"),
        ({"annotation": {"features": "car"}}, "clause 1 (annotation): features must be a non-empty list of feature names, got 'car'"),
        ({"annotation": {"features": [3]}}, "clause 1 (annotation): features must name features by non-empty strings, got 3"),
        ({"annotation": {"present": True}}, "clause 1 (annotation): features is required"),
        ({"annotation": ["car"]}, 'clause 1 (annotation): expected an object with features, present, min, max, got ["car"]'),
        (
            {"annotation": {"features": ["car"], "feature": "car"}},
            "clause 1 (annotation): unknown field 'feature'; expected features, present, min, max",
        ),
        ({"annotation": {"features": ["car"], "present": "yes"}}, "clause 1 (annotation): present must be true or false, got 'yes'"),
        ({"annotation": {"features": ["car"], "min": -1}}, "clause 1 (annotation): min must be a whole number of at least 0, got -1"),
        ({"annotation": {"features": ["car"], "max": 1.5}}, "clause 1 (annotation): max must be a whole number of at least 0, got 1.5"),
        ({"annotation": {"features": ["car"], "min": True}}, "clause 1 (annotation): min must be a whole number of at least 0, got true"),
        ({"annotation": {"features": ["car"], "min": 3, "max": 2}}, "clause 1 (annotation): min 3 is greater than max 2"),
        (
            {"annotation": {"features": ["car"], "present": False, "min": 2}},
            "clause 1 (annotation): min and max count annotations, so they need present to be true",
        ),
        ({"prediction": {"features": ["car", "truck"]}}, "clause 1 (prediction): unknown feature 'truck'"),
        ({"prediction": {"features": ["car"], "min": 1}}, "clause 1 (prediction): unknown field 'min'; expected features, present"),
        ({"metric": {"name": ""}}, "clause 1 (metric): name must be a metric name, got ''"),
        ({"metric": {"feature": "car"}}, "clause 1 (metric): name is required"),
        ({"metric": {"name": "f1", "min": 0.8, "max": 0.2}}, "clause 1 (metric): min 0.8 is greater than max 0.2"),
        ({"metric": {"name": "f1", "feature": "dog"}}, "clause 1 (metric): unknown feature 'dog'"),
        ({"metric": {"name": "iou", "min": "0.5"}}, "clause 1 (metric): min must be a finite number, got '0.5'"),
        ({"metric": {"name": "iou", "max": float("nan")}}, "clause 1 (metric): max must be a finite number, got NaN"),
        ({"confidence": {"min": 1.5}}, "clause 1 (confidence): min 1.5 is outside [0, 1]"),
        ({"confidence": {"min": 0.9, "max": 0.1}}, "clause 1 (confidence): min 0.9 is greater than max 0.1"),
        ({"confidence": {"feature": "bus"}}, "clause 1 (confidence): unknown feature 'bus'"),
        ({"split": ["TRAIN"]}, "clause 1 (split): unknown split 'TRAIN'; expected one of TRAINING, VALIDATION, TEST, UNASSIGNED"),
        ({"split": [1]}, "clause 1 (split): unknown split 1; expected one of TRAINING, VALIDATION, TEST, UNASSIGNED"),
        ({"split": []}, "clause 1 (split): expected a non-empty list of splits (TRAINING, VALIDATION, TEST, UNASSIGNED), got []"),
        ({"split": "TEST"}, "clause 1 (split): expected a non-empty list of splits (TRAINING, VALIDATION, TEST, UNASSIGNED), got 'TEST'"),
        ({"dataRows": {}}, "clause 1 (dataRows): name at least one data row id or global key"),
        ({"dataRows": {"ids": [], "globalKeys": []}}, "clause 1 (dataRows): name at least one data row id or global key"),
        ({"dataRows": {"ids": ["a", ""]}}, 'clause 1 (dataRows): ids must be a list of non-empty strings, got ["a", ""]'),
        ({"dataRows": {"keys": ["a"]}}, "clause 1 (dataRows): unknown field 'keys'; expected ids, globalKeys"),
        ({"slice": UNKNOWN_SLICE}, f"clause 1 (slice): unknown slice '{UNKNOWN_SLICE}'"),
        ({"slice": "hard cases"}, "clause 1 (slice): unknown slice 'hard cases'"),
        ({"slice": 7}, "clause 1 (slice): unknown slice 7"),
        ({"selection": {"ids": []}}, "clause 1 (selection): ids must not be empty"),
        ({"selection": {}}, "clause 1 (selection): ids is required"),
        ({"confusionCell": {}}, "clause 1 (confusionCell): name groundTruth, prediction or both (null is the None label)"),
        ({"confusionCell": {"prediction": "cat"}}, "clause 1 (confusionCell): unknown feature 'cat'"),
    ],
)
def test_each_rule_names_the_clause(clause: dict[str, Any], expected: str) -> None:
    assert clause_message(clause) == expected


def test_the_position_counts_from_one_and_names_the_first_bad_clause() -> None:
    assert clause_message(
        {"split": ["TEST"]}, {"split": ["VALIDATION"]}, {"split": ["TRAIN"]}, {"annotation": {"features": ["dog"]}}
    ) == "clause 3 (split): unknown split 'TRAIN'; expected one of TRAINING, VALIDATION, TEST, UNASSIGNED"
    assert clause_message({"split": ["TEST"]}, {"annotation": {"features": ["dog"]}}) == (
        "clause 2 (annotation): unknown feature 'dog'"
    )


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"equals": "Oslo"}, None),
        ({"equals": 3}, None),
        ({"equals": True}, None),
        ({"in": ["a", 1]}, None),
        ({"contains": "os"}, None),
        ({"min": 1}, None),
        ({"max": "2024-01-01T00:00:00Z"}, None),
        ({"min": 1, "max": 2.5}, None),
        ({"min": "2024-01-01T02:00:00+02:00", "max": "2024-01-01T00:30:00Z"}, None),
        ({}, "set exactly one of equals, in, contains, or min and/or max; got none"),
        ({"equals": "a", "in": ["a"]}, "set exactly one of equals, in, contains, or min and/or max; got equals and in"),
        ({"contains": "a", "max": 3}, "set exactly one of equals, in, contains, or min and/or max; got contains and min/max"),
        ({"equals": {"a": 1}}, 'equals must be a string, a number or a boolean, got {"a": 1}'),
        ({"in": []}, "in must be a non-empty list of values, got []"),
        ({"in": "a"}, "in must be a non-empty list of values, got 'a'"),
        ({"in": ["a", [1]]}, "a value of in must be a string, a number or a boolean, got [1]"),
        ({"contains": ""}, "contains must be a non-empty string, got ''"),
        ({"contains": 3}, "contains must be a non-empty string, got 3"),
        ({"min": True}, "min must be a number or a string (e.g. an ISO 8601 datetime), got true"),
        ({"max": [1]}, "max must be a number or a string (e.g. an ISO 8601 datetime), got [1]"),
        ({"min": 5, "max": 2}, "min 5 is greater than max 2"),
        ({"min": "b", "max": "a"}, "min 'b' is greater than max 'a'"),
        ({"min": 1, "max": "z"}, "min 1 and max 'z' must both be numbers or both strings"),
        (
            {"min": "2024-01-01T01:00:00Z", "max": "2024-01-01T02:30:00+02:00"},
            "min '2024-01-01T01:00:00Z' is later than max '2024-01-01T02:30:00+02:00'",
        ),
    ],
)
def test_metadata_takes_exactly_one_test(body: dict[str, Any], expected: str | None) -> None:
    clause = {"metadata": {"key": "city", **body}}
    if expected is None:
        normal = one(clause)["metadata"]
        assert normal["key"] == "city"
        assert {k: v for k, v in normal.items() if v is not None and k != "key"} == body
    else:
        assert clause_message(clause) == f"clause 1 (metadata): {expected}"


def test_metadata_needs_a_key() -> None:
    assert clause_message({"metadata": {"equals": 1}}) == "clause 1 (metadata): key is required"
    assert clause_message({"metadata": {"key": " ", "equals": 1}}) == "clause 1 (metadata): key must be a metadata key, got ' '"


def test_metric_names_are_automatic_or_custom() -> None:
    for name in AUTOMATIC_METRICS:
        assert one({"metric": {"name": name.upper()}})["metric"]["name"] == name
    assert one({"metric": {"name": "Blur score", "feature": "weather/rainy"}})["metric"] == {
        "name": "Blur score", "feature": "weather/rainy", "min": None, "max": None, "maxExclusive": False,
    }


def test_a_slice_cannot_include_itself() -> None:
    assert clause_message({"split": ["TEST"]}, {"slice": SLICE_A}, own=SLICE_A) == (
        "clause 2 (slice): a slice cannot include itself"
    )
    assert clause_message({"slice": SLICE_A.upper()}, own=SLICE_A) == "clause 1 (slice): a slice cannot include itself"


# -- properties ------------------------------------------------------------------------------

finite = st.floats(allow_nan=False, allow_infinity=False, width=32)
features = st.lists(st.sampled_from(FEATURES), min_size=1, max_size=3)
optional_feature = st.none() | st.sampled_from(FEATURES)
scalar = st.text(max_size=5) | st.integers(-5, 5) | finite | st.booleans()


def _ordered(pair: tuple[Any, Any]) -> tuple[Any, Any]:
    low, high = pair
    if low is not None and high is not None and low > high:
        return high, low
    return low, high


def _range(values: st.SearchStrategy[Any]) -> st.SearchStrategy[tuple[Any, Any]]:
    return st.tuples(st.none() | values, st.none() | values).map(_ordered)


valid_clause = st.one_of(
    st.builds(
        lambda f, r: {"annotation": {"features": f, "min": r[0], "max": r[1]}},
        features,
        _range(st.integers(0, 9)),
    ),
    st.builds(lambda f, p: {"prediction": {"features": f, "present": p}}, features, st.booleans()),
    st.builds(
        lambda n, f, r: {"metric": {"name": n, "feature": f, "min": r[0], "max": r[1]}},
        st.sampled_from([*AUTOMATIC_METRICS, "IoU", "blur"]),
        optional_feature,
        _range(finite),
    ),
    st.builds(
        lambda f, r: {"confidence": {"feature": f, "min": r[0], "max": r[1]}},
        optional_feature,
        _range(st.floats(0, 1)),
    ),
    st.builds(lambda v: {"metadata": {"key": "k", "equals": v}}, scalar),
    st.builds(lambda v: {"metadata": {"key": "k", "in": v}}, st.lists(scalar, min_size=1, max_size=3)),
    st.builds(
        lambda r: {"metadata": {"key": "k", "min": r[0], "max": r[1]}},
        _range(st.integers(-9, 9)).filter(lambda r: r != (None, None)),
    ),
    st.builds(
        lambda s: {"split": s},
        st.lists(st.sampled_from([*SPLITS, "training", "Test"]), min_size=1, max_size=4),
    ),
    st.builds(lambda i: {"dataRows": {"ids": i, "globalKeys": ["k"]}}, st.lists(st.text(min_size=1), max_size=3)),
    st.sampled_from([{"slice": SLICE_A}, {"slice": SLICE_B.upper()}]),
    st.builds(lambda i: {"selection": {"ids": i}}, st.lists(st.text(min_size=1), min_size=1, max_size=3)),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(valid_clause, max_size=6))
def test_the_normal_form_is_a_fixed_point(clauses: list[dict[str, Any]]) -> None:
    normal = check({"all": clauses})
    assert len(normal["all"]) == len(clauses)
    assert check(normal) == normal
    for given_clause, normal_clause in zip(clauses, normal["all"], strict=True):
        assert set(normal_clause) == set(given_clause)


broken = st.sampled_from(
    [
        ({"annotation": {"features": ["dog"]}}, "annotation"),
        ({"prediction": {"features": []}}, "prediction"),
        ({"metric": {"name": "f1", "min": 2, "max": 1}}, "metric"),
        ({"confidence": {"max": -0.5}}, "confidence"),
        ({"metadata": {"key": "k"}}, "metadata"),
        ({"split": ["TRAIN"]}, "split"),
        ({"dataRows": {}}, "dataRows"),
        ({"slice": UNKNOWN_SLICE}, "slice"),
        ({"selection": {"ids": [1]}}, "selection"),
    ]
)


@settings(max_examples=200, deadline=None)
@given(st.lists(valid_clause, max_size=5), broken, st.lists(valid_clause, max_size=3))
def test_the_first_bad_clause_is_named_by_position_and_kind(
    before: list[dict[str, Any]], bad: tuple[dict[str, Any], str], after: list[dict[str, Any]]
) -> None:
    clause, kind = bad
    assert clause_message(*before, clause, *after).startswith(f"clause {len(before) + 1} ({kind}): ")


def test_the_normal_form_reads_as_the_filter_language() -> None:
    normal = check(
        {
            "all": [
                {"annotation": {"features": ["car"], "min": 1}},
                {"metadata": {"key": "city", "contains": "os"}},
                {"dataRows": {"ids": ["r1"]}},
                {"slice": SLICE_A},
                {"confusionCell": {"prediction": "car"}},
            ]
        }
    )
    assert len(clauses_from_json(normal)) == 5


def test_a_half_open_metric_range_and_the_evaluated_clause() -> None:
    half_open = {"metric": {"name": "f1", "min": 0.2, "max": 0.3, "maxExclusive": True}}
    assert one(half_open)["metric"]["maxExclusive"] is True
    assert clause_message({"split": ["TEST"]}, {"metric": {"name": "f1", "maxExclusive": True}}) == (
        "clause 2 (metric): maxExclusive needs max"
    )
    assert one({"evaluated": True}) == {"evaluated": True}
    assert clause_message({"split": ["TEST"]}, {"evaluated": "yes"}) == (
        "clause 2 (evaluated): evaluated must be true or false, got 'yes'"
    )
