"""What every object of the client shares: the transport and the uploader, plus keyset
paging over GraphQL connections."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from modelledger_client.transport import Transport
from modelledger_client.uploads import Uploader

PAGE_INFO = "totalCount pageInfo { hasNextPage endCursor }"


@dataclass(frozen=True)
class Session:
    transport: Transport
    uploader: Uploader

    def pages(
        self,
        query: str,
        variables: dict[str, Any],
        connection: Callable[[dict[str, Any]], dict[str, Any]],
        page_size: int,
    ) -> Iterator[dict[str, Any]]:
        """Every node of a connection, one page per request. `query` takes `$first` and
        `$after`; `connection` finds the connection in the answer's data."""
        after: str | None = None
        while True:
            page = connection(self.transport.graphql(query, {**variables, "first": page_size, "after": after}))
            yield from page["nodes"]
            if not page["pageInfo"]["hasNextPage"]:
                return
            after = page["pageInfo"]["endCursor"]
