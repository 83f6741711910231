"""Hypothesis strategies shared by the fuzzers: GraphQL value nodes aimed at seeded objects,
and odd JSON values."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import graphql
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis_graphql import nodes

from tests.fuzz.seed import Seeded

# Text with everything a client can send: NUL, controls, astral characters, right-to-left marks.
TEXT = st.text(st.characters(codec="utf-8"), max_size=40)
NAME = st.from_regex(r"[_A-Za-z][_0-9A-Za-z]{0,8}", fullmatch=True)
BIG_INTS = st.sampled_from([2**31, -(2**31) - 1, 2**63 - 1, 2**63, -(2**63) - 1, 10**30])


def _json_node(
    leaves: st.SearchStrategy[graphql.ValueNode],
) -> st.SearchStrategy[graphql.ValueNode]:
    return st.recursive(
        leaves,
        lambda children: (
            st.lists(children, max_size=4).map(nodes.List)
            | st.lists(st.tuples(NAME, children), max_size=4, unique_by=lambda pair: pair[0]).map(
                lambda pairs: nodes.Object(
                    [
                        graphql.ObjectFieldNode(name=graphql.NameNode(value=k), value=v)
                        for k, v in pairs
                    ]
                )
            )
        ),
        max_leaves=12,
    )


def graphql_scalars(seeded: Seeded) -> dict[str, st.SearchStrategy[graphql.ValueNode]]:
    """Value nodes for every scalar of the schema: real ids and names often, anything else too."""
    # The dataset, model, run, slice and projection most often: the roots of most arguments.
    ids = st.one_of(
        st.sampled_from(seeded.root_ids),
        st.sampled_from(seeded.root_ids),
        st.sampled_from(seeded.ids),
    )
    names = st.sampled_from(seeded.names)
    strings = st.one_of(
        names, names, ids, TEXT, st.just(""), st.text(max_size=2_000).map(lambda s: s * 3)
    )
    # GraphQL's Int is 32 bits: a larger literal only fails validation, before any resolver.
    ints = st.one_of(st.integers(-2, 12), st.integers(-2, 12), st.integers(-(2**31), 2**31 - 1))
    floats = st.one_of(
        # The run's thresholds (a grid point must be one), anything in [0, 1], anything at all.
        st.sampled_from([i / 10 for i in range(11)]),
        st.floats(0, 1),
        st.floats(allow_nan=False, allow_infinity=False),
    )
    json_ints = st.one_of(ints, BIG_INTS, st.integers())
    leaves: st.SearchStrategy[graphql.ValueNode] = st.one_of(
        strings.map(nodes.String),
        json_ints.map(nodes.Int),
        floats.map(nodes.Float),
        st.booleans().map(nodes.Boolean),
        st.just(graphql.NullValueNode()),
    )
    return {
        "ID": st.one_of(ids, ids, ids, ids, TEXT, st.uuids().map(str)).map(nodes.String),
        "String": strings.map(nodes.String),
        "Int": ints.map(nodes.Int),
        "Float": floats.map(nodes.Float) | ints.map(nodes.Int),
        "JSON": _json_node(leaves),
        "DateTime": st.one_of(
            st.datetimes().map(lambda d: d.isoformat()), st.just("2024-02-30T25:61:00Z"), TEXT
        ).map(nodes.String),
    }


def json_values(seeded_values: list[Any]) -> st.SearchStrategy[Any]:
    """JSON-ready Python values, odd ones included; pairs with orjson or json.dumps."""
    leaves = st.one_of(
        st.sampled_from(seeded_values),
        st.none(),
        st.booleans(),
        st.integers(),
        BIG_INTS,
        st.floats(allow_nan=False, allow_infinity=False),
        TEXT,
    )
    return st.recursive(
        leaves,
        lambda children: (
            st.lists(children, max_size=4) | st.dictionaries(TEXT, children, max_size=4)
        ),
        max_leaves=10,
    )


class _OneOfInputs(graphql.Visitor):
    """Keeps one field of each @oneOf input object (FilterClause): the generator fills them
    like any input object, and the server would refuse each one before any resolver runs."""

    def __init__(self, type_info: graphql.TypeInfo) -> None:
        super().__init__()
        self.type_info = type_info

    def enter_object_value(
        self, node: graphql.ObjectValueNode, *_: object
    ) -> graphql.ObjectValueNode | None:
        input_type = graphql.get_nullable_type(self.type_info.get_input_type())
        if not isinstance(input_type, graphql.GraphQLInputObjectType) or not input_type.is_one_of:
            return None
        if len(node.fields) <= 1:
            return None
        given = [
            field for field in node.fields if not isinstance(field.value, graphql.NullValueNode)
        ]
        return graphql.ObjectValueNode(fields=tuple((given or list(node.fields))[:1]))


def printer(schema: graphql.GraphQLSchema) -> Callable[[graphql.DocumentNode], str]:
    """print_ast for hypothesis-graphql, with every @oneOf input object made valid."""

    def print_valid(document: graphql.DocumentNode) -> str:
        type_info = graphql.TypeInfo(schema)
        fixed = graphql.visit(document, graphql.TypeInfoVisitor(type_info, _OneOfInputs(type_info)))
        return graphql.print_ast(fixed)

    return print_valid


def budget(examples: int) -> settings:
    """A fixed number of examples, the same ones on every run."""
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    )
