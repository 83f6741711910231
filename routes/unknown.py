"""Requests no route takes: answered in JSON, like every other refusal of the API, naming
the method and the path (a browser's GET of an unknown address gets the web app instead)."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response


async def not_a_route(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 404
    headers = dict(exc.headers or {}) if isinstance(exc, HTTPException) else {}
    allowed = headers.get("Allow")
    message = (
        f"{request.method} {request.url.path} is not taken by this server"
        + (f": this path takes {allowed}" if status == 405 and allowed else "")
    )
    return JSONResponse({"errors": [{"message": message}]}, status_code=status, headers=headers)


EXCEPTION_HANDLERS = {404: not_a_route, 405: not_a_route}
