"""The web app: its committed production build (see web/), served at `/`.

Built files live in `build/`: `index.html` (the app), `graphiql.html` (GraphiQL, served at
GET /graphql by routes/graphql.py) and `static/` (hashed bundles). Every other path that no
earlier route takes gets `index.html`, so the app's own addresses (/models/…, /runs/…/gallery)
load it and the app shows its own "page not found". Paths the server owns are never answered
with the app: they get a plain 404 when nothing earlier took them.
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

BUILD = Path(__file__).resolve().parent / "build"
INDEX = BUILD / "index.html"
GRAPHIQL = BUILD / "graphiql.html"

# Prefixes of the server's own routes: the app never stands in for them.
SERVER_PATHS = ("/graphql", "/upload", "/assets", "/health", "/ready", "/static")

# index.html names the current bundles: it must be fetched again after an upgrade.
NO_CACHE = {"Cache-Control": "no-cache"}


class HashedFiles(StaticFiles):
    """Bundles whose names carry their content hash: cacheable for good."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if response.status_code == 200:
            response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        return response


async def app_page(request: Request) -> Response:
    path = request.url.path
    if any(path == prefix or path.startswith(prefix + "/") for prefix in SERVER_PATHS):
        return PlainTextResponse("Not Found", status_code=404)
    if not INDEX.is_file():
        return PlainTextResponse("The web app is not built: run `make ui`.", status_code=404)
    return FileResponse(INDEX, headers=NO_CACHE)


def web_app_routes() -> list[BaseRoute]:
    """Add these last: the page route takes every GET path the others left."""
    return [
        Mount("/static", app=HashedFiles(directory=BUILD / "static", check_dir=False), name="static"),
        Route("/{path:path}", app_page, methods=["GET", "HEAD"]),
    ]
