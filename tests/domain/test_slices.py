"""Slices record every change as an event, with cleaned names and normal-form filters."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from typing import Any
from uuid import UUID, uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import ValidationFailed
from domain.ontology import Ontology
from domain.slices import (
    MAX_FILTER_BYTES,
    Slice,
    SliceName,
    check_no_cycle,
    check_slice_name,
    slice_name_id,
)

counter = itertools.count()
ONTOLOGY = Ontology.build(
    tools=[{"name": "car", "tool": "BBOX"}],
    classifications=[{"name": "weather", "kind": "RADIO", "answers": ["sunny"]}],
    id_factory=lambda: f"f{next(counter)}",
)
MODEL = UUID("11111111-2222-4333-8444-555555555555")
CARS = {"all": [{"annotation": {"features": ["car"]}}]}


class Slices:
    """Other slices of the model: id -> the slice ids its filter includes."""

    def __init__(self, includes: dict[str, list[str]] | None = None) -> None:
        self.includes = includes or {}

    def is_live(self, slice_id: str) -> bool:
        return slice_id in self.includes

    def included_by(self, slice_id: str) -> Iterable[str]:
        return self.includes.get(slice_id, [])


def new_slice(name: str = "Hard cases", filter_json: Any = CARS, slices: Slices | None = None) -> Slice:
    return Slice.new(MODEL, name, filter_json, ONTOLOGY, slices or Slices(), actor="ana")


def error_of(action: Any) -> str:
    with pytest.raises(ValidationFailed) as caught:
        action()
    return caught.value.message


# -- names ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("ab", "slice name 'ab' has 2 characters; a slice name has 3 to 60"),
        ("  ab  ", "slice name 'ab' has 2 characters; a slice name has 3 to 60"),
        ("x" * 61, f"slice name '{'x' * 61}' has 61 characters; a slice name has 3 to 60"),
        ("", "slice name '' has 0 characters; a slice name has 3 to 60"),
        ("bad\nname", "slice name 'bad\\nname' has a control character"),
        ("bad\x7fname", "slice name 'bad\\x7fname' has a control character"),
        ("bad\x85name", "slice name 'bad\\x85name' has a control character"),
        (None, "slice name must be a string, got None"),
    ],
)
def test_bad_names(name: Any, expected: str) -> None:
    assert error_of(lambda: check_slice_name(name)) == expected


def test_names_are_stripped_and_may_have_3_to_60_characters() -> None:
    assert check_slice_name("  abc \t") == "abc"
    assert check_slice_name("é" * 60) == "é" * 60
    assert check_slice_name("Low F1 / night-time (v2)") == "Low F1 / night-time (v2)"


@given(st.text(max_size=80))
def test_a_name_is_either_cleaned_or_refused(name: str) -> None:
    try:
        cleaned = check_slice_name(name)
    except ValidationFailed as exc:
        assert exc.message.startswith("slice name ")
    else:
        assert cleaned == name.strip() and 3 <= len(cleaned) <= 60
        assert check_slice_name(cleaned) == cleaned


# -- the aggregate -------------------------------------------------------------------------


def test_a_new_slice_records_its_cleaned_name_and_normal_filter() -> None:
    item = new_slice("  Hard cases  ", {"all": [{"annotation": {"features": ["car", "car"]}}]})
    assert (item.version, item.model_id, item.name, item.deleted) == (1, MODEL, "Hard cases", False)
    assert item.filter == {"all": [{"annotation": {"features": ["car"], "present": True, "min": None, "max": None}}]}
    (created,) = item.collect_events()
    assert type(created).__name__ == "Created"
    assert (created.name, created.filter, created.actor) == ("Hard cases", item.filter, "ana")


def test_a_bad_name_or_filter_creates_nothing() -> None:
    assert error_of(lambda: new_slice("no")) == "slice name 'no' has 2 characters; a slice name has 3 to 60"
    assert error_of(lambda: new_slice(filter_json={"all": [{"annotation": {"features": ["dog"]}}]})) == (
        "clause 1 (annotation): unknown feature 'dog'"
    )


def test_every_change_is_an_event_with_its_actor() -> None:
    item = new_slice()
    item.rename("Night", actor="bo")
    item.update_filter({"all": [{"split": ["test"]}]}, ONTOLOGY, Slices(), actor="cy")
    item.delete(actor="di")
    events = item.collect_events()
    assert [type(e).__name__ for e in events] == ["Created", "Renamed", "FilterUpdated", "Deleted"]
    assert [e.actor for e in events] == ["ana", "bo", "cy", "di"]
    assert (item.version, item.name, item.filter, item.deleted) == (4, "Night", {"all": [{"split": ["TEST"]}]}, True)


def test_replaying_the_events_gives_the_same_slice() -> None:
    item = new_slice()
    item.rename("  Night  ", actor="bo")
    item.update_filter({"all": []}, ONTOLOGY, Slices(), actor="cy")
    replayed: Slice | None = None
    for domain_event in item.collect_events():
        replayed = domain_event.mutate(replayed)
    assert replayed is not None
    assert (replayed.id, replayed.version, replayed.name, replayed.filter) == (item.id, 3, "Night", {"all": []})


def test_an_edit_that_changes_nothing_records_nothing() -> None:
    item = new_slice()
    item.collect_events()
    item.rename("  Hard cases ", actor="bo")
    item.update_filter({"all": [{"annotation": {"features": ["car"], "present": True}}]}, ONTOLOGY, Slices(), actor="bo")
    assert item.collect_events() == []
    assert item.version == 1


def test_a_bad_edit_records_nothing() -> None:
    item = new_slice()
    item.collect_events()
    assert error_of(lambda: item.rename("x" * 61, actor="bo")).endswith("has 61 characters; a slice name has 3 to 60")
    assert error_of(
        lambda: item.update_filter({"all": [{"split": ["TEST"]}, {"slice": str(item.id)}]}, ONTOLOGY, Slices({str(item.id): []}), actor="bo")
    ) == "clause 2 (slice): a slice cannot include itself"
    assert item.collect_events() == [] and item.version == 1 and item.filter == new_slice().filter


def test_a_filter_may_include_other_slices_but_not_a_cycle() -> None:
    other = str(uuid4())
    item = new_slice(filter_json={"all": [{"slice": other}]}, slices=Slices({other: []}))
    assert item.filter == {"all": [{"slice": other}]}
    # The other slice now includes this one: pointing back at it would close a loop.
    looping = Slices({other: [str(item.id)]})
    assert error_of(lambda: item.update_filter({"all": [{"slice": other}]}, ONTOLOGY, looping, actor="bo")) == (
        f"clause 1 (slice): slice '{other}' includes this slice, directly or through other slices"
    )
    unknown = str(uuid4())
    assert error_of(lambda: new_slice(filter_json={"all": [{"slice": unknown}]})) == (
        f"clause 1 (slice): unknown slice '{unknown}'"
    )


def test_a_filter_is_bounded_in_size() -> None:
    ids = [f"{i:036d}" for i in range(MAX_FILTER_BYTES // 38 + 10)]
    message = error_of(lambda: new_slice(filter_json={"all": [{"selection": {"ids": ids}}]}))
    assert message.startswith("the filter takes ") and message.endswith(
        f" bytes as JSON; a slice's filter takes at most {MAX_FILTER_BYTES}"
    )
    assert new_slice(filter_json={"all": [{"selection": {"ids": ids[:1000]}}]}).version == 1


def test_a_deleted_slice_takes_no_more_changes() -> None:
    item = new_slice()
    item.delete(actor="bo")
    expected = f"slice {item.id} is deleted"
    assert error_of(lambda: item.rename("Night", actor="bo")) == expected
    assert error_of(lambda: item.update_filter({}, ONTOLOGY, Slices(), actor="bo")) == expected
    assert error_of(lambda: item.delete(actor="bo")) == expected


def test_no_cycle_through_other_slices() -> None:
    first, second, third = (str(uuid4()) for _ in range(3))
    includes = {first: [second], second: [third], third: [first]}
    normal = {"all": [{"split": ["TEST"]}, {"slice": first}]}
    with pytest.raises(ValidationFailed) as caught:
        check_no_cycle(third, normal, lambda s: includes.get(s, []))
    assert caught.value.message == (
        f"clause 2 (slice): slice '{first}' includes this slice, directly or through other slices"
    )
    # A loop that does not pass through this slice, and a slice named twice, are fine.
    check_no_cycle(str(uuid4()), normal, lambda s: includes.get(s, []))
    check_no_cycle(third, {"all": [{"slice": second}, {"slice": second}]}, lambda s: [first] if s == second else [])


# -- names held ------------------------------------------------------------------------------


def test_a_name_is_held_by_one_slice_at_a_time() -> None:
    first, second = uuid4(), uuid4()
    claim = SliceName(model_id=MODEL, name="Night", slice_id=first, actor="ana")
    assert claim.id == slice_name_id(MODEL, "Night")
    assert slice_name_id(MODEL, "Night") != slice_name_id(MODEL, "night")
    assert slice_name_id(uuid4(), "Night") != claim.id

    claim.take(first, actor="ana")  # the holder again: nothing to record
    assert error_of(lambda: claim.take(second, actor="bo")) == f"model {MODEL} already has a slice named 'Night'"
    claim.release(second, actor="bo")  # not the holder: nothing to release
    assert claim.slice_id == first and claim.version == 1

    claim.release(first, actor="ana")
    claim.take(second, actor="bo")
    assert claim.slice_id == second
    assert [type(e).__name__ for e in claim.collect_events()] == ["Created", "Released", "Taken"]
