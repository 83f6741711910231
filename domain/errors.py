"""The errors the domain raises for expected failures.

The API turns each one into a typed GraphQL error (or a 4xx body for the bulk routes) by its
`code`, so a client can branch on the code and show `message` as is. Anything that is not a
`DomainError` is a bug and is masked by the API.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import ClassVar, Final

# An error message quotes what it refuses; a 10 MB value must not come back as a 10 MB answer.
MAX_MESSAGE: Final = 2_000


def bounded(message: str) -> str:
    """The message, or its start and end around a note of how much was left out."""
    if len(message) <= MAX_MESSAGE:
        return message
    head, tail = MAX_MESSAGE * 3 // 4, MAX_MESSAGE // 8
    return f"{message[:head]} [... {len(message) - head - tail} characters left out ...] {message[-tail:]}"


class DomainError(Exception):
    """An expected failure with a message meant for the user who caused it."""

    code: ClassVar[str] = "DOMAIN"

    def __init__(self, message: str) -> None:
        message = bounded(message)
        super().__init__(message)
        self.message = message


class NotFound(DomainError):
    code: ClassVar[str] = "NOT_FOUND"


class Conflict(DomainError):
    """A write based on a stale version; the client may reload and retry."""

    code: ClassVar[str] = "CONFLICT"


class Forbidden(DomainError):
    code: ClassVar[str] = "FORBIDDEN"


@dataclass(frozen=True, slots=True)
class LineError:
    """What is wrong with one line of a bulk upload; `line` counts from 1."""

    line: int
    message: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "message", bounded(self.message))


class ValidationFailed(DomainError):
    """Bad input. A bulk upload lists every rejected line in `errors` (the 422 body)."""

    code: ClassVar[str] = "VALIDATION"

    def __init__(self, message: str, errors: Iterable[LineError] = ()) -> None:
        super().__init__(message)
        self.errors: list[LineError] = list(errors)


class AnnotationLineError(ValidationFailed):
    """One rejected line of an annotation or prediction upload.

    The line error's message names the item without the line number (the 422 body carries
    the number in its own field); the exception's message prefixes it, e.g.
    "line 7: confidence 1.5 of 'car' is outside [0, 1]".
    """

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}", [LineError(line, message)])
        self.line = line
        self.reason = message
