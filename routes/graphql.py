"""GraphQL over HTTP and websockets (graphql-transport-ws), behind API keys and a body limit;
mutations over HTTP take an `Idempotency-Key` (routes/idempotent_mutations.py)."""

from __future__ import annotations

import json
from datetime import timedelta

import orjson
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.schema import BaseSchema
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types.unset import UnsetType

from domain.errors import ValidationFailed
from routes.auth import api_keys, refusal, unauthorized
from routes.idempotency import idempotency_of
from routes.idempotent_mutations import ANSWERING, answer_once, takes_idempotency_key
from routes.request_body import BodyTooLarge, read_limited, replay, too_large
from routes.web_app import GRAPHIQL
from schema.context import Context
from schema.limits import Limits

API_KEY = "modelledger.api_key"


class GraphQLRoute(GraphQL[Context, None]):
    def __init__(self, schema: BaseSchema, limits: Limits, max_body_bytes: int, graphiql: bool = True) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql" if graphiql else None,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            # A client that never sends connection_init holds a socket for nothing.
            connection_init_wait_timeout=timedelta(seconds=10),
        )
        self.limits = limits
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            # Websockets authenticate in connection_init (on_ws_connect below).
            await super().__call__(scope, receive, send)
            return
        request = Request(scope, receive)
        if self._is_ide_page(request):
            # The page itself is public; the queries it sends carry the key as a header.
            await super().__call__(scope, receive, send)
            return
        key = await api_keys(request).authenticate(request.headers.get("authorization"))
        if key is None:
            await unauthorized(request.headers.get("authorization"))(scope, receive, send)
            return
        try:
            body = await read_limited(request, self.max_body_bytes)
        except BodyTooLarge as exc:
            await too_large(exc)(scope, receive, send)
            return
        scope[API_KEY] = key
        try:
            idempotency = idempotency_of(request, str(key.id)) if request.method == "POST" else None
            if idempotency is not None and not takes_idempotency_key(body):
                idempotency = None  # a query: safe to repeat as it is
        except ValidationFailed as exc:
            await JSONResponse({"errors": [{"message": exc.message}]}, status_code=400)(scope, receive, send)
            return
        execute = super().__call__
        if idempotency is None:
            await execute(scope, replay(body, receive), send)
            return

        async def run(captured: Send) -> None:
            await execute(scope, replay(body, receive), captured)

        await answer_once(
            request.app.state.runtime.app, idempotency, body, run, self.limits.read_model_wait_seconds, scope, receive, send
        )

    def encode_json(self, data: object) -> str:
        """The answer as JSON; an HTTP answer over Limits.max_answer_bytes becomes an error
        that says so (websocket messages are not such answers). Text, not bytes: the
        websocket transport sends bytes as binary frames, which its clients do not read."""
        encoded = _json(data)
        limit = self.limits.max_answer_bytes
        if len(encoded) > limit and isinstance(data, dict) and "data" in data:
            message = (
                f"the answer would be {len(encoded)} bytes, more than the {limit} one answer may hold: "
                "ask for fewer items or fields, or page through with `after`"
            )
            encoded = _json({"data": None, "errors": [{"message": message}]})
        return encoded.decode()

    def _is_ide_page(self, request: Request) -> bool:
        return self.graphql_ide is not None and self.should_render_graphql_ide(
            self.request_adapter_class(request)
        )

    async def render_graphql_ide(self, request: Request) -> Response:
        """GraphiQL from the web app's build (web/graphiql.html): every script is served here,
        none from a CDN, so it works offline."""
        if not GRAPHIQL.is_file():
            return PlainTextResponse("GraphiQL is not built: run `make ui`.", status_code=404)
        return HTMLResponse(GRAPHIQL.read_text(encoding="utf-8"), headers={"Cache-Control": "no-cache"})

    async def get_context(self, request: Request | WebSocket, response: Response | WebSocket) -> Context:
        state = request.app.state
        return Context(
            runtime=state.runtime,
            limits=self.limits,
            feed=state.run_event_feed,
            request=request,
            response=response,
            api_key=request.scope.get(API_KEY),
            answering=request.scope.get(ANSWERING),
        )

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        params = context.connection_params or {}
        authorization = params.get("authorization", params.get("Authorization"))
        key = await api_keys(context.request).authenticate(authorization)
        if key is None:
            # Closes the socket with 4403 before anything is acknowledged.
            message = (
                "an API key is required in connection_init: {\"authorization\": \"Bearer <key>\"}"
                if authorization is None
                else refusal(authorization)
            )
            raise ConnectionRejectionError({"message": message})
        context.api_key = key
        return await super().on_ws_connect(context)


def _json(data: object) -> bytes:
    """orjson: a confusion matrix's thousands of cells take a fifth of the time json takes.
    What it refuses (an integer past 64 bits in a metadata value) goes through json."""
    try:
        return orjson.dumps(data)
    except TypeError:
        return json.dumps(data, separators=(",", ":")).encode()
