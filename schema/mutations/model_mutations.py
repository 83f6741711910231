"""Mutations on models and their ontologies."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types import Info

from schema.context import Context
from schema.errors import UserError
from schema.ids import parse_id
from schema.mutations.results import result_union
from schema.types.model import ClassificationKind, Model, Tool


@strawberry.input(description="A classification question; its answers become features.")
class ClassificationInput:
    name: str
    kind: ClassificationKind
    answers: list[str] | None = None
    answer_options: list[AnswerInput] | None = strawberry.field(
        default=None, description="Answers with nested questions (added after `answers`)."
    )

    def to_dict(self) -> dict[str, Any]:
        answers: list[Any] = list(self.answers or [])
        answers += [option.to_dict() for option in self.answer_options or []]
        return {"name": self.name, "kind": self.kind.value, "answers": answers}


@strawberry.input
class AnswerInput:
    name: str
    classifications: list[ClassificationInput] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "classifications": [c.to_dict() for c in self.classifications or []]}


@strawberry.input(description="An object tool; nested questions ask about each object.")
class ToolInput:
    name: str
    tool: Tool
    classifications: list[ClassificationInput] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "tool": self.tool.value,
            "classifications": [c.to_dict() for c in self.classifications or []],
        }


@strawberry.input
class OntologyInput:
    tools: list[ToolInput] = strawberry.field(default_factory=list)
    classifications: list[ClassificationInput] = strawberry.field(default_factory=list)

    def parts(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        return [t.to_dict() for t in self.tools], [c.to_dict() for c in self.classifications]


@strawberry.input
class CreateModelInput:
    name: str
    ontology: OntologyInput


@strawberry.input
class RenameModelInput:
    model_id: strawberry.ID
    name: str


@strawberry.input(description="Features to add; existing features keep their ids.")
class ExtendOntologyInput:
    model_id: strawberry.ID
    ontology: OntologyInput


@strawberry.input
class DeleteModelInput:
    model_id: strawberry.ID


@strawberry.type
class ModelPayload:
    model: Model
    version: int


@strawberry.type
class CreateModelPayload(ModelPayload):
    pass


@strawberry.type
class RenameModelPayload(ModelPayload):
    pass


@strawberry.type
class ExtendOntologyPayload(ModelPayload):
    pass


@strawberry.type
class DeleteModelPayload(ModelPayload):
    pass


CreateModelResult = result_union("CreateModelResult", CreateModelPayload)
RenameModelResult = result_union("RenameModelResult", RenameModelPayload)
ExtendOntologyResult = result_union("ExtendOntologyResult", ExtendOntologyPayload)
DeleteModelResult = result_union("DeleteModelResult", DeleteModelPayload)


@strawberry.type
class ModelMutations:
    @strawberry.mutation
    async def create_model(self, info: Info[Context, None], input: CreateModelInput) -> CreateModelResult:  # noqa: A002
        app = info.context.app
        tools, classifications = input.ontology.parts()
        done = await info.context.write(lambda actor: app.create_model(input.name, tools, classifications, actor))
        if isinstance(done, UserError):
            return done
        return CreateModelPayload(model=Model.from_aggregate(done), version=done.version)

    @strawberry.mutation
    async def rename_model(self, info: Info[Context, None], input: RenameModelInput) -> RenameModelResult:  # noqa: A002
        app = info.context.app
        done = await info.context.write(
            lambda actor: app.rename_model(parse_id(input.model_id, "model"), input.name, actor)
        )
        if isinstance(done, UserError):
            return done
        return RenameModelPayload(model=Model.from_aggregate(done), version=done.version)

    @strawberry.mutation
    async def extend_ontology(self, info: Info[Context, None], input: ExtendOntologyInput) -> ExtendOntologyResult:  # noqa: A002
        app = info.context.app
        tools, classifications = input.ontology.parts()
        done = await info.context.write(
            lambda actor: app.extend_ontology(parse_id(input.model_id, "model"), tools, classifications, actor)
        )
        if isinstance(done, UserError):
            return done
        return ExtendOntologyPayload(model=Model.from_aggregate(done), version=done.version)

    @strawberry.mutation(description="Delete a model (recorded; its history stays).")
    async def delete_model(self, info: Info[Context, None], input: DeleteModelInput) -> DeleteModelResult:  # noqa: A002
        app = info.context.app
        done = await info.context.write(lambda actor: app.delete_model(parse_id(input.model_id, "model"), actor))
        if isinstance(done, UserError):
            return done
        return DeleteModelPayload(model=Model.from_aggregate(done), version=done.version)
