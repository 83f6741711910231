"""Reading NDJSON upload lines: collect every error, record nothing unless all are valid."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TypeVar

import orjson

from domain.annotations.chunking import ObjectTooLarge
from domain.errors import AnnotationLineError, LineError, ValidationFailed
from domain.storable import may_be_unstorable, value_problem

T = TypeVar("T")

# Enough to fix a file in one go without an answer the size of the upload.
MAX_REPORTED_ERRORS = 100
# Rows per chunk event for plain row records (ids, keys, splits): ~100 bytes each.
ROWS_PER_CHUNK = 2_000


def decode_lines(lines: Iterable[bytes]) -> Iterator[tuple[int, Any]]:
    """(line number, decoded object) for each non-blank line; numbering starts at 1.

    A line holding a value no read model could store (see domain.storable) is refused here,
    by its item, before any line of the upload is recorded."""
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            decoded = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise AnnotationLineError(number, f"not valid JSON ({exc})") from None
        if may_be_unstorable(raw) and (problem := value_problem(decoded, "")) is not None:
            raise AnnotationLineError(number, problem)
        yield number, decoded


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a bulk upload builds its objects.

    A million parsed predictions are a million new container objects; the collector
    would walk them again and again as they pile up (measured: it triples parse time),
    and none of them form cycles. Commands that build many take it as a decorator,
    `@collector_paused()`, each call pausing it anew.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@contextmanager
def lines_of_rows(line_of: Callable[[], Mapping[str, int]]) -> Iterator[None]:
    """While an upload's rows are cut into chunks: an annotation too big for any chunk is
    refused as an error of its row's (first) line; `line_of` gives them, asked only then."""
    try:
        yield
    except ObjectTooLarge as exc:
        raise AnnotationLineError(line_of()[exc.row_id], exc.message) from None


class ErrorCollector:
    """Collects line errors so one answer lists them all (up to a bound)."""

    def __init__(self) -> None:
        self.errors: list[LineError] = []

    def attempt(self, line: int, step: Callable[[], T]) -> T | None:
        try:
            return step()
        except ValidationFailed as exc:
            self.add_from(exc, line)
            return None

    def passes(self, line: int, check: Callable[[], None]) -> bool:
        """Runs a check that returns nothing and raises ValidationFailed on a bad line:
        whether it passed (its errors are collected when not)."""
        try:
            check()
        except ValidationFailed as exc:
            self.add_from(exc, line)
            return False
        return True

    def add_from(self, exc: ValidationFailed, line: int) -> None:
        found = list(getattr(exc, "errors", None) or [])
        self.errors.extend(found or [LineError(line, _unnumbered(line, exc.message))])

    def add(self, line: int, message: str) -> None:
        self.errors.append(LineError(line, _unnumbered(line, message)))

    @property
    def full(self) -> bool:
        return len(self.errors) >= MAX_REPORTED_ERRORS

    def raise_if_any(self, what: str) -> None:
        if self.errors:
            errors = sorted(self.errors, key=lambda e: e.line)[:MAX_REPORTED_ERRORS]
            first = errors[0]
            raise ValidationFailed(
                f"{what} rejected: {len(self.errors)} invalid line(s); first: line {first.line}: {first.message}",
                errors=errors,
            )


def _unnumbered(line: int, message: str) -> str:
    """A line error's message without its line number: the answer gives the number in
    its own field, and the summary puts it in front ("line 3: ..."), once."""
    prefix = f"line {line}: "
    return message[len(prefix) :] if message.startswith(prefix) else message


def in_chunks(items: list[T], size: int = ROWS_PER_CHUNK) -> Iterator[list[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
