"""A model's ontology: validation, names by path, stable ids, extension, stored form."""

from __future__ import annotations

import copy
import itertools
import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.errors import ValidationFailed
from domain.ontology import Ontology
from domain.ontology_features import (
    ANSWER,
    TEXT,
    ClassificationKind,
    Feature,
    Question,
    Tool,
    question_pool,
)


def ids(prefix: str = "id") -> Callable[[], str]:
    counter = itertools.count()
    return lambda: f"{prefix}{next(counter)}"


def feature_of(ontology: Ontology, name: str) -> Feature:
    found = ontology.feature_named(name)
    assert found is not None, name
    return found


def question_of(ontology: Ontology, name: str) -> Question:
    found = ontology.question_named(name)
    assert found is not None, name
    return found


TOOLS: list[dict[str, Any]] = [
    {
        "name": "car",
        "tool": "BBOX",
        "classifications": [
            {"name": "color", "kind": "RADIO", "answers": ["red", "blue"]},
            {"name": "note", "kind": "TEXT"},
        ],
    },
    {"name": "roof", "tool": "POLYGON"},
    {"name": "seg", "tool": "MASK"},
    {"name": "eye", "tool": "POINT"},
    {"name": "road", "tool": "POLYLINE"},
    {"name": "person", "tool": "NER"},
]
CLASSIFICATIONS: list[dict[str, Any]] = [
    {
        "name": "weather",
        "kind": "CHECKLIST",
        "answers": [
            "rain",
            {
                "name": "sunny",
                "classifications": [{"name": "intensity", "kind": "RADIO", "answers": ["high"]}],
            },
        ],
    },
    {"name": "caption", "kind": "TEXT"},
]


def sample() -> Ontology:
    return Ontology.build(TOOLS, CLASSIFICATIONS, id_factory=ids())


def test_features_are_named_by_path_with_their_kind_and_pool() -> None:
    ontology = sample()
    assert [(f.name, f.kind, f.pool, f.question) for f in ontology.features] == [
        ("car", Tool.BBOX, "box", None),
        ("car/color/red", ANSWER, question_pool("car/color"), "car/color"),
        ("car/color/blue", ANSWER, question_pool("car/color"), "car/color"),
        ("car/note", TEXT, question_pool("car/note"), "car/note"),
        ("roof", Tool.POLYGON, "polygon", None),
        ("seg", Tool.MASK, "mask", None),
        ("eye", Tool.POINT, "point", None),
        ("road", Tool.POLYLINE, "polyline", None),
        ("person", Tool.NER, "span", None),
        ("weather/rain", ANSWER, question_pool("weather"), "weather"),
        ("weather/sunny", ANSWER, question_pool("weather"), "weather"),
        (
            "weather/sunny/intensity/high",
            ANSWER,
            question_pool("weather/sunny/intensity"),
            "weather/sunny/intensity",
        ),
        ("caption", TEXT, question_pool("caption"), "caption"),
    ]
    assert [f.tool for f in ontology.features[:2]] == [Tool.BBOX, None]


def test_questions_know_their_parent_and_answers() -> None:
    ontology = sample()
    assert [(q.name, q.kind, q.parent, q.answers) for q in ontology.questions] == [
        ("car/color", ClassificationKind.RADIO, "car", ("car/color/red", "car/color/blue")),
        ("car/note", ClassificationKind.TEXT, "car", ()),
        ("weather", ClassificationKind.CHECKLIST, None, ("weather/rain", "weather/sunny")),
        (
            "weather/sunny/intensity",
            ClassificationKind.RADIO,
            "weather/sunny",
            ("weather/sunny/intensity/high",),
        ),
        ("caption", ClassificationKind.TEXT, None, ()),
    ]


def test_a_question_pool_never_meets_a_tool_pool() -> None:
    ontology = Ontology.build(
        [{"name": "m", "tool": "MASK"}],
        [{"name": "mask", "kind": "RADIO", "answers": ["yes"]}],
        id_factory=ids(),
    )
    assert feature_of(ontology, "m").pool != feature_of(ontology, "mask/yes").pool


def test_ids_come_from_the_factory_in_definition_order() -> None:
    ontology = sample()
    assert ontology.feature_named("car") == Feature("id0", "car", Tool.BBOX, "box")
    assert ontology.question_named("car/color") == Question(
        "id1", "car/color", ClassificationKind.RADIO, "car", ("car/color/red", "car/color/blue")
    )
    assert sample() == ontology  # the same factory sequence gives the same ontology
    assert Ontology.build(TOOLS, CLASSIFICATIONS, id_factory=ids("x")) != ontology


def test_a_text_question_is_a_feature_with_the_same_id() -> None:
    ontology = sample()
    note = ontology.question_named("car/note")
    assert note is not None
    assert feature_of(ontology, "car/note").id == note.id


def test_lookups_by_name_and_id() -> None:
    ontology = sample()
    for feature in ontology.features:
        assert ontology.feature_named(feature.name) is feature
        assert ontology.feature_with_id(feature.id) is feature
        assert ontology.names_by_id[feature.id] == feature.name
    for question in ontology.questions:
        assert ontology.question_with_id(question.id) is question
        assert ontology.names_by_id[question.id] == question.name
    assert ontology.feature_named("bus") is None
    assert ontology.feature_with_id("nope") is None
    assert ontology.question_named("car") is None
    assert len(ontology) == 13


def test_an_ontology_is_immutable_so_copies_are_itself() -> None:
    ontology = sample()
    assert copy.deepcopy(ontology) is ontology
    assert copy.copy(ontology) is ontology


def test_tool_and_kind_names_are_case_insensitive() -> None:
    ontology = Ontology.build(
        [{"name": "a", "tool": "bbox"}],
        [{"name": "q", "kind": "Radio", "answers": ["x"]}],
        id_factory=ids(),
    )
    assert feature_of(ontology, "a").kind is Tool.BBOX
    assert question_of(ontology, "q").kind is ClassificationKind.RADIO


def test_ten_thousand_features_build_and_look_up() -> None:
    tools = [{"name": f"class-{i:05d}", "tool": "BBOX"} for i in range(5_000)]
    answers = [f"answer-{i:05d}" for i in range(5_000)]
    ontology = Ontology.build(
        tools, [{"name": "q", "kind": "CHECKLIST", "answers": answers}], id_factory=ids()
    )
    assert len(ontology) == 10_000
    for index in range(5_000):
        feature = ontology.feature_named(f"class-{index:05d}")
        assert feature is not None and ontology.feature_with_id(feature.id) is feature
        answer = ontology.feature_named(f"q/answer-{index:05d}")
        assert answer is not None and answer.question == "q"
    assert len(question_of(ontology, "q").answers) == 5_000
    assert len({f.id for f in ontology.features}) == 10_000


# --- rejected ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tools", "classifications", "message"),
    [
        ([{"tool": "BBOX"}], [], "tool 1 needs a non-empty name, got None"),
        ([{"name": "  ", "tool": "BBOX"}], [], "tool 1 needs a non-empty name, got '  '"),
        ([{"name": 5, "tool": "BBOX"}], [], "tool 1 needs a non-empty name, got 5"),
        (["car"], [], "tool 1 must be an object with a name, got 'car'"),
        (
            [{"name": "a\nb", "tool": "BBOX"}],
            [],
            "tool 1 has a control character in its name 'a\\nb'",
        ),
        (
            [{"name": "car", "tool": "BOX"}],
            [],
            "tool 'car' has an unknown tool 'BOX'; expected one of BBOX",
        ),
        ([{"name": "car"}], [], "tool 'car' has an unknown tool None"),
        (
            [{"name": "car", "tool": "BBOX"}, {"name": "car", "tool": "BBOX"}],
            [],
            "tool 'car' is listed twice",
        ),
        (
            [],
            [{"name": "q", "kind": "SLIDER", "answers": ["a"]}],
            "classification 'q' has an unknown kind 'SLIDER'",
        ),
        (
            [],
            [{"name": "q", "kind": "RADIO", "answers": []}],
            "classification 'q' is a RADIO question and needs at least one answer",
        ),
        (
            [],
            [{"name": "q", "kind": "CHECKLIST"}],
            "classification 'q' is a CHECKLIST question and needs at least one answer",
        ),
        (
            [],
            [{"name": "q", "kind": "TEXT", "answers": ["a"]}],
            "classification 'q' is a TEXT question and takes no answers",
        ),
        (
            [],
            [{"name": "q", "kind": "RADIO", "answers": ["a", "a"]}],
            "answer 'a' of classification 'q' is listed twice",
        ),
        (
            [],
            [{"name": "q", "kind": "RADIO", "answers": [""]}],
            "answer 1 of classification 'q' needs a non-empty name",
        ),
        (
            [],
            [{"name": "q", "kind": "RADIO", "answers": [3]}],
            "answer 1 of classification 'q' must be an object with a name, got 3",
        ),
        (
            [],
            [{"name": "q", "kind": "RADIO", "answers": "a"}],
            "answers of classification 'q' must be a list, got str",
        ),
        ("car", [], "tools must be a list, got str"),
        (
            [],
            [{"name": "q", "kind": "RADIO", "answers": ["a"]}, {"name": "q", "kind": "TEXT"}],
            "classification 'q' is listed twice",
        ),
        (
            [{"name": "q", "tool": "BBOX"}],
            [{"name": "q", "kind": "TEXT"}],
            "classification 'q': the name 'q' is already used by tool 'q'",
        ),
        (
            [{"name": "car", "tool": "BBOX", "classifications": [{"kind": "TEXT"}]}],
            [],
            "classification 1 of 'car' needs a non-empty name",
        ),
        (
            [{"name": "car", "tool": "BBOX", "classifications": {"name": "x"}}],
            [],
            "classifications of 'car' must be a list, got dict",
        ),
        (
            [
                {
                    "name": "car",
                    "tool": "BBOX",
                    "classifications": [{"name": "c", "kind": "RADIO", "answers": []}],
                }
            ],
            [],
            "classification 'car/c' is a RADIO question and needs at least one answer",
        ),
    ],
)
def test_bad_input_is_rejected_naming_the_item(
    tools: Any, classifications: Any, message: str
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        Ontology.build(tools, classifications, id_factory=ids())
    assert message in caught.value.message
    assert caught.value.code == "VALIDATION"


def test_names_made_twice_by_paths_are_rejected() -> None:
    # "a" with answer "b/c" and "a/b" with answer "c" both make "a/b/c".
    with pytest.raises(ValidationFailed, match="'a/b/c' is already used"):
        Ontology.build(
            [],
            [
                {"name": "a", "kind": "RADIO", "answers": ["b/c"]},
                {"name": "a/b", "kind": "RADIO", "answers": ["c"]},
            ],
            id_factory=ids(),
        )
    # A top-level question named like a nested one.
    with pytest.raises(ValidationFailed, match="'car/color' is already used"):
        Ontology.build(
            [
                {
                    "name": "car",
                    "tool": "BBOX",
                    "classifications": [{"name": "color", "kind": "TEXT"}],
                }
            ],
            [{"name": "car/color", "kind": "TEXT"}],
            id_factory=ids(),
        )


def test_nesting_is_bounded() -> None:
    question: dict[str, Any] = {"name": "q", "kind": "TEXT"}
    for _ in range(20):
        question = {
            "name": "q",
            "kind": "RADIO",
            "answers": [{"name": "a", "classifications": [question]}],
        }
    with pytest.raises(ValidationFailed, match="nested deeper than 16 levels"):
        Ontology.build([], [question], id_factory=ids())


def test_an_id_factory_repeating_itself_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="taken id 'same'"):
        Ontology.build(
            [{"name": "a", "tool": "BBOX"}, {"name": "b", "tool": "BBOX"}],
            id_factory=lambda: "same",
        )


# --- extending -----------------------------------------------------------------------


def test_extending_keeps_every_id_and_adds_new_ones() -> None:
    base = sample()
    extended = base.extend(
        [
            {"name": "truck", "tool": "BBOX"},
            {"name": "car", "tool": "BBOX", "classifications": [{"name": "doors", "kind": "TEXT"}]},
        ],
        [
            {"name": "weather", "kind": "CHECKLIST", "answers": ["fog"]},
            {"name": "caption", "kind": "TEXT"},
        ],
        id_factory=ids("new"),
    )
    for feature in base.features:
        assert extended.feature_named(feature.name) == feature
    assert feature_of(extended, "truck").id == "new0"
    assert feature_of(extended, "car/doors").id == "new1"
    assert feature_of(extended, "weather/fog").id == "new2"
    assert question_of(extended, "weather").answers == (
        "weather/rain",
        "weather/sunny",
        "weather/fog",
    )
    assert len(extended) == len(base) + 3
    assert base.feature_named("truck") is None  # the base is unchanged


def test_extending_with_the_same_input_changes_nothing() -> None:
    base = sample()
    assert base.extend(TOOLS, CLASSIFICATIONS, id_factory=ids("new")) == base


def test_an_answer_can_gain_nested_questions() -> None:
    base = sample()
    extended = base.extend(
        [],
        [
            {
                "name": "weather",
                "kind": "CHECKLIST",
                "answers": [{"name": "rain", "classifications": [{"name": "mm", "kind": "TEXT"}]}],
            }
        ],
        id_factory=ids("new"),
    )
    assert question_of(extended, "weather/rain/mm").parent == "weather/rain"


@pytest.mark.parametrize(
    ("tools", "classifications", "message"),
    [
        (
            [{"name": "car", "tool": "POLYGON"}],
            [],
            "tool 'car' is already a BBOX; it cannot become a POLYGON",
        ),
        (
            [],
            [{"name": "weather", "kind": "RADIO", "answers": ["x"]}],
            "classification 'weather' is already a CHECKLIST; it cannot become a RADIO",
        ),
        (
            [],
            [{"name": "caption", "kind": "TEXT", "answers": ["x"]}],
            "classification 'caption' is a TEXT question and takes no answers",
        ),
        ([{"name": "weather", "tool": "BBOX"}], [], "tool 'weather' is already a CHECKLIST"),
    ],
)
def test_extending_cannot_change_what_exists(
    tools: Any, classifications: Any, message: str
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        sample().extend(tools, classifications, id_factory=ids("new"))
    assert message in caught.value.message


# --- stored form ---------------------------------------------------------------------


def test_the_stored_form_is_plain_json_and_reads_back_equal() -> None:
    ontology = sample().extend([{"name": "truck", "tool": "BBOX"}], id_factory=ids("new"))
    stored = json.loads(json.dumps(ontology.to_dict()))
    assert Ontology.from_dict(stored) == ontology
    restored = Ontology.from_dict(stored)
    assert [f.id for f in restored.features] == [f.id for f in ontology.features]


def test_a_big_ontology_is_stored_in_bounded_parts() -> None:
    tools = [{"name": f"class-{i:05d}", "tool": "BBOX"} for i in range(10_000)]
    ontology = Ontology.build(tools, id_factory=lambda: f"{next(counter):036d}")
    parts = ontology.to_dicts(max_bytes=150_000)
    assert len(parts) > 1
    assert all(len(json.dumps(part, ensure_ascii=False).encode()) <= 150_000 for part in parts)
    assert Ontology.from_dicts(parts) == ontology


counter = itertools.count()


def test_an_extension_is_stored_as_the_new_entries_only() -> None:
    base = sample()
    extended = base.extend([{"name": "truck", "tool": "BBOX"}], id_factory=ids("new"))
    delta = extended.to_dicts(start=base.entry_count)
    assert delta == [{"id": ["new0"], "name": ["truck"], "kind": ["BBOX"], "parent": [-1]}]
    assert Ontology.from_dicts(delta, base=base) == extended
    assert Ontology().to_dicts() == [{"id": [], "name": [], "kind": [], "parent": []}]


@pytest.mark.parametrize(
    "stored",
    [
        {"id": ["a"], "name": ["x"], "kind": ["BBOX"], "parent": [3]},
        {"id": ["a"], "name": ["x"], "kind": ["BOX"], "parent": [-1]},
        {"id": ["a", "b"], "name": ["x"], "kind": ["BBOX"], "parent": [-1]},
    ],
)
def test_a_corrupt_stored_form_fails_loudly(stored: dict[str, list[Any]]) -> None:
    with pytest.raises(ValueError):
        Ontology.from_dict(stored)


# --- properties ----------------------------------------------------------------------

short_names = st.sampled_from(["a", "b", "a/b", "c", "b/c"])


def questions(depth: int) -> st.SearchStrategy[dict[str, Any]]:
    answers: st.SearchStrategy[Any] = short_names
    if depth > 0:
        answers = answers | st.fixed_dictionaries(
            {"name": short_names},
            optional={"classifications": st.lists(questions(depth - 1), max_size=2)},
        )
    return st.fixed_dictionaries(
        {
            "name": short_names,
            "kind": st.sampled_from(["RADIO", "CHECKLIST", "TEXT", "radio", "BOGUS"]),
            "answers": st.lists(answers, max_size=3),
        }
    )


tools = st.fixed_dictionaries(
    {"name": short_names, "tool": st.sampled_from([*Tool, "bbox", "BOX"])},
    optional={"classifications": st.lists(questions(1), max_size=2)},
)


@settings(max_examples=300, deadline=None)
@given(st.lists(tools, max_size=3), st.lists(questions(2), max_size=3))
def test_any_input_builds_a_consistent_ontology_or_is_rejected(
    tool_items: list[dict[str, Any]], question_items: list[dict[str, Any]]
) -> None:
    try:
        ontology = Ontology.build(tool_items, question_items, id_factory=ids())
    except ValidationFailed:
        return
    names = [f.name for f in ontology.features] + [q.name for q in ontology.questions]
    text = {q.name for q in ontology.questions if q.kind is ClassificationKind.TEXT}
    assert len(set(names)) == len(names) - len(text)  # one namespace; text questions are both
    for feature in ontology.features:
        assert ontology.feature_with_id(feature.id) is ontology.feature_named(feature.name)
        if feature.question is not None:
            assert ontology.question_named(feature.question) is not None
    for question in ontology.questions:
        assert question.parent is None or ontology.feature_named(question.parent) is not None
        assert all(feature_of(ontology, a).question == question.name for a in question.answers)
    assert Ontology.from_dict(json.loads(json.dumps(ontology.to_dict()))) == ontology
    assert ontology.extend(tool_items, question_items, id_factory=ids("new")) == ontology
