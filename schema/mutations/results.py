"""What a mutation answers: its payload (the object and its new version) or a typed error."""

from __future__ import annotations

from typing import Annotated, Any, Union

import strawberry

from schema.errors import ConflictError, ForbiddenError, NotFoundError, ValidationError


def result_union(name: str, payload: type) -> Any:
    """`union <name> = <payload> | NotFoundError | ValidationError | ConflictError | ForbiddenError`.

    Every mutation lists every error type, so a client's `... on UserError` covers all and
    a mutation that starts failing in a new way needs no schema change.
    """
    return Annotated[
        Union[payload, NotFoundError, ValidationError, ConflictError, ForbiddenError],  # noqa: UP007
        strawberry.union(name),
    ]
