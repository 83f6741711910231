"""Error answers name the offending item without echoing it whole: a bad value of megabytes
gives an answer of a few kilobytes, over the bulk routes and over GraphQL alike."""

from __future__ import annotations

from typing import Any

import pytest

from tests.server.live import LiveServer
from tests.server.operations import CREATE_DATASET, Scenario, box, build_scenario

HUGE = "x" * 5_000_000
# GraphQL bodies are bounded at 1 MB.
LARGE = "x" * 900_000


@pytest.fixture(scope="module")
def scenario(live: LiveServer) -> Scenario:
    return build_scenario(live.writer, rows=1, prefix="err")


ROW = {"globalKey": "fresh", "rowData": "https://assets.example/a.jpg"}
PREDICTION = {"dataRow": {"globalKey": "err-0"}, "name": "car", "bbox": box(), "confidence": 0.5}


@pytest.mark.parametrize(
    ("route", "line", "words"),
    [
        ("data-rows", {**ROW, "globalKey": HUGE}, ["globalKey"]),
        ("data-rows", {**ROW, "mediaType": HUGE}, ["mediaType"]),
        ("data-rows", {**ROW, HUGE: 1}, ["xxxx"]),
        ("data-rows", {**ROW, "labels": [{"name": HUGE, "bbox": box()}]}, ["xxxx"]),
        ("predictions", {**PREDICTION, "name": HUGE}, ["xxxx"]),
        ("predictions", {**PREDICTION, "dataRow": {"globalKey": HUGE}}, ["xxxx"]),
    ],
    ids=["global key", "media type", "unknown key", "label feature", "prediction feature", "prediction row"],
)
def test_a_huge_bad_value_in_an_upload(
    live: LiveServer, scenario: Scenario, route: str, line: dict[str, Any], words: list[str]
) -> None:
    path = (
        f"/upload/datasets/{scenario.dataset_id}/{route}"
        if route == "data-rows"
        else f"/upload/model-runs/{scenario.run_id}/{route}"
    )
    response = live.writer.upload(path, [line])
    assert response.status_code == 422
    assert len(response.content) < 10_000, (len(response.content), response.content[:300])
    [error] = response.json()["errors"]
    assert error["line"] == 1 and all(word in error["message"] for word in words), error


def test_an_annotation_too_big_for_an_event_is_refused_by_line(live: LiveServer, scenario: Scenario) -> None:
    rows = [{**ROW, "globalKey": f"big-{i}"} for i in range(3)]
    rows[2]["labels"] = [{"name": "x" * 300_000, "bbox": box()}]
    response = live.writer.upload(f"/upload/datasets/{scenario.dataset_id}/data-rows", rows)
    assert response.status_code == 422, response.text[:300]
    [error] = response.json()["errors"]
    assert error["line"] == 3 and "more than one event may hold" in error["message"], error


@pytest.mark.parametrize(
    "variables", [{"name": LARGE}, {"name": "a\u0000" + LARGE}], ids=["too long", "unstorable"]
)
def test_a_large_bad_value_in_a_mutation(live: LiveServer, variables: dict[str, str]) -> None:
    response = live.writer.client.post("/graphql", json={"query": CREATE_DATASET, "variables": variables})
    assert response.status_code == 200
    assert len(response.content) < 10_000, (len(response.content), response.content[:300])
    assert response.json()["data"]["createDataset"]["code"] == "VALIDATION"


def test_a_large_value_of_the_wrong_type(live: LiveServer) -> None:
    query = "mutation($config: JSON!) { updateModelRunConfig(input: {runId: 1, config: $config}) { __typename } }"
    response = live.writer.client.post("/graphql", json={"query": query, "variables": {"config": LARGE}})
    assert len(response.content) < 10_000, (len(response.content), response.content[:300])
