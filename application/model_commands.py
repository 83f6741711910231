"""Commands on models and their ontologies."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from application.ledger import LedgerCore
from domain.models import Model


class ModelCommands(LedgerCore):
    def create_model(
        self, name: str, tools: list[dict[str, Any]], classifications: list[dict[str, Any]], actor: str
    ) -> Model:
        model = Model(name=name, actor=actor)
        model.extend_ontology(tools=tools, classifications=classifications, actor=actor)
        self.store(model)
        return model

    def rename_model(self, model_id: UUID, name: str, actor: str) -> Model:
        return self.change(Model, model_id, "model", lambda model: model.rename(name=name, actor=actor))

    def extend_ontology(
        self, model_id: UUID, tools: list[dict[str, Any]], classifications: list[dict[str, Any]], actor: str
    ) -> Model:
        return self.change(
            Model, model_id, "model",
            lambda model: model.extend_ontology(tools=tools, classifications=classifications, actor=actor),
        )  # fmt: skip

    def delete_model(self, model_id: UUID, actor: str) -> Model:
        return self.change(Model, model_id, "model", lambda model: model.delete(actor=actor))
