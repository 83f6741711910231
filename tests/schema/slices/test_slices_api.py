"""Saved slices through the API: create, rename, change the filter, delete; typed errors
that record nothing."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tests.server.live import Api, LiveServer
from tests.server.operations import CREATE_MODEL, ERROR_FIELDS, ONTOLOGY, payload

SLICE_FIELDS = "version slice { id modelId name filter version createdAt updatedAt }"

CREATE = f"""
mutation($modelId: ID!, $name: String!, $filter: DataRowFilter!) {{
  createSlice(input: {{modelId: $modelId, name: $name, filter: $filter}}) {{
    __typename ... on CreateSlicePayload {{ {SLICE_FIELDS} }} {ERROR_FIELDS}
  }}
}}"""

RENAME = f"""
mutation($sliceId: ID!, $name: String!, $expectedVersion: Int) {{
  renameSlice(input: {{sliceId: $sliceId, name: $name, expectedVersion: $expectedVersion}}) {{
    __typename ... on RenameSlicePayload {{ {SLICE_FIELDS} }} {ERROR_FIELDS}
  }}
}}"""

UPDATE_FILTER = f"""
mutation($sliceId: ID!, $filter: DataRowFilter!, $expectedVersion: Int) {{
  updateSliceFilter(input: {{sliceId: $sliceId, filter: $filter, expectedVersion: $expectedVersion}}) {{
    __typename ... on UpdateSliceFilterPayload {{ {SLICE_FIELDS} }} {ERROR_FIELDS}
  }}
}}"""

DELETE = f"""
mutation($sliceId: ID!, $expectedVersion: Int) {{
  deleteSlice(input: {{sliceId: $sliceId, expectedVersion: $expectedVersion}}) {{
    __typename ... on DeleteSlicePayload {{ {SLICE_FIELDS} }} {ERROR_FIELDS}
  }}
}}"""

SAVED = """
query($id: ID!) { model(id: $id) { savedSlices { id modelId name filter version createdAt updatedAt } } }"""

CARS = {"all": [{"annotation": {"features": ["car"]}}]}
CARS_NORMAL = {"all": [{"annotation": {"features": ["car"], "present": True, "min": None, "max": None}}]}
MISSING = "00000000-0000-4000-8000-000000000000"


def new_model(api: Api, name: str) -> str:
    model_id: str = payload(api.data(CREATE_MODEL, name=name, ontology=ONTOLOGY), "createModel")["model"]["id"]
    return model_id


def saved(api: Api, model_id: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = api.data(SAVED, id=model_id)["model"]["savedSlices"]
    return found


def create(api: Api, model_id: str, name: str, filter_json: Any = CARS) -> dict[str, Any]:
    return dict(api.data(CREATE, modelId=model_id, name=name, filter=filter_json)["createSlice"])


def ok(result: dict[str, Any]) -> dict[str, Any]:
    assert "code" not in result, result
    return result


def last_event(live: LiveServer) -> int:
    return live.runtime.app.recorder.max_notification_id() or 0


def assert_validation(result: dict[str, Any], message: str) -> None:
    assert (result["__typename"], result["code"], result["message"]) == ("ValidationError", "VALIDATION", message)


def test_a_slice_is_created_renamed_refiltered_and_deleted(live: LiveServer) -> None:
    api = live.writer
    model_id = new_model(api, "slices flow")
    created = ok(create(api, model_id, "  Cars  "))
    item = created["slice"]
    assert created["version"] == item["version"] == 1
    assert (item["name"], item["modelId"], item["filter"]) == ("Cars", model_id, CARS_NORMAL)
    assert saved(api, model_id) == [item]

    renamed = payload(api.data(RENAME, sliceId=item["id"], name="Cars, any", expectedVersion=1), "renameSlice")
    assert (renamed["version"], renamed["slice"]["name"]) == (2, "Cars, any")

    night = {"all": [{"split": ["TEST"]}, {"metadata": {"key": "time", "equals": "night"}}]}
    updated = payload(
        api.data(UPDATE_FILTER, sliceId=item["id"], filter=night, expectedVersion=2), "updateSliceFilter"
    )
    assert updated["version"] == 3
    assert updated["slice"]["filter"] == {
        "all": [
            {"split": ["TEST"]},
            {"metadata": {"key": "time", "equals": "night", "in": None, "contains": None, "min": None, "max": None}},
        ]
    }
    (listed,) = saved(api, model_id)
    assert listed == updated["slice"]
    assert listed["createdAt"] == item["createdAt"]
    assert datetime.fromisoformat(listed["updatedAt"]) > datetime.fromisoformat(item["updatedAt"])

    deleted = payload(api.data(DELETE, sliceId=item["id"], expectedVersion=3), "deleteSlice")
    assert deleted["version"] == 4
    assert saved(api, model_id) == []
    gone = api.data(RENAME, sliceId=item["id"], name="again")["renameSlice"]
    assert (gone["__typename"], gone["code"]) == ("NotFoundError", "NOT_FOUND")
    assert item["id"] in gone["message"]


def test_slices_are_listed_by_name(live: LiveServer) -> None:
    api = live.writer
    model_id = new_model(api, "slices order")
    for name in ("night", "Day", "blurry"):
        ok(create(api, model_id, name))
    assert [s["name"] for s in saved(api, model_id)] == ["blurry", "Day", "night"]
    other = new_model(api, "slices order 2")
    assert saved(api, other) == []


def test_names_are_checked_and_nothing_is_recorded(live: LiveServer) -> None:
    api = live.writer
    model_id = new_model(api, "slice names")
    item = ok(create(api, model_id, "Hard cases"))["slice"]
    before = last_event(live)

    assert_validation(create(api, model_id, " ab "), "slice name 'ab' has 2 characters; a slice name has 3 to 60")
    long_name = "n" * 61
    assert_validation(
        create(api, model_id, long_name), f"slice name '{long_name}' has 61 characters; a slice name has 3 to 60"
    )
    assert_validation(create(api, model_id, "tab\there"), "slice name 'tab\\there' has a control character")
    duplicate = f"model {model_id} already has a slice named 'Hard cases'"
    assert_validation(create(api, model_id, "  Hard cases "), duplicate)
    second = ok(create(api, model_id, "Easy cases"))["slice"]
    after_second = last_event(live)
    assert_validation(api.data(RENAME, sliceId=second["id"], name="Hard cases")["renameSlice"], duplicate)
    assert_validation(
        api.data(RENAME, sliceId=second["id"], name="x")["renameSlice"],
        "slice name 'x' has 1 characters; a slice name has 3 to 60",
    )

    assert before < after_second == last_event(live)
    assert [s["name"] for s in saved(api, model_id)] == ["Easy cases", "Hard cases"]
    assert saved(api, model_id)[1] == item
    # The same name in another model is free.
    ok(create(api, new_model(api, "slice names 2"), "Hard cases"))


def test_a_deleted_slice_frees_its_name_and_a_renamed_one_its_old_name(live: LiveServer) -> None:
    api = live.writer
    model_id = new_model(api, "slice names freed")
    first = ok(create(api, model_id, "Night"))["slice"]
    payload(api.data(DELETE, sliceId=first["id"]), "deleteSlice")
    again = ok(create(api, model_id, "Night"))["slice"]
    assert again["id"] != first["id"]

    payload(api.data(RENAME, sliceId=again["id"], name="Night time"), "renameSlice")
    reused = ok(create(api, model_id, "Night"))["slice"]
    assert [s["name"] for s in saved(api, model_id)] == ["Night", "Night time"]
    assert_validation(
        create(api, model_id, "Night time"), f"model {model_id} already has a slice named 'Night time'"
    )
    # Renaming to its own name changes nothing.
    same = payload(api.data(RENAME, sliceId=reused["id"], name=" Night "), "renameSlice")
    assert same["version"] == 1


def test_a_stale_expected_version_is_a_conflict(live: LiveServer) -> None:
    api = live.writer
    model_id = new_model(api, "slice conflicts")
    item = ok(create(api, model_id, "Cars"))["slice"]
    payload(api.data(RENAME, sliceId=item["id"], name="Cars 2", expectedVersion=1), "renameSlice")
    before = last_event(live)
    for answer, field in (
        (api.data(RENAME, sliceId=item["id"], name="Cars 3", expectedVersion=1), "renameSlice"),
        (api.data(UPDATE_FILTER, sliceId=item["id"], filter={"all": []}, expectedVersion=1), "updateSliceFilter"),
        (api.data(DELETE, sliceId=item["id"], expectedVersion=1), "deleteSlice"),
    ):
        error = answer[field]
        assert (error["__typename"], error["code"]) == ("ConflictError", "CONFLICT")
        assert error["message"] == f"slice {item['id']} is at version 2, not 1; read it again and retry"
    assert last_event(live) == before
    (listed,) = saved(api, model_id)
    assert (listed["name"], listed["version"], listed["filter"]) == ("Cars 2", 2, CARS_NORMAL)


def test_a_bad_filter_is_a_validation_error_naming_the_clause(live: LiveServer) -> None:
    api = live.writer
    model_id = new_model(api, "slice filters")
    item = ok(create(api, model_id, "Cars"))["slice"]
    before = last_event(live)
    dog = {"all": [{"split": ["TEST"]}, {"annotation": {"features": ["dog"]}}]}
    assert_validation(create(api, model_id, "Dogs", dog), "clause 2 (annotation): unknown feature 'dog'")
    assert_validation(
        api.data(UPDATE_FILTER, sliceId=item["id"], filter=dog)["updateSliceFilter"],
        "clause 2 (annotation): unknown feature 'dog'",
    )
    assert_validation(
        api.data(UPDATE_FILTER, sliceId=item["id"], filter={"all": [{"metric": {"name": "f1", "min": 0.8, "max": 0.2}}]})[
            "updateSliceFilter"
        ],
        "clause 1 (metric): min 0.8 is greater than max 0.2",
    )
    assert_validation(
        api.data(UPDATE_FILTER, sliceId=item["id"], filter={"all": [{"slice": item["id"]}]})["updateSliceFilter"],
        "clause 1 (slice): a slice cannot include itself",
    )
    # A filter that is not a DataRowFilter at all is refused by the schema itself.
    refused = api.graphql(CREATE, modelId=model_id, name="Listed", filter=[1])
    assert "Expected value of type 'DataRowFilter'" in refused["errors"][0]["message"]
    assert last_event(live) == before
    assert saved(api, model_id) == [item]


def test_a_slice_may_include_another_live_slice_of_its_model(live: LiveServer) -> None:
    api = live.writer
    model_id = new_model(api, "slice includes")
    base = ok(create(api, model_id, "Cars"))["slice"]
    outer = ok(create(api, model_id, "Cars at night", {"all": [{"slice": base["id"]}, {"split": ["TEST"]}]}))["slice"]
    assert outer["filter"] == {"all": [{"slice": base["id"]}, {"split": ["TEST"]}]}
    # Pointing the included slice back at the outer one would make a cycle.
    assert_validation(
        api.data(UPDATE_FILTER, sliceId=base["id"], filter={"all": [{"slice": outer["id"]}]})["updateSliceFilter"],
        f"clause 1 (slice): slice '{outer['id']}' includes this slice, directly or through other slices",
    )
    # A slice of another model, or a deleted one, is unknown here.
    foreign = ok(create(api, new_model(api, "slice includes 2"), "Cars"))["slice"]
    assert_validation(
        create(api, model_id, "Foreign", {"all": [{"slice": foreign["id"]}]}),
        f"clause 1 (slice): unknown slice '{foreign['id']}'",
    )
    payload(api.data(DELETE, sliceId=foreign["id"]), "deleteSlice")
    assert_validation(
        create(api, new_model(api, "slice includes 3"), "Gone", {"all": [{"slice": foreign["id"]}]}),
        f"clause 1 (slice): unknown slice '{foreign['id']}'",
    )


def test_a_filter_may_be_written_in_the_query_itself(live: LiveServer) -> None:
    api = live.writer
    model_id = new_model(api, "slice literals")
    answer = api.data(
        """mutation($id: ID!) { createSlice(input: {modelId: $id, name: "Rainy",
             filter: {all: [{annotation: {features: ["weather/rainy"], min: 1}}]}}) {
           ... on CreateSlicePayload { slice { filter } } } }""",
        id=model_id,
    )
    assert answer["createSlice"]["slice"]["filter"] == {
        "all": [{"annotation": {"features": ["weather/rainy"], "present": True, "min": 1, "max": None}}]
    }


def test_unknown_ids_are_not_found_and_a_read_only_key_is_forbidden(live: LiveServer) -> None:
    api = live.writer
    for bad in (MISSING, "not-an-id"):
        error = create(api, bad, "Cars")
        assert (error["code"], error["message"]) == ("NOT_FOUND", f"model {bad if bad == MISSING else repr(bad)} not found")
        for answer, field in (
            (api.data(RENAME, sliceId=bad, name="Cars"), "renameSlice"),
            (api.data(UPDATE_FILTER, sliceId=bad, filter=CARS), "updateSliceFilter"),
            (api.data(DELETE, sliceId=bad), "deleteSlice"),
        ):
            assert answer[field]["code"] == "NOT_FOUND" and bad in answer[field]["message"]
    model_id = new_model(api, "slice keys")
    before = last_event(live)
    refused = live.reader.data(CREATE, modelId=model_id, name="Cars", filter=CARS)["createSlice"]
    assert (refused["__typename"], refused["code"]) == ("ForbiddenError", "FORBIDDEN")
    assert last_event(live) == before
