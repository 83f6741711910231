"""Typed errors: one class per kind of refusal, whether it came from an upload route (an
HTTP status) or from GraphQL (a typed error in the data, or a GraphQL error)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class LineError:
    """One refused line. `line` counts from 1 over the whole file or iterable that was
    uploaded (blank lines included); None for a refusal not tied to one line."""

    line: int | None
    message: str


class ModelLedgerError(Exception):
    """Base of every error this client raises; `status` is the HTTP status when there is one."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class AuthenticationError(ModelLedgerError):
    """No API key, or one the server does not know (HTTP 401, websocket close 4403)."""


class ForbiddenError(ModelLedgerError):
    """The key may not do this: a read-only key writing (HTTP 403, GraphQL FORBIDDEN)."""


class NotFoundError(ModelLedgerError):
    """The id names nothing that exists, or it was deleted (HTTP 404, GraphQL NOT_FOUND)."""


class ConflictError(ModelLedgerError):
    """Another write got there first (HTTP 409, GraphQL CONFLICT): read again and retry."""


class ValidationError(ModelLedgerError):
    """The input was refused and nothing of it recorded.

    `errors` lists every refused line the server named. For a chunked upload, `accepted`
    counts the lines recorded by the chunks sent before the refused one."""

    def __init__(
        self,
        message: str,
        errors: tuple[LineError, ...] = (),
        status: int | None = None,
        accepted: int = 0,
    ) -> None:
        super().__init__(_with_lines(message, errors), status)
        self.errors = errors
        self.accepted = accepted


class NetworkError(ModelLedgerError):
    """The server could not be reached, retries included; for a chunked upload, `accepted`
    counts the lines recorded before."""

    def __init__(self, message: str, accepted: int = 0) -> None:
        super().__init__(message)
        self.accepted = accepted


class MetricsFailedError(ModelLedgerError):
    """The run's metric computation failed; `retry_metrics()` resumes it."""

    def __init__(self, message: str, pending_data_rows: int) -> None:
        super().__init__(message)
        self.pending_data_rows = pending_data_rows


class MetricsTimeoutError(ModelLedgerError, TimeoutError):
    """The run's metrics were still computing when the wait ran out."""

    def __init__(self, message: str, pending_data_rows: int | None) -> None:
        super().__init__(message)
        self.pending_data_rows = pending_data_rows


_BY_CODE: dict[str, type[ModelLedgerError]] = {
    "NOT_FOUND": NotFoundError,
    "CONFLICT": ConflictError,
    "FORBIDDEN": ForbiddenError,
}

_BY_STATUS: dict[int, type[ModelLedgerError]] = {
    401: AuthenticationError,
    403: ForbiddenError,
    404: NotFoundError,
    409: ConflictError,
}


def from_user_error(result: dict[str, Any]) -> ModelLedgerError:
    """The exception for a GraphQL typed error (`... on UserError { code message }`)."""
    code, message = result["code"], result["message"]
    if code in _BY_CODE:
        return _BY_CODE[code](message)
    lines = tuple(LineError(e["line"], e["message"]) for e in result.get("lineErrors") or ())
    return ValidationError(message, lines)


def from_graphql_errors(errors: list[dict[str, Any]]) -> ValidationError:
    """GraphQL errors (a malformed query, a value off the metric grid, a page too large)."""
    messages = tuple(LineError(None, str(e.get("message", e))) for e in errors)
    summary = messages[0].message if len(messages) == 1 else "the query was refused"
    return ValidationError(summary, messages)


def from_response(
    status: int, body: Any, offset: list[int] | None = None, refused: str = "the upload was refused"
) -> ModelLedgerError:
    """The exception for a refused HTTP answer `{"errors": [{"line"?, "message"}]}`.

    `offset` maps a line of the request body (from 1) to its line in the caller's file;
    `refused` heads the message of a ValidationError (400, 422)."""
    raw = body.get("errors") if isinstance(body, dict) else None
    errors = tuple(_line_error(e, offset) for e in raw) if isinstance(raw, list) else ()
    message = "; ".join(e.message for e in errors) if errors else f"HTTP {status}: {body!r}"
    if status in _BY_STATUS:
        return _BY_STATUS[status](message, status)
    if status in (400, 422):
        return ValidationError(refused, errors, status)
    return ModelLedgerError(message, status)


def _line_error(raw: Any, offset: list[int] | None) -> LineError:
    if not isinstance(raw, dict):
        return LineError(None, str(raw))
    line = raw.get("line")
    if isinstance(line, int) and offset is not None and 1 <= line <= len(offset):
        line = offset[line - 1]
    return LineError(line if isinstance(line, int) else None, str(raw.get("message", raw)))


def _with_lines(message: str, errors: tuple[LineError, ...]) -> str:
    """The message shown in a traceback names the lines, so a log says what to fix."""
    shown = [f"line {e.line}: {e.message}" if e.line is not None else e.message for e in errors]
    if not shown or shown == [message]:
        return message
    return message + ":\n  " + "\n  ".join(shown)
