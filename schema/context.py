"""What every resolver gets: the running ledger, the caller's API key, per-request loaders."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.extensions import SchemaExtension

from application.ledger import AlreadyAnswered, Answering
from domain.api_keys import ApiKey
from domain.errors import Conflict, DomainError
from schema.errors import AnyUserError, forbidden, user_error
from schema.limits import Limits, check_page_size
from schema.loaders import Loaders
from schema.run_event_feed import RunEventFeed

if TYPE_CHECKING:
    from application import ModelLedger
    from projections import ReadModels
    from runtime import Runtime

T = TypeVar("T")


@dataclass
class Context:
    runtime: Runtime
    limits: Limits
    feed: RunEventFeed
    request: Request | WebSocket
    response: Response | WebSocket | None = None
    # Set by the HTTP authentication, or by `connection_init` on a websocket.
    api_key: ApiKey | None = None
    # strawberry stores the websocket `connection_init` payload here.
    connection_params: dict[str, Any] | None = None
    loaders: Loaders = field(init=False)
    # An HTTP mutation's idempotency record, saved with its write (routes/idempotent_mutations.py).
    answering: Answering | None = None
    # Items the pages of the current operation asked for (Limits.max_items_per_request).
    page_items: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        self.loaders = Loaders(self.runtime.read_models)

    @property
    def app(self) -> ModelLedger:
        return self.runtime.app

    @property
    def read_models(self) -> ReadModels:
        return self.runtime.read_models

    def page_size(self, first: int | None) -> int:
        """The size of a page asked with `first`, counted against the operation's budget."""
        size = check_page_size(first, self.limits, self.page_items)
        self.page_items += size
        return size

    async def read(self, query: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a read-model query off the event loop (the read models are synchronous)."""
        return await anyio.to_thread.run_sync(partial(query, *args, **kwargs))

    async def write(self, command: Callable[[str], T]) -> T | AnyUserError:
        """Run a command as the caller, then wait until the read models show it.

        The command gets the actor (the API key's name) to record. A read-only key gets
        FORBIDDEN; a domain error becomes its typed error.
        """
        key = self.api_key
        if key is None or key.read_only:
            name = "this request" if key is None else f"API key {key.name!r}"
            return forbidden(f"{name} is read-only; writing needs a read-write API key")
        def run(actor: str) -> tuple[T, list[tuple[int, str]]]:
            self.app.forget_saved_here()
            with self.app.answering(self.answering) if self.answering is not None else nullcontext():
                return command(actor), self.app.saved_here()

        try:
            result, saved = await anyio.to_thread.run_sync(run, key.name)
        except DomainError as exc:
            return user_error(exc)
        except AlreadyAnswered:  # a copy of this request was recorded first: its answer is given instead
            return user_error(Conflict("a request with this Idempotency-Key was recorded first"))
        await anyio.to_thread.run_sync(self._catch_up, saved)
        return result

    def _catch_up(self, saved: list[tuple[int, str]]) -> None:
        """Wait until the read models that take this request's own events show them (not
        what others save meanwhile: background results may be streaming in), within the
        limit; the write is recorded either way (ReadModels.show_written)."""
        self.read_models.show_written(saved, self.limits.read_model_wait_seconds)


class FreshLoaders(SchemaExtension):
    """New DataLoaders for every operation.

    Over HTTP each request has its own context anyway; a websocket keeps one context for
    the whole connection, and its loaders' caches would otherwise serve stale objects to
    later operations on it.
    """

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context.context
        if isinstance(context, Context):
            context.loaders = Loaders(context.runtime.read_models)
            context.page_items = 0
        yield
