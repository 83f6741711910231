"""Per-request limits of the GraphQL API, on by default.

They bound what one request can make the server do: how deep and wide a query may reach
(depth, aliases, tokens) and how many items one page may hold.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from graphql import GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    MaskErrors,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
    ValidationCache,
)

from domain.errors import DomainError

# Distinct query texts whose parse and validation are kept; clients send few distinct ones.
CACHED_QUERIES = 512


@dataclass(frozen=True)
class Limits:
    # The deepest query a client needs (modelRun → history → edges → node → summary) is 5;
    # introspection fields do not count.
    max_depth: int = 10
    max_aliases: int = 30
    max_tokens: int = 5_000
    max_page_size: int = 1_000
    default_page_size: int = 100
    # Items all the pages of one request may hold together (each page counts its `first`,
    # once per object it is asked on): 29 aliases of a 1,000-row page with labels once
    # answered 579 MB and took the server to 6.6 GB.
    max_items_per_request: int = 5_000
    # The largest answer sent over HTTP: past it the answer is an error asking for less.
    # With the items' limit it bounds what a request may take: a row's labels and
    # predictions are unbounded by item counts alone.
    max_answer_bytes: int = 64 * 1024**2
    # How long a mutation waits for the read models to show its write before answering.
    read_model_wait_seconds: float = 10.0


def is_internal(error: GraphQLError) -> bool:
    """Mask everything a resolver raised by accident; keep what is meant for the client.

    Errors without an original exception come from parsing and validation (syntax, depth,
    aliases, tokens, unknown fields) or were raised as GraphQLError on purpose (a page too
    large); domain errors carry a message written for the user.
    """
    original = error.original_error
    if original is None or isinstance(original, GraphQLError | DomainError):
        return False
    return True


def limit_extensions(limits: Limits) -> list[Callable[[], SchemaExtension]]:
    """Factories: strawberry makes fresh extensions for every operation.

    The depth and alias rules are made once and shared, so that the validation of a query
    text seen before is answered from the cache (its key includes the rule classes, and
    each limiter makes new ones). Parsing is cached too; both caches are bounded.
    """
    rules = [
        *QueryDepthLimiter(max_depth=limits.max_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=limits.max_aliases).validation_rules,
    ]
    return [
        lambda: MaxTokensLimiter(max_token_count=limits.max_tokens),
        lambda: ParserCache(maxsize=CACHED_QUERIES),
        lambda: AddValidationRules(rules),
        lambda: ValidationCache(maxsize=CACHED_QUERIES),
        lambda: MaskErrors(should_mask_error=is_internal, error_message="Internal error."),
    ]


def check_page_size(first: int | None, limits: Limits, asked_before: int = 0) -> int:
    """The size of a page asked with `first`, when the request's pages asked for
    `asked_before` items before it; GraphQLError past either limit."""
    size = limits.default_page_size if first is None else first
    if not 0 <= size <= limits.max_page_size:
        raise GraphQLError(f"first must be between 0 and {limits.max_page_size}, got {first}")
    if asked_before + size > limits.max_items_per_request:
        raise GraphQLError(
            f"this request asks for more than {limits.max_items_per_request} items in all its pages "
            f"({asked_before} before this page of {size}): ask for fewer, or page through with `after`"
        )
    return size
