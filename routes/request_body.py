"""Reading request bodies within a size limit: from Content-Length first, then while streaming."""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterator

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import Message, Receive

from domain.errors import ValidationFailed

# Decompressed at most this much at a time, so a small bomb cannot fill the memory at once.
_INFLATE_STEP = 1 << 20


class BodyTooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"the request body is larger than {limit} bytes")
        self.limit = limit


def too_large(exc: BodyTooLarge) -> JSONResponse:
    return JSONResponse({"errors": [{"message": str(exc)}]}, status_code=413)


def check_declared_length(request: Request, limit: int) -> None:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(limit)


async def limited_stream(request: Request, limit: int) -> AsyncIterator[bytes]:
    """The body's chunks as they arrive; BodyTooLarge as soon as they pass `limit`.

    Content-Length may be absent (chunked encoding) or wrong, so the bytes are counted.
    """
    check_declared_length(request, limit)
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > limit:
            raise BodyTooLarge(limit)
        if chunk:
            yield chunk


class UnsupportedBody(Exception):
    """A body the route cannot read as sent (415)."""


def unsupported(exc: UnsupportedBody) -> JSONResponse:
    return JSONResponse({"errors": [{"message": str(exc)}]}, status_code=415)


def check_bulk_body(request: Request) -> bool:
    """Whether a bulk body (NDJSON bytes) comes gzip-compressed; UnsupportedBody for an
    encoding other than gzip or identity, and for a form (the file must be the body)."""
    encoding = request.headers.get("content-encoding", "").strip().lower()
    if encoding not in ("", "identity", "gzip", "x-gzip"):
        raise UnsupportedBody(
            f"Content-Encoding {encoding!r} is not supported: send the body as it is, or gzip-compressed "
            "with Content-Encoding: gzip"
        )
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type.startswith("multipart/"):
        raise UnsupportedBody(
            f"Content-Type {content_type!r}: send the NDJSON file's bytes as the body itself "
            "(curl --data-binary @file.ndjson), not as a form"
        )
    return encoding in ("gzip", "x-gzip")


async def gunzipped(chunks: AsyncIterator[bytes], limit: int) -> AsyncIterator[bytes]:
    """The decompressed bytes of a gzip stream; BodyTooLarge once they pass `limit`."""
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    produced = 0
    try:
        async for chunk in chunks:
            pending = chunk
            while pending:
                piece = inflater.decompress(pending, _INFLATE_STEP)
                pending = inflater.unconsumed_tail
                produced += len(piece)
                if produced > limit:
                    raise BodyTooLarge(limit)
                if piece:
                    yield piece
        rest = inflater.flush()
    except zlib.error as exc:
        raise ValidationFailed(f"the body is not valid gzip ({exc})") from None
    if not inflater.eof:
        raise ValidationFailed("the gzip body ends before its end")
    if rest:
        yield rest


async def read_limited(request: Request, limit: int) -> bytes:
    return b"".join([chunk async for chunk in limited_stream(request, limit)])


def replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` that hands an already read body to the next ASGI app, then passes on
    what the client sends next (its disconnect)."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replayed
