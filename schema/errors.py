"""Expected failures as data: each mutation answers its payload or one of these types.

A client switches on `__typename` (or `code`) and shows `message` as is. Anything that is
not a domain error is a bug: it becomes a masked GraphQL error instead (see limits.py).
"""

from __future__ import annotations

from enum import Enum

import strawberry

from domain.errors import Conflict, DomainError, Forbidden, NotFound, ValidationFailed


@strawberry.enum
class ErrorCode(Enum):
    NOT_FOUND = "NOT_FOUND"
    VALIDATION = "VALIDATION"
    CONFLICT = "CONFLICT"
    FORBIDDEN = "FORBIDDEN"


@strawberry.interface(description="An expected failure, reported as data.")
class UserError:
    code: ErrorCode
    message: str


@strawberry.type(description="The id names nothing that exists (or it was deleted).")
class NotFoundError(UserError):
    pass


@strawberry.type(description="One line of a bulk input that was rejected; lines count from 1.")
class LineError:
    line: int
    message: str


@strawberry.type(description="The input was rejected; nothing of it was recorded.")
class ValidationError(UserError):
    line_errors: list[LineError]


@strawberry.type(
    description="The object changed since the version the client based its write on: "
    "read it again and retry."
)
class ConflictError(UserError):
    pass


@strawberry.type(description="The API key may not do this (e.g. a read-only key writing).")
class ForbiddenError(UserError):
    pass


AnyUserError = NotFoundError | ValidationError | ConflictError | ForbiddenError


def user_error(exc: DomainError) -> AnyUserError:
    """The typed error for a domain error (an unknown kind is reported as VALIDATION)."""
    if isinstance(exc, NotFound):
        return NotFoundError(code=ErrorCode.NOT_FOUND, message=exc.message)
    if isinstance(exc, Conflict):
        return ConflictError(code=ErrorCode.CONFLICT, message=exc.message)
    if isinstance(exc, Forbidden):
        return ForbiddenError(code=ErrorCode.FORBIDDEN, message=exc.message)
    errors = exc.errors if isinstance(exc, ValidationFailed) else []
    return ValidationError(
        code=ErrorCode.VALIDATION,
        message=exc.message,
        line_errors=[LineError(line=e.line, message=e.message) for e in errors],
    )


def forbidden(message: str) -> ForbiddenError:
    return ForbiddenError(code=ErrorCode.FORBIDDEN, message=message)
