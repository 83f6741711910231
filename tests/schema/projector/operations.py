"""GraphQL operations of the projector, and helpers over the live test server."""

from __future__ import annotations

import base64
import time
from typing import Any

import numpy as np

from tests.server.live import Api
from tests.server.operations import ERROR_FIELDS

UPLOAD_EMBEDDINGS = f"""
mutation($input: UploadEmbeddingsInput!) {{
  uploadEmbeddings(input: $input) {{
    __typename ... on UploadEmbeddingsPayload {{ accepted version embeddingSpace {{ id name dimension version vectorCount }} }}
    {ERROR_FIELDS}
  }}
}}"""

REQUEST = f"""
mutation($input: RequestProjectionInput!) {{
  requestProjection(input: $input) {{
    __typename ... on ProjectionPayload {{ created projection {{ id state pointCount selected sourceProjectionId }} }}
    {ERROR_FIELDS}
  }}
}}"""

RETRY = f"""
mutation($input: RetryProjectionInput!) {{
  retryProjection(input: $input) {{ __typename ... on ProjectionPayload {{ projection {{ id state }} }} {ERROR_FIELDS} }}
}}"""

PROJECTION = """
query($run: ID!, $id: ID!) {
  modelRun(id: $run) {
    projection(id: $id) {
      id state progress stage error method sphereize space pointCount
      globalKeys dataRowIds x y xy dataRowIdsPacked
      splits { kind legend codes bytesPerCode }
      metadata(key: "camera") { kind legend codes values }
      features { feature count points }
    }
  }
}"""

SPACES = "query($id: ID!) { embeddingSpaces(datasetId: $id) { name dimension version vectorCount } }"


def vectors(count: int, dimension: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=6.0, size=(3, dimension))
    return (centres[np.arange(count) % 3] + rng.normal(size=(count, dimension))).astype(np.float32)


def vector_lines(prefix: str, data: np.ndarray) -> list[dict[str, Any]]:
    return [{"dataRow": {"globalKey": f"{prefix}-{i}"}, "vector": v.tolist()} for i, v in enumerate(data)]


def floats(packed: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(packed), dtype="<f4")


def uint32s(packed: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(packed), dtype="<u4")


def request(api: Api, **fields: Any) -> dict[str, Any]:
    answer: dict[str, Any] = api.data(REQUEST, input=fields)["requestProjection"]
    return answer


def projection(api: Api, run_id: str, projection_id: str) -> dict[str, Any]:
    found: dict[str, Any] = api.data(PROJECTION, run=run_id, id=projection_id)["modelRun"]["projection"]
    return found


def wait_for_state(api: Api, run_id: str, projection_id: str, state: str, timeout: float = 300.0) -> dict[str, Any]:
    """Poll until the state (a wait that runs out fails the test; nothing is timed)."""
    deadline = time.monotonic() + timeout
    while True:
        found = projection(api, run_id, projection_id)
        if found["state"] == state:
            return found
        assert found["state"] != "FAILED", found["error"]
        assert time.monotonic() < deadline, f"projection still {found['state']} ({found['stage']})"
        time.sleep(0.2)
