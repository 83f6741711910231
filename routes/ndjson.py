"""Streaming an NDJSON request body into a synchronous command, line by line.

The command runs in a worker thread and pulls the body through a plain iterator; each pull
fetches the next chunk from the event loop. So the body is never held whole: a line is
decoded as soon as it has arrived, and only what the command keeps stays in memory.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any

import anyio.from_thread

from domain.errors import AnnotationLineError


def pull(stream: AsyncIterator[bytes]) -> Iterator[bytes]:
    """The chunks of an async stream, for code running in an anyio worker thread."""

    async def next_chunk() -> bytes | None:
        try:
            return await anext(stream)
        except StopAsyncIteration:
            return None

    while (chunk := anyio.from_thread.run(next_chunk)) is not None:
        yield chunk


def split_lines(chunks: Iterable[bytes], max_line_bytes: int) -> Iterator[bytes]:
    """Every line of the stream (blank ones too, so numbering matches the file)."""
    pending: list[bytes] = []
    pending_size = 0
    number = 0
    for chunk in chunks:
        parts = chunk.split(b"\n")
        if len(parts) == 1:
            pending.append(chunk)
            pending_size += len(chunk)
            if pending_size > max_line_bytes:
                raise _too_long(number + 1, max_line_bytes)
            continue
        if pending:
            parts[0] = b"".join(pending) + parts[0]
        last = parts.pop()
        pending, pending_size = ([last], len(last)) if last else ([], 0)
        for line in parts:
            number += 1
            if len(line) > max_line_bytes:
                raise _too_long(number, max_line_bytes)
            yield line
    if pending:
        yield b"".join(pending)


def _too_long(line: int, limit: int) -> AnnotationLineError:
    return AnnotationLineError(line, f"the line is longer than {limit} bytes")


class Counted:
    """Passes (line number, object) pairs through and counts them."""

    def __init__(self, items: Iterable[tuple[int, Any]]) -> None:
        self._items = items
        self.count = 0

    def __iter__(self) -> Iterator[tuple[int, Any]]:
        for item in self._items:
            self.count += 1
            yield item
