"""A model: a container of model runs, with the ontology they are judged against."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from domain.models import Model as ModelAggregate
from domain.ontology import Ontology as DomainOntology
from domain.ontology_features import ClassificationKind as DomainClassificationKind
from domain.ontology_features import Tool as DomainTool
from projections.records import ModelRecord
from schema.context import Context
from schema.pagination import Connection, connection
from schema.types.node import Node
from schema.types.slice import SavedSlice

if TYPE_CHECKING:
    from schema.types.model_run import ModelRun

# The domain's enums, marked as GraphQL enums in place (as schema.types.data_row's Split):
# the names are bound to the classes, so that annotations can name them as types.
strawberry.enum(DomainTool, name="Tool", description="The object tool of a feature.")
strawberry.enum(DomainClassificationKind, name="ClassificationKind")
Tool = DomainTool
ClassificationKind = DomainClassificationKind


@strawberry.enum(description="What a feature is: an object tool, an answer, or a free-text question.")
class FeatureKind(Enum):
    BBOX = "BBOX"
    POLYGON = "POLYGON"
    MASK = "MASK"
    POINT = "POINT"
    POLYLINE = "POLYLINE"
    NER = "NER"
    ANSWER = "ANSWER"
    TEXT = "TEXT"


@strawberry.type(description='A feature of the ontology; answers are named "<question>/<answer>".')
class Feature:
    id: strawberry.ID = strawberry.field(description="Stable: kept when the ontology is extended.")
    name: str
    kind: FeatureKind
    question: str | None = strawberry.field(description="The question of an answer or text feature.")


@strawberry.type(description="A classification question, possibly nested under a feature.")
class Question:
    id: strawberry.ID
    name: str
    kind: ClassificationKind
    parent: str | None = strawberry.field(description="The feature it is nested under, if any.")
    answers: list[str]


@strawberry.type
class Ontology:
    features: list[Feature]
    questions: list[Question]


def ontology_of(ontology: DomainOntology) -> Ontology:
    return Ontology(
        features=[
            Feature(id=strawberry.ID(f.id), name=f.name, kind=FeatureKind(str(f.kind)), question=f.question)
            for f in ontology.features
        ],
        questions=[
            Question(id=strawberry.ID(q.id), name=q.name, kind=q.kind, parent=q.parent, answers=list(q.answers))
            for q in ontology.questions
        ],
    )


@strawberry.type
class Model(Node):
    id: strawberry.ID
    name: str
    version: int
    created_at: datetime
    ontology: Ontology

    @strawberry.field(description="The model's runs, oldest first.")
    async def model_runs(
        self, info: Info[Context, None], first: int | None = None, after: str | None = None
    ) -> Connection[Annotated[ModelRun, strawberry.lazy("schema.types.model_run")]]:
        from schema.types.model_run import ModelRun

        ctx = info.context
        size = ctx.page_size(first)
        page = await ctx.read(ctx.read_models.model_runs, str(self.id), first=size, after=after)
        return connection(page, ModelRun.from_record, after)

    @strawberry.field(description="The model's saved slices, by name.")
    async def saved_slices(self, info: Info[Context, None]) -> list[SavedSlice]:
        ctx = info.context
        records = await ctx.read(ctx.read_models.slices.slices_of_model, str(self.id))
        return [SavedSlice.from_record(r) for r in records]

    @classmethod
    def from_record(cls, record: ModelRecord) -> Model:
        return cls(
            id=strawberry.ID(record.id),
            name=record.name,
            version=record.version,
            created_at=record.created_at,
            ontology=ontology_of(DomainOntology.from_dict(record.ontology)),
        )

    @classmethod
    def from_aggregate(cls, model: ModelAggregate) -> Model:
        return cls(
            id=strawberry.ID(str(model.id)),
            name=model.name,
            version=model.version,
            created_at=model.created_on,
            ontology=ontology_of(model.ontology),
        )

