"""Expected failures come back as typed errors (data), and record nothing."""

from __future__ import annotations

import pytest

from tests.server.live import LiveServer
from tests.server.operations import (
    CREATE_DATASET,
    CREATE_MODEL,
    CREATE_RUN,
    HISTORY,
    RUN,
    UPDATE_CONFIG,
    Scenario,
    build_scenario,
)

MISSING = "00000000-0000-4000-8000-000000000000"


@pytest.fixture(scope="module")
def scenario(live: LiveServer) -> Scenario:
    return build_scenario(live.writer, rows=2, prefix="err")


def run_state(live: LiveServer, run_id: str) -> tuple[int, int]:
    api = live.reader
    version = api.data(RUN, id=run_id)["modelRun"]["version"]
    events = api.data(HISTORY, id=run_id)["modelRun"]["history"]["totalCount"]
    return version, events


def test_unknown_or_malformed_ids_are_not_found(live: LiveServer) -> None:
    for run_id in (MISSING, "no-such-run"):
        error = live.writer.data(UPDATE_CONFIG, runId=run_id, config={})["updateModelRunConfig"]
        assert error["__typename"] == "NotFoundError"
        assert error["code"] == "NOT_FOUND"
        assert run_id in error["message"]
    error = live.writer.data(
        CREATE_RUN, input={"modelId": MISSING, "name": "r", "datasetId": MISSING}
    )["createModelRun"]
    assert error["code"] == "NOT_FOUND"


def test_invalid_input_is_a_validation_error(live: LiveServer, scenario: Scenario) -> None:
    before = run_state(live, scenario.run_id)
    error = live.writer.data(UPDATE_CONFIG, runId=scenario.run_id, config=[1, 2])["updateModelRunConfig"]
    assert (error["__typename"], error["code"]) == ("ValidationError", "VALIDATION")
    assert "JSON object" in error["message"]
    assert error["lineErrors"] == []
    error = live.writer.data(UPDATE_CONFIG, runId=scenario.run_id, config={"lr": {"nested": 1}})["updateModelRunConfig"]
    assert error["code"] == "VALIDATION" and "'lr'" in error["message"]
    assert run_state(live, scenario.run_id) == before

    bad_ontology = {"classifications": [{"name": "weather", "kind": "RADIO", "answers": []}]}
    error = live.writer.data(CREATE_MODEL, name="bad", ontology=bad_ontology)["createModel"]
    assert error["code"] == "VALIDATION" and "weather" in error["message"]
    error = live.writer.data(CREATE_DATASET, name="   ")["createDataset"]
    assert error["code"] == "VALIDATION"
    error = live.writer.data(CREATE_RUN, input={"modelId": scenario.model_id, "name": "no rows"})["createModelRun"]
    assert error["code"] == "VALIDATION" and "datasetId" in error["message"]
    error = live.writer.data(
        """mutation($id: ID!) { setMetricSettings(input: {runId: $id, iouThresholds: [0.5, 1.5]}) {
             ... on UserError { code message } } }""",
        id=scenario.run_id,
    )["setMetricSettings"]
    assert error["code"] == "VALIDATION" and "1.5" in error["message"]
    assert run_state(live, scenario.run_id) == before


def test_a_stale_expected_version_is_a_conflict(live: LiveServer, scenario: Scenario) -> None:
    version, _ = run_state(live, scenario.run_id)
    done = live.writer.data(UPDATE_CONFIG, runId=scenario.run_id, config={"epochs": 1}, expectedVersion=version)
    assert done["updateModelRunConfig"]["version"] == version + 1
    stale = live.writer.data(UPDATE_CONFIG, runId=scenario.run_id, config={"epochs": 2}, expectedVersion=version)
    error = stale["updateModelRunConfig"]
    assert (error["__typename"], error["code"]) == ("ConflictError", "CONFLICT")
    assert "retry" in error["message"]
    assert live.writer.data(RUN, id=scenario.run_id)["modelRun"]["config"] == {"epochs": 1}


def test_a_read_only_key_may_read_but_not_write(live: LiveServer, scenario: Scenario) -> None:
    before = run_state(live, scenario.run_id)
    error = live.reader.data(UPDATE_CONFIG, runId=scenario.run_id, config={"epochs": 9})["updateModelRunConfig"]
    assert (error["__typename"], error["code"]) == ("ForbiddenError", "FORBIDDEN")
    assert "reader" in error["message"] and "read-only" in error["message"]
    error = live.reader.data(CREATE_DATASET, name="nope")["createDataset"]
    assert error["code"] == "FORBIDDEN"
    assert run_state(live, scenario.run_id) == before


def test_query_errors_name_the_problem(live: LiveServer, scenario: Scenario) -> None:
    answer = live.reader.graphql(RUN, id=scenario.run_id, version=999)
    assert answer["data"]["modelRun"] is None
    assert "version 999" in answer["errors"][0]["message"]
    answer = live.reader.graphql("{ datasets(first: 1001) { totalCount } }")
    assert "1000" in answer["errors"][0]["message"]
    answer = live.reader.graphql('{ datasets(after: "garbage") { totalCount } }')
    assert "cursor" in answer["errors"][0]["message"]
    diff = live.reader.graphql(
        "query($id: ID!) { modelRun(id: $id) { diff(fromVersion: 1, toVersion: 99) { toVersion } } }",
        id=scenario.run_id,
    )
    assert "99" in diff["errors"][0]["message"]
