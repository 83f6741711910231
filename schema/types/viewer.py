"""The caller: the API key a request is made with, so a client can tell what it may do."""

from __future__ import annotations

import strawberry

from domain.api_keys import ApiKey


@strawberry.type(description="The API key this request is made with.")
class Viewer:
    name: str
    read_only: bool = strawberry.field(description="True: queries only; every write is FORBIDDEN.")

    @classmethod
    def from_key(cls, key: ApiKey) -> Viewer:
        return cls(name=key.name, read_only=bool(key.read_only))
