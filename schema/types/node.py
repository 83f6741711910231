"""The Relay Node interface: any object with an id `node(id)` can find again."""

from __future__ import annotations

import strawberry


@strawberry.interface(description="An object with an id unique across all kinds of objects.")
class Node:
    id: strawberry.ID
