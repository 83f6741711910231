"""`GET /export/runs/{runId}?format=&version=&confidence=&iou=`: a run as a file, the one
`modelledger export run` writes (docs/formats.md §4).

There is one implementation of the exports, the Python client's `modelledger_client.exports`,
and it reads through the GraphQL API. So the route runs it in a worker thread with a client
of this very app: the client's requests loop back in process (`Loopback`), on the server's
event loop, carrying the caller's key. Every read the export makes is the read a remote
client would make, with the same answers and errors.

The files are written into a temporary directory; the answer is the NDJSON file, or a zip of
the directory's files. The directory is removed once the answer is sent, or refused.
"""

from __future__ import annotations

import math
import re
import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
import anyio.from_thread
import anyio.to_thread
import httpx
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from routes.auth import bearer_secret, caller

if TYPE_CHECKING:
    from modelledger_client import ModelRun

# Exports at once; each holds a worker thread of its own limiter while the reads it makes
# take threads of the default one, so many exports cannot starve the requests they wait on.
EXPORT_THREADS = 4
# The base URL of the loopback client: never resolved, the requests stay in process.
LOOPBACK_URL = "http://modelledger.export"
MEDIA_TYPES = {"ndjson": "application/x-ndjson"}
ZIP = "application/zip"


class Loopback(httpx.BaseTransport):
    """A synchronous httpx transport that sends each request into an ASGI app on the event
    loop of the anyio worker thread it is used from."""

    def __init__(self, app: ASGIApp) -> None:
        self._asgi = httpx.ASGITransport(app=app)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        return anyio.from_thread.run(self._send, request.method, request.url, request.headers, body)

    async def _send(self, method: str, url: httpx.URL, headers: httpx.Headers, body: bytes) -> httpx.Response:
        response = await self._asgi.handle_async_request(httpx.Request(method, url, headers=headers, content=body))
        try:
            raw = b"".join([chunk async for chunk in response.aiter_raw()])
        finally:
            await response.aclose()
        return httpx.Response(response.status_code, headers=response.headers, content=raw)


class Refused(Exception):
    def __init__(self, status: int, messages: list[str]) -> None:
        super().__init__("; ".join(messages))
        self.status = status
        self.messages = messages


class TemporaryFileResponse(FileResponse):
    """A file sent, then its temporary directory removed, whether the sending finished or not."""

    def __init__(self, path: Path, directory: Path, **kwargs: Any) -> None:
        super().__init__(path, **kwargs)
        self.directory = directory

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            await anyio.to_thread.run_sync(_remove, self.directory)


async def export_route(request: Request) -> Response:
    key = await caller(request)
    if isinstance(key, Response):
        return key
    secret = bearer_secret(request.headers.get("authorization"))
    assert secret is not None  # a key was found by it
    try:
        from modelledger_client.exports import FORMATS
    except ImportError:
        return _error(501, "exports need the Python client installed beside the server: pip install ./clients/python")
    try:
        export_format, version, confidence, iou = _parameters(request, FORMATS)
    except Refused as exc:
        return _errors(exc)
    run_id = request.path_params["run_id"]
    directory = Path(await anyio.to_thread.run_sync(lambda: tempfile.mkdtemp(prefix="modelledger-export-")))

    def write() -> tuple[ModelRun, Path]:
        return _write(request.app, secret, run_id, version, export_format, confidence, iou, directory)

    try:
        run, path = await anyio.to_thread.run_sync(write, limiter=_limiter(request))
    except Refused as exc:
        await anyio.to_thread.run_sync(_remove, directory)
        return _errors(exc)
    except BaseException:
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(_remove, directory)
        raise
    extension = "ndjson" if export_format == "ndjson" else f"{export_format}.zip"
    return TemporaryFileResponse(
        path,
        directory,
        media_type=MEDIA_TYPES.get(export_format, ZIP),
        filename=f"{_file_name(run)}-v{run.version}.{extension}",
    )


def export_routes() -> list[Route]:
    return [Route("/export/runs/{run_id}", export_route, methods=["GET"])]


def _parameters(request: Request, formats: tuple[str, ...]) -> tuple[str, int | None, float, float]:
    """The query's format, version, confidence and iou; a refusal names each bad one."""
    query = request.query_params
    problems = []
    export_format = query.get("format", "ndjson")
    if export_format not in formats:
        problems.append(f"format: {export_format!r} is not one of {', '.join(formats)}")
    version = None
    if query.get("version") not in (None, ""):
        try:
            version = int(query["version"])
        except ValueError:
            problems.append(f"version: {query['version']!r} is not a whole number")
    grid = []
    for name in ("confidence", "iou"):
        try:
            value = float(query.get(name) or 0.5)
            if not math.isfinite(value):
                raise ValueError(value)
        except ValueError:
            problems.append(f"{name}: {query[name]!r} is not a number")
            value = 0.5
        grid.append(value)
    if problems:
        raise Refused(400, problems)
    return export_format, version, grid[0], grid[1]


def _write(
    app: ASGIApp,
    secret: str,
    run_id: str,
    version: int | None,
    export_format: str,
    confidence: float,
    iou: float,
    directory: Path,
) -> tuple[ModelRun, Path]:
    """Runs in a worker thread: the export through a loopback client; the file to send."""
    from modelledger_client import Client, ModelLedgerError, NotFoundError, ValidationError
    from modelledger_client.exports import export_run

    with Client(LOOPBACK_URL, secret, transport=Loopback(app)) as client:
        try:
            run = client.get_model_run(run_id, version)
        except ValidationError as exc:
            # The only thing the run's own read can refuse is its version: one it never had.
            raise Refused(404, [e.message for e in exc.errors] or [exc.message]) from exc
        except NotFoundError as exc:
            raise Refused(404, [exc.message]) from exc
        try:
            output = directory / ("run.ndjson" if export_format == "ndjson" else "files")
            written = export_run(client, run, export_format, output, confidence, iou, progress=False)
        except NotFoundError as exc:
            raise Refused(404, [exc.message]) from exc
        except ValidationError as exc:
            raise Refused(400, [e.message for e in exc.errors] or [exc.message]) from exc
        except ModelLedgerError as exc:
            raise Refused(exc.status or 500, [exc.message]) from exc
    if export_format == "ndjson":
        return run, written[0]
    archive = directory / "export.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as files:
        for path in written:
            files.write(path, path.name)
    return run, archive


def _limiter(request: Request) -> anyio.CapacityLimiter:
    state = request.app.state
    limiter: anyio.CapacityLimiter | None = getattr(state, "export_limiter", None)
    if limiter is None:
        limiter = state.export_limiter = anyio.CapacityLimiter(EXPORT_THREADS)
    return limiter


def _file_name(run: ModelRun) -> str:
    """The run's name as a safe file name, else its id."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", run.name).strip("._") or run.id


def _remove(directory: Path) -> None:
    shutil.rmtree(directory, ignore_errors=True)


def _errors(exc: Refused) -> JSONResponse:
    return JSONResponse({"errors": [{"message": m} for m in exc.messages]}, status_code=exc.status)


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"errors": [{"message": message}]}, status_code=status)
