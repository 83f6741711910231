"""An API key as the keys' list shows it: never its secret (only its hash is stored)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from domain.api_keys import ApiKey as ApiKeyAggregate


@strawberry.type(description="An API key of this server (its secret was shown once, at creation).")
class ApiKey:
    id: strawberry.ID
    name: str = strawberry.field(description="Recorded as the actor of every change the key makes.")
    read_only: bool
    revoked: bool
    created_at: datetime
    created_by: str = strawberry.field(description="Who made it: a key's name, or the command that did.")
    last_used_at: datetime | None = strawberry.field(
        default=None, description="When a request last used it (to within a few seconds); null: never."
    )

    @classmethod
    def from_aggregate(cls, key: ApiKeyAggregate, last_used_at: datetime | None = None) -> ApiKey:
        return cls(
            id=strawberry.ID(str(key.id)),
            name=key.name,
            read_only=bool(key.read_only),
            revoked=bool(key.revoked),
            created_at=key.created_on,
            created_by=getattr(key, "created_by", ""),
            last_used_at=last_used_at,
        )
