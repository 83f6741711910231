"""Bulk uploads in chunks: each chunk is one all-or-nothing request, retried when its
outcome is unknown (a network error, a server or proxy unavailable) or when it lost a race
(409), with a progress bar.

Every attempt at a chunk carries the chunk's own `Idempotency-Key`: a repeat of a chunk the
server recorded without the answer reaching us gets that answer back, and records nothing."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

from tqdm import tqdm

from modelledger_client.errors import ConflictError, NetworkError, ValidationError
from modelledger_client.ndjson import Line, Source, body, chunks, numbered_lines, source_length
from modelledger_client.tables import UploadResult
from modelledger_client.transport import RetryPolicy, Transport


@dataclass(frozen=True)
class ChunkSize:
    """How much one request carries: whichever limit is reached first."""

    lines: int = 5_000
    bytes: int = 8 * 1024**2


@dataclass(frozen=True)
class Upload:
    """One bulk upload: where it goes and how its lines are grouped into chunks."""

    route: str
    what: str
    group: Callable[[Line], Hashable] | None = None


class Uploader:
    def __init__(self, transport: Transport, chunk_size: ChunkSize) -> None:
        self.transport = transport
        self.chunk_size = chunk_size

    @property
    def retry(self) -> RetryPolicy:
        return self.transport.retry

    def upload(self, upload: Upload, source: Source, progress: bool = True) -> UploadResult:
        accepted = requests = 0
        version: int | None = None
        lines = numbered_lines(source)
        with tqdm(total=source_length(source), unit="rows", desc=upload.what, disable=not progress) as bar:
            try:
                for chunk in chunks(lines, self.chunk_size.lines, self.chunk_size.bytes, upload.group):
                    answer = self._send(upload, chunk)
                    accepted += len(chunk)
                    requests += 1
                    version = answer["version"]
                    bar.update(len(chunk))
            except (ValidationError, NetworkError) as exc:
                # Raised with what the earlier chunks recorded, so the caller knows where to resume.
                exc.accepted = accepted
                raise
        if accepted == 0:
            raise ValidationError(f"the {upload.what} upload holds no line")
        return UploadResult(accepted, requests, version)

    def _send(self, upload: Upload, lines: list[Line]) -> dict[str, Any]:
        """Send one chunk until it is recorded: its answer."""
        key = uuid.uuid4().hex
        sent = body(lines)
        numbers = [line.number for line in lines]
        return self.transport.repeating(
            lambda: self.transport.post_ndjson(upload.route, sent, numbers, idempotency_key=key),
            f"{upload.what} upload",
            also=(ConflictError,),
        )
