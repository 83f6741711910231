"""The server's API keys, for whoever holds a read-write key."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from domain.errors import Forbidden
from schema.context import Context
from schema.types.api_key import ApiKey


@strawberry.type
class ApiKeyQueries:
    @strawberry.field(description="Every API key of the server, revoked ones too, oldest first (read-write keys only).")
    async def api_keys(self, info: Info[Context, None]) -> list[ApiKey]:
        key = info.context.api_key
        if key is None or key.read_only:
            raise Forbidden(f"API key {key.name if key else ''!r} is read-only; listing API keys needs a read-write key")
        app = info.context.app
        keys, uses = await info.context.read(lambda: (app.api_keys(), app.key_uses.last_uses()))
        return [ApiKey.from_aggregate(k, uses.get(k.id)) for k in keys]
