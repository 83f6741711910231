"""GraphQL operations and a small scenario the API tests build on."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from tests.server.live import Api

ERROR_FIELDS = "... on UserError { __typename code message } ... on ValidationError { lineErrors { line message } }"

CREATE_DATASET = f"""
mutation($name: String!) {{
  createDataset(input: {{name: $name}}) {{
    __typename ... on CreateDatasetPayload {{ version dataset {{ id name }} }} {ERROR_FIELDS}
  }}
}}"""

CREATE_MODEL = f"""
mutation($name: String!, $ontology: OntologyInput!) {{
  createModel(input: {{name: $name, ontology: $ontology}}) {{
    __typename ... on CreateModelPayload {{ version model {{ id ontology {{ features {{ id name kind }} }} }} }}
    {ERROR_FIELDS}
  }}
}}"""

CREATE_RUN = f"""
mutation($input: CreateModelRunInput!) {{
  createModelRun(input: $input) {{
    __typename ... on CreateModelRunPayload {{ version modelRun {{ id version rowCount }} }} {ERROR_FIELDS}
  }}
}}"""

UPDATE_CONFIG = f"""
mutation($runId: ID!, $config: JSON!, $expectedVersion: Int) {{
  updateModelRunConfig(input: {{runId: $runId, config: $config, expectedVersion: $expectedVersion}}) {{
    __typename ... on UpdateModelRunConfigPayload {{ version modelRun {{ version config }} }} {ERROR_FIELDS}
  }}
}}"""

RUN = """
query($id: ID!, $version: Int) {
  modelRun(id: $id, version: $version) { id name version latestVersion rowCount config configJson }
}"""

HISTORY = """
query($id: ID!, $first: Int, $after: String) {
  modelRun(id: $id) {
    history(first: $first, after: $after) {
      totalCount pageInfo { hasNextPage endCursor }
      edges { cursor node { version type actor at summary } }
    }
  }
}"""

ONTOLOGY = {
    "tools": [{"name": "car", "tool": "BBOX"}, {"name": "person", "tool": "BBOX"}],
    "classifications": [{"name": "weather", "kind": "RADIO", "answers": ["sunny", "rainy"]}],
}


def box(left: float = 10, top: float = 10, width: float = 20, height: float = 20) -> dict[str, float]:
    return {"left": left, "top": top, "width": width, "height": height}


def data_row_lines(count: int, prefix: str = "img") -> list[dict[str, Any]]:
    return [
        {
            "globalKey": f"{prefix}-{i}",
            "rowData": f"https://assets.example/{prefix}-{i}.jpg",
            "width": 640,
            "height": 480,
            "metadata": {"camera": "front" if i % 2 else "rear"},
            "labels": [{"name": "car", "bbox": box(i, i)}],
        }
        for i in range(count)
    ]


def prediction_lines(count: int, prefix: str = "img", confidence: float = 0.9) -> list[dict[str, Any]]:
    return [
        {"dataRow": {"globalKey": f"{prefix}-{i}"}, "name": "car", "bbox": box(i, i), "confidence": confidence}
        for i in range(count)
    ]


def payload(answer: dict[str, Any], field: str) -> dict[str, Any]:
    result: dict[str, Any] = answer[field]
    assert "code" not in result, result
    return result


@dataclass
class Scenario:
    dataset_id: str
    model_id: str
    run_id: str


def build_scenario(api: Api, rows: int = 4, prefix: str = "img") -> Scenario:
    """A dataset with `rows` labelled rows, a model, and a run over all of them."""
    dataset = payload(api.data(CREATE_DATASET, name=f"{prefix} dataset"), "createDataset")
    dataset_id = dataset["dataset"]["id"]
    uploaded = api.upload(f"/upload/datasets/{dataset_id}/data-rows", data_row_lines(rows, prefix))
    assert uploaded.status_code == 200, uploaded.text
    model = payload(api.data(CREATE_MODEL, name=f"{prefix} model", ontology=ONTOLOGY), "createModel")
    run = payload(
        api.data(
            CREATE_RUN,
            input={
                "modelId": model["model"]["id"],
                "name": "first run",
                "datasetId": dataset_id,
                "splits": {"train": 0.5, "validate": 0.25, "test": 0.25, "seed": 7},
            },
        ),
        "createModelRun",
    )
    return Scenario(dataset_id, model["model"]["id"], run["modelRun"]["id"])


def evaluated_run(api: Api, name: str, ontology: dict[str, Any], rows: list[Any], predictions: list[Any]) -> str:
    """A dataset of these data-row lines, a model of this ontology, a run over every row with
    these prediction lines, its metrics in sync: the run's id."""
    dataset_id = payload(api.data(CREATE_DATASET, name=name), "createDataset")["dataset"]["id"]
    uploaded = api.upload(f"/upload/datasets/{dataset_id}/data-rows", rows)
    assert uploaded.status_code == 200, uploaded.text
    model_id = payload(api.data(CREATE_MODEL, name=name, ontology=ontology), "createModel")["model"]["id"]
    created = api.data(CREATE_RUN, input={"modelId": model_id, "name": "r", "datasetId": dataset_id})
    run_id = payload(created, "createModelRun")["modelRun"]["id"]
    predicted = api.upload(f"/upload/model-runs/{run_id}/predictions", predictions)
    assert predicted.status_code == 200, predicted.text
    wait_in_sync(api, run_id)
    return run_id


def wait_in_sync(api: Api, run_id: str, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    status = "query($id: ID!) { modelRun(id: $id) { metricsStatus { state } } }"
    while api.data(status, id=run_id)["modelRun"]["metricsStatus"]["state"] != "IN_SYNC":
        assert time.monotonic() < deadline, f"metrics of run {run_id} not in sync after {timeout} s"
        time.sleep(0.1)
