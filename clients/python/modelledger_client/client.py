"""The entry point: a connection to one server with one API key."""

from __future__ import annotations

from collections.abc import Iterator
from types import TracebackType
from typing import Any

import httpx

from modelledger_client.dataset import FIELDS as DATASET_FIELDS
from modelledger_client.dataset import Dataset
from modelledger_client.model import FIELDS as MODEL_FIELDS
from modelledger_client.model import Model
from modelledger_client.run import ERRORS, ModelRun
from modelledger_client.session import PAGE_INFO, Session
from modelledger_client.transport import RetryPolicy, Transport
from modelledger_client.uploads import ChunkSize, Uploader

CREATE_DATASET = f"""mutation($name: String!) {{
  createDataset(input: {{name: $name}}) {{ ... on CreateDatasetPayload {{ dataset {{ {DATASET_FIELDS} }} }} {ERRORS} }} }}"""
CREATE_MODEL = f"""mutation($name: String!, $ontology: OntologyInput!) {{
  createModel(input: {{name: $name, ontology: $ontology}}) {{ ... on CreateModelPayload {{ model {{ {MODEL_FIELDS} }} }} {ERRORS} }} }}"""
DATASETS = f"""query($first: Int, $after: String) {{
  datasets(first: $first, after: $after) {{ {PAGE_INFO} nodes {{ {DATASET_FIELDS} }} }} }}"""
MODELS = f"""query($first: Int, $after: String) {{
  models(first: $first, after: $after) {{ {PAGE_INFO} nodes {{ {MODEL_FIELDS} }} }} }}"""


class Client:
    """A ModelLedger server, reached with one API key.

    `url` and `api_key` default to MODELLEDGER_URL (else http://127.0.0.1:8000) and
    MODELLEDGER_API_KEY. `retry` says how uploads and mutations whose outcome is unknown are sent again; `chunk_size` how much
    one upload request carries; `transport` replaces httpx's (a proxy, a test double)."""

    def __init__(
        self,
        url: str | None = None,
        api_key: str | None = None,
        timeout: float = 120.0,
        *,
        retry: RetryPolicy | None = None,
        chunk_size: ChunkSize | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        connection = Transport(url, api_key, timeout, transport, retry)
        self._session = Session(connection, Uploader(connection, chunk_size or ChunkSize()))

    @property
    def url(self) -> str:
        return self._session.transport.url

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self._session.transport.close()

    def graphql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """Raw access: the answer's data. GraphQL errors raise ValidationError; typed errors
        inside the data are left to the caller."""
        return self._session.transport.graphql(query, variables)

    def create_dataset(self, name: str) -> Dataset:
        answer = self._session.transport.mutate(CREATE_DATASET, "createDataset", {"name": name})
        return Dataset.parse(self._session, answer["dataset"])

    def get_dataset(self, dataset_id: str) -> Dataset:
        return Dataset.load(self._session, dataset_id)

    def datasets(self, page_size: int = 100) -> Iterator[Dataset]:
        """Live datasets, oldest first, a page per request as the iterator is consumed."""
        nodes = self._session.pages(DATASETS, {}, lambda d: d["datasets"], page_size)
        return (Dataset.parse(self._session, node) for node in nodes)

    def create_model(self, name: str, ontology: dict[str, Any]) -> Model:
        """`ontology` is an OntologyInput: {"tools": [{"name", "tool"}], "classifications": [...]}."""
        answer = self._session.transport.mutate(CREATE_MODEL, "createModel", {"name": name, "ontology": ontology})
        return Model.parse(self._session, answer["model"])

    def get_model(self, model_id: str) -> Model:
        return Model.load(self._session, model_id)

    def models(self, page_size: int = 100) -> Iterator[Model]:
        nodes = self._session.pages(MODELS, {}, lambda d: d["models"], page_size)
        return (Model.parse(self._session, node) for node in nodes)

    def get_model_run(self, run_id: str, version: int | None = None) -> ModelRun:
        """A run; with `version`, the run as it was then (every read answers as of it)."""
        return ModelRun.load(self._session, run_id, version)
