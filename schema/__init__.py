"""The GraphQL schema: types, queries, mutations, subscriptions and their limits."""

from __future__ import annotations

import strawberry

from schema.context import FreshLoaders
from schema.limits import Limits, limit_extensions
from schema.mutations import Mutation
from schema.queries import Query
from schema.subscriptions import Subscription
from schema.types.dataset import Dataset
from schema.types.model import Model
from schema.types.model_run import ModelRun


def build_schema(limits: Limits | None = None) -> strawberry.Schema:
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        # Node implementations are reached only through the interface in `node(id)`.
        types=[Dataset, Model, ModelRun],
        extensions=[*limit_extensions(limits or Limits()), FreshLoaders],
    )


__all__ = ["Limits", "build_schema"]
