"""Creating and revoking API keys over GraphQL (read-write keys only; the list: schema/api_key_queries.py)."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from routes.auth import api_keys
from schema.context import Context
from schema.errors import UserError
from schema.ids import parse_id
from schema.mutations.results import result_union
from schema.types.api_key import ApiKey


@strawberry.input
class CreateApiKeyInput:
    name: str = strawberry.field(description="Unique among the keys not revoked.")
    read_only: bool = False


@strawberry.input
class RevokeApiKeyInput:
    key_id: strawberry.ID


@strawberry.type
class CreateApiKeyPayload:
    api_key: ApiKey
    secret: str = strawberry.field(description="The key to send as 'Authorization: Bearer <secret>'; shown only here.")


@strawberry.type
class RevokeApiKeyPayload:
    api_key: ApiKey


CreateApiKeyResult = result_union("CreateApiKeyResult", CreateApiKeyPayload)
RevokeApiKeyResult = result_union("RevokeApiKeyResult", RevokeApiKeyPayload)


@strawberry.type
class ApiKeyMutations:
    @strawberry.mutation(description="A new API key; its secret is in the answer, and nowhere else.")
    async def create_api_key(self, info: Info[Context, None], input: CreateApiKeyInput) -> CreateApiKeyResult:  # noqa: A002
        app = info.context.app
        done = await info.context.write(lambda actor: app.create_api_key(input.name, input.read_only, actor))
        if isinstance(done, UserError):
            return done
        key, secret = done
        return CreateApiKeyPayload(api_key=ApiKey.from_aggregate(key), secret=secret)

    @strawberry.mutation(description="Revoke a key: refused at once by this server, within 5 s by others.")
    async def revoke_api_key(self, info: Info[Context, None], input: RevokeApiKeyInput) -> RevokeApiKeyResult:  # noqa: A002
        app = info.context.app
        done = await info.context.write(lambda actor: app.revoke_api_key(parse_id(input.key_id, "API key"), actor))
        if isinstance(done, UserError):
            return done
        api_keys(info.context.request).forget(done)
        return RevokeApiKeyPayload(api_key=ApiKey.from_aggregate(done))
