"""Relay connections: totalCount, pageInfo and edges, filled from a read model's Page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

import strawberry

from projections.records import Page

T = TypeVar("T")


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    node: T
    # The read models give the cursor after a page's last item only, so only the last edge
    # has one; pass pageInfo.endCursor as `after` for the next page.
    cursor: str | None


@strawberry.type
class Connection(Generic[T]):
    total_count: int
    page_info: PageInfo
    edges: list[Edge[T]]

    @strawberry.field(description="The edges' nodes, for clients that need no cursors.")
    def nodes(self) -> list[T]:
        return [edge.node for edge in self.edges]


def connection(page: Page, node: Callable[[Any], T], after: str | None) -> Connection[T]:
    last = len(page.items) - 1
    edges = [
        Edge(node=node(item), cursor=page.end_cursor if i == last else None)
        for i, item in enumerate(page.items)
    ]
    return Connection(
        total_count=page.total_count,
        page_info=PageInfo(
            has_next_page=page.has_next_page,
            has_previous_page=after is not None,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=page.end_cursor,
        ),
        edges=edges,
    )

