"""Bulk uploads in chunks: each chunk is one all-or-nothing request, retried when its
outcome is unknown (a network error) or when it lost a race (409), with a progress bar.

Repeating a chunk is harmless on every route but data rows: metadata merges, labels and
predictions replace, custom metrics and vectors keep the newest value. A data-row chunk
repeated after its first attempt landed is refused line by line ("already exists"); the
`reconcile` hook of that route decides which of those lines are in fact done."""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

import httpx
from tqdm import tqdm

from modelledger_client.errors import ConflictError, ModelLedgerError, NetworkError, ValidationError
from modelledger_client.ndjson import Line, Source, body, chunks, numbered_lines, source_length
from modelledger_client.tables import UploadResult
from modelledger_client.transport import RetryPolicy, Transport

# Given a chunk's lines and its refusal after a repeat, the lines still to send (or raise).
Reconcile = Callable[[list[Line], ValidationError], list[Line]]


@dataclass(frozen=True)
class ChunkSize:
    """How much one request carries: whichever limit is reached first."""

    lines: int = 5_000
    bytes: int = 8 * 1024**2


@dataclass(frozen=True)
class Upload:
    """One bulk upload: where it goes and how its lines are grouped and reconciled."""

    route: str
    what: str
    group: Callable[[Line], Hashable] | None = None
    reconcile: Reconcile | None = None


class Uploader:
    def __init__(self, transport: Transport, retry: RetryPolicy, chunk_size: ChunkSize) -> None:
        self.transport = transport
        self.retry = retry
        self.chunk_size = chunk_size

    def upload(self, upload: Upload, source: Source, progress: bool = True) -> UploadResult:
        accepted = requests = 0
        version: int | None = None
        lines = numbered_lines(source)
        with tqdm(total=source_length(source), unit="rows", desc=upload.what, disable=not progress) as bar:
            try:
                for chunk in chunks(lines, self.chunk_size.lines, self.chunk_size.bytes, upload.group):
                    answer = self._send(upload, chunk)
                    accepted += len(chunk)
                    requests += answer is not None
                    version = answer["version"] if answer is not None else version
                    bar.update(len(chunk))
            except (ValidationError, NetworkError) as exc:
                # Raised with what the earlier chunks recorded, so the caller knows where to resume.
                exc.accepted = accepted
                raise
        if accepted == 0:
            raise ValidationError(f"the {upload.what} upload holds no line")
        return UploadResult(accepted, requests, version)

    def _send(self, upload: Upload, lines: list[Line]) -> dict[str, Any] | None:
        """Send one chunk until it is recorded: its answer, or None if a reconcile found
        every line already recorded by an earlier attempt."""
        failures = 0
        uncertain = False  # an attempt may have been recorded without us hearing so
        problem: Exception
        while True:
            try:
                return self.transport.post_ndjson(upload.route, body(lines), [line.number for line in lines])
            except httpx.TransportError as exc:
                uncertain, problem = True, exc
            except ConflictError as exc:
                problem = exc
            except ValidationError as exc:
                if not uncertain or upload.reconcile is None:
                    raise
                lines = upload.reconcile(lines, exc)
                if not lines:
                    return None
                problem = exc
            failures += 1
            if failures >= self.retry.attempts:
                if isinstance(problem, ModelLedgerError):
                    raise problem
                raise NetworkError(f"{upload.what} upload failed {failures} times: {problem!r}") from problem
            time.sleep(self.retry.delay(failures))
