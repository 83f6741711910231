"""Asset files of data rows, kept by the server under its media root.

    PUT /upload/datasets/{datasetId}/assets/{path}   the body is the file (read-write key)
    GET /assets/{datasetId}/{path}                   the file (any key)

A file lives at `<media root>/<datasetId>/<path>`; `/assets/<datasetId>/<path>` (the path
URL-encoded) is what a data row's rowData holds to point at it. An upload streams to a temp
file beside the datasets' directories and is renamed into place only once it is whole, so a
refused or broken upload leaves nothing behind and a reader never sees half a file.

Errors are `{"errors": [{"message"}]}`: 400 a path that could leave the dataset's directory
(or a datasetId that is not a dataset id), 401 no key, 403 read-only key, 404 no such
dataset or file, 409 the path is taken by a directory (or runs through a file), 413 too
large, 503 no media root configured.
"""

from __future__ import annotations

import mimetypes
import os
import stat
import tempfile
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO
from urllib.parse import quote
from uuid import UUID

import anyio.to_thread
from starlette.requests import ClientDisconnect, Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from domain.data_rows import ASSET_PREFIX, asset_path_error
from domain.datasets import Dataset
from domain.errors import NotFound
from routes.auth import caller
from routes.request_body import BodyTooLarge, check_declared_length, limited_stream, too_large
from schema.ids import try_parse_id

if TYPE_CHECKING:
    from runtime import Runtime

# Not a dataset id, so no GET can reach a file still being written.
PARTIAL_DIR = ".partial"
# Body chunks are gathered up to this size before each write (one worker thread per write).
WRITE_BYTES = 1024**2
# Uploaded HTML or SVG must not run scripts with the web app's origin.
SERVED_HEADERS = {
    "Cache-Control": "private, no-cache",
    "Content-Security-Policy": "sandbox",
    "X-Content-Type-Options": "nosniff",
}


@dataclass(frozen=True)
class AssetSettings:
    # None turns the asset routes off (an external database and no MODELLEDGER_MEDIA_ROOT).
    media_root: Path | None = None
    max_body_bytes: int = 2 * 1024**3


class AssetRefused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class AssetFile:
    dataset_id: UUID
    path: str  # decoded, `/`-separated, checked
    home: Path  # the dataset's directory
    file: Path  # resolved, inside `home`

    @property
    def row_data(self) -> str:
        return f"{ASSET_PREFIX}{self.dataset_id}/{quote(self.path)}"

    @property
    def content_type(self) -> str:
        return mimetypes.guess_type(self.path)[0] or "application/octet-stream"


def locate(media_root: Path, dataset_id: str, path: str) -> AssetFile:
    """The file `path` of a dataset, or AssetRefused(400) if it could lie outside the
    dataset's directory (symbolic links included)."""
    parsed = try_parse_id(dataset_id)
    if parsed is None:
        raise AssetRefused(400, f"{dataset_id!r} is not a dataset id")
    problem = asset_path_error(path)
    if problem is not None:
        raise AssetRefused(400, problem)
    home = media_root.resolve() / str(parsed)
    try:
        file = (home / path).resolve()
    except (OSError, RuntimeError):  # a loop of symbolic links, for one
        raise AssetRefused(400, f"asset path {path!r} cannot be resolved") from None
    if not file.is_relative_to(home) or file == home:
        raise AssetRefused(400, f"asset path {path!r} leads outside dataset {parsed}'s directory")
    return AssetFile(parsed, path, home, file)


async def serve_asset(request: Request) -> Response:
    try:
        key = await caller(request)
        if isinstance(key, Response):
            return key
        asset = await _locate(request, _media_root(request))
        found = await anyio.to_thread.run_sync(_regular_file_stat, asset.file)
        if found is None:
            raise AssetRefused(404, f"asset {asset.path!r} of dataset {asset.dataset_id} not found")
    except AssetRefused as exc:
        return _error(exc.status, exc.message)
    response = FileResponse(asset.file, media_type=asset.content_type, headers=SERVED_HEADERS, stat_result=found)
    if _not_modified(request, response):
        kept = ("etag", "last-modified", *(name.lower() for name in SERVED_HEADERS))
        return Response(status_code=304, headers={k: response.headers[k] for k in kept})
    return response


async def upload_asset(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    settings: AssetSettings = request.app.state.asset_settings
    key = await caller(request, write=True)
    if isinstance(key, Response):
        return key
    try:
        root = _media_root(request)
        asset = await _locate(request, root)
        try:
            await anyio.to_thread.run_sync(runtime.app.load, Dataset, asset.dataset_id, "dataset")
        except NotFound as exc:
            raise AssetRefused(404, exc.message) from None
        check_declared_length(request, settings.max_body_bytes)
        size, replaced = await _receive(request, root, asset, settings.max_body_bytes)
    except AssetRefused as exc:
        return _error(exc.status, exc.message)
    except BodyTooLarge as exc:
        return too_large(exc)
    return JSONResponse(
        {"rowData": asset.row_data, "bytes": size, "contentType": asset.content_type},
        status_code=200 if replaced else 201,
    )


async def _locate(request: Request, root: Path) -> AssetFile:
    # Resolving touches the disk, and the media root may be a network share.
    dataset_id, path = request.path_params["dataset_id"], request.path_params["path"]
    return await anyio.to_thread.run_sync(locate, root, dataset_id, path)


def asset_routes() -> list[Route]:
    return [
        Route("/upload/datasets/{dataset_id}/assets/{path:path}", upload_asset, methods=["PUT"]),
        Route("/assets/{dataset_id}/{path:path}", serve_asset, methods=["GET"]),
    ]


async def _receive(request: Request, root: Path, asset: AssetFile, limit: int) -> tuple[int, bool]:
    """Stream the body into a temp file, then rename it over `asset.file`: (bytes, replaced)."""
    fd, temp = await anyio.to_thread.run_sync(_temp_file, root.resolve() / PARTIAL_DIR)
    try:
        with os.fdopen(fd, "wb") as out:
            size = await _write_body(request, out, limit)
            await anyio.to_thread.run_sync(lambda: (out.flush(), os.fsync(out.fileno())))
        return size, await anyio.to_thread.run_sync(_move_into_place, temp, asset)
    finally:
        # Refused, disconnected or failed: the temp file goes (after a rename it is gone).
        temp.unlink(missing_ok=True)


async def _write_body(request: Request, out: BinaryIO, limit: int) -> int:
    size = 0
    pending: list[bytes] = []
    pending_bytes = 0
    try:
        async for chunk in limited_stream(request, limit):
            pending.append(chunk)
            pending_bytes += len(chunk)
            if pending_bytes >= WRITE_BYTES:
                await anyio.to_thread.run_sync(out.write, b"".join(pending))
                size += pending_bytes
                pending, pending_bytes = [], 0
    except ClientDisconnect:
        raise AssetRefused(400, "the client went away before the whole file was sent") from None
    if pending:
        await anyio.to_thread.run_sync(out.write, b"".join(pending))
    return size + pending_bytes


def _temp_file(directory: Path) -> tuple[int, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=directory, suffix=".part")
    # mkstemp makes the file private to its owner; a served file is an ordinary one.
    os.fchmod(fd, 0o644)
    return fd, Path(name)


def _move_into_place(temp: Path, asset: AssetFile) -> bool:
    try:
        asset.file.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise AssetRefused(409, f"asset path {asset.path!r} runs through a file") from None
    # Checked again now that the directories exist: a link placed meanwhile must not win.
    if not asset.file.parent.resolve().is_relative_to(asset.home):
        raise AssetRefused(400, f"asset path {asset.path!r} leads outside dataset {asset.dataset_id}'s directory")
    if asset.file.is_dir():
        raise AssetRefused(409, f"asset path {asset.path!r} is a directory")
    replaced = asset.file.exists()
    os.replace(temp, asset.file)
    return replaced


def _regular_file_stat(file: Path) -> os.stat_result | None:
    try:
        found = file.stat()
    except OSError:  # absent, or not reachable as a file (a loop of links, a file as a directory)
        return None
    return found if stat.S_ISREG(found.st_mode) else None


def _not_modified(request: Request, response: FileResponse) -> bool:
    """The client's copy is current (RFC 9110 §13.1: If-None-Match wins over If-Modified-Since)."""
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:
        tags = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
        return "*" in tags or response.headers["etag"] in tags
    since = request.headers.get("if-modified-since")
    if since is None:
        return False
    try:
        return parsedate_to_datetime(since) >= parsedate_to_datetime(response.headers["last-modified"])
    except (TypeError, ValueError):
        return False


def _media_root(request: Request) -> Path:
    settings: AssetSettings = request.app.state.asset_settings
    if settings.media_root is None:
        raise AssetRefused(
            503, "asset files are off on this server: set MODELLEDGER_MEDIA_ROOT to a directory every server shares"
        )
    return settings.media_root


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"errors": [{"message": message}]}, status_code=status)
