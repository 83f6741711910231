"""A model: its ontology and its runs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from modelledger_client.dataset import Dataset
from modelledger_client.errors import NotFoundError
from modelledger_client.run import ERRORS, ModelRun
from modelledger_client.run import FIELDS as RUN_FIELDS
from modelledger_client.session import PAGE_INFO, Session
from modelledger_client.tables import Feature, Table, parse_table, selection

FIELDS = f"id name version createdAt ontology {{ features {{ {selection(Feature)} }} }}"
GET = f"query($id: ID!) {{ model(id: $id) {{ {FIELDS} }} }}"
RUNS = f"""query($id: ID!, $first: Int, $after: String) {{ model(id: $id) {{
  modelRuns(first: $first, after: $after) {{ {PAGE_INFO} nodes {{ {RUN_FIELDS} }} }} }} }}"""
CREATE_RUN = f"""mutation($input: CreateModelRunInput!) {{
  createModelRun(input: $input) {{ ... on CreateModelRunPayload {{ modelRun {{ {RUN_FIELDS} }} }} {ERRORS} }} }}"""


@dataclass(frozen=True)
class Model:
    """A snapshot of a model; `features` is its ontology, flattened (answers included)."""

    session: Session = field(repr=False, compare=False)
    id: str
    name: str
    version: int
    created_at: str
    features: Table[Feature]

    @classmethod
    def parse(cls, session: Session, data: dict[str, Any]) -> Model:
        features = parse_table(Feature, data["ontology"]["features"])
        return cls(session, data["id"], data["name"], data["version"], data["createdAt"], features)

    @classmethod
    def load(cls, session: Session, model_id: str) -> Model:
        found = session.transport.graphql(GET, {"id": model_id})["model"]
        if found is None:
            raise NotFoundError(f"model {model_id!r} not found")
        return cls.parse(session, found)

    def refresh(self) -> Model:
        return self.load(self.session, self.id)

    def create_model_run(
        self,
        name: str,
        dataset: Dataset | str | None = None,
        global_keys: list[str] | None = None,
        data_row_ids: list[str] | None = None,
        splits: dict[str, Any] | None = None,
    ) -> ModelRun:
        """A run over rows of `dataset` (a Dataset or its id): all of them, or those named
        by global key or id. `splits` is a SplitsInput: {"train", "validate", "test", "seed"}
        ratios, or {"assignments": [{"dataRow", "split"}]}."""
        payload = {
            "modelId": self.id,
            "name": name,
            "datasetId": dataset.id if isinstance(dataset, Dataset) else dataset,
            "globalKeys": global_keys,
            "dataRowIds": data_row_ids,
            "splits": splits,
        }
        answer = self.session.transport.mutate(CREATE_RUN, "createModelRun", {"input": payload})
        return ModelRun.parse(self.session, answer["modelRun"])

    def model_runs(self, page_size: int = 100) -> list[ModelRun]:
        """The model's runs, oldest first."""
        nodes = self.session.pages(RUNS, {"id": self.id}, lambda d: _model(d, self.id)["modelRuns"], page_size)
        return [ModelRun.parse(self.session, node) for node in nodes]


def _model(data: dict[str, Any], model_id: str) -> dict[str, Any]:
    model: dict[str, Any] | None = data["model"]
    if model is None:
        raise NotFoundError(f"model {model_id!r} not found")
    return model
