"""Slices: named, saved data row filters of a model, usable in any of its runs.

A slice holds a filter, not its members: the slice membership read model
(projections/slice_membership) keeps each slice's members in each run of its model, current
as data, predictions, metrics and metadata change. Names are unique among a model's live
slices; a `SliceName` aggregate per (model, name) records which slice holds a name, so two
requests taking one name at once write the same aggregate and the second is refused by the
event store instead of both succeeding.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Callable, Iterable
from typing import Any, Protocol
from uuid import UUID, uuid4, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import ValidationFailed
from domain.filters import validate_filter
from domain.ontology import Ontology

MIN_NAME = 3
MAX_NAME = 60
# A filter is recorded in its events whole; bounded to keep every event far below the
# size at which the event store's pipelined insert stalls.
MAX_FILTER_BYTES = 200_000

_NAMESPACE = UUID("0d3c6f1e-2a5b-4c8e-9f71-6b2d4e8a1c53")


def check_slice_name(name: Any) -> str:
    """The name as stored: stripped, 3 to 60 characters, no control characters."""
    if not isinstance(name, str):
        raise ValidationFailed(f"slice name must be a string, got {name!r}")
    cleaned = name.strip()
    if any(unicodedata.category(char) == "Cc" for char in cleaned):
        raise ValidationFailed(f"slice name {cleaned!r} has a control character")
    if not MIN_NAME <= len(cleaned) <= MAX_NAME:
        raise ValidationFailed(
            f"slice name {cleaned!r} has {len(cleaned)} characters; "
            f"a slice name has {MIN_NAME} to {MAX_NAME}"
        )
    return cleaned


def check_filter_size(filter_json: dict[str, Any]) -> dict[str, Any]:
    size = len(json.dumps(filter_json, separators=(",", ":")).encode())
    if size > MAX_FILTER_BYTES:
        raise ValidationFailed(
            f"the filter takes {size} bytes as JSON; a slice's filter takes at most {MAX_FILTER_BYTES}"
        )
    return filter_json


class ModelSlices(Protocol):
    """The other slices of the model, as a command sees them."""

    def is_live(self, slice_id: str) -> bool:
        """Whether the id names a live slice of this model."""

    def included_by(self, slice_id: str) -> Iterable[str]:
        """The slice ids that slice's filter includes (none for an unknown slice)."""


def slice_clauses(filter_json: dict[str, Any]) -> list[tuple[int, str]]:
    """(position, slice id) of each slice clause of a filter in normal form."""
    return [
        (position, clause["slice"])
        for position, clause in enumerate(filter_json.get("all") or [], start=1)
        if isinstance(clause.get("slice"), str)
    ]


def check_no_cycle(
    own_slice_id: str, filter_json: dict[str, Any], included_by: Callable[[str], Iterable[str]]
) -> None:
    """A slice may include other slices, but never itself through them.

    `filter_json` is in normal form; `included_by(id)` gives the slice ids that slice's
    filter includes. The error names the clause whose slice leads back to this one.
    """
    for position, first in slice_clauses(filter_json):
        seen: set[str] = set()
        pending = [first]
        while pending:
            current = pending.pop()
            if current == own_slice_id:
                raise ValidationFailed(
                    f"clause {position} (slice): slice {first!r} includes this slice, "
                    "directly or through other slices"
                )
            if current not in seen:
                seen.add(current)
                pending.extend(included_by(current))


def checked_filter(
    filter_json: Any, ontology: Ontology, slices: ModelSlices, slice_id: UUID
) -> dict[str, Any]:
    """The normal form of a filter for the slice `slice_id`, or a ValidationFailed."""
    own = str(slice_id)
    cleaned = validate_filter(filter_json, ontology, slices.is_live, own_slice_id=own)
    check_no_cycle(own, cleaned, slices.included_by)
    return check_filter_size(cleaned)


class Slice(Aggregate):
    """A saved filter. Its events hold the cleaned name and the filter's normal form, so
    their bodies only assign: a rule made stricter later never stops an old log replaying."""

    @event("Created")
    def __init__(
        self,
        id: UUID,  # noqa: A002 (eventsourcing takes the aggregate id by this name)
        model_id: UUID,
        name: str,
        filter: dict[str, Any],  # noqa: A002
        actor: str,
    ) -> None:
        self.model_id = model_id
        self.name = name
        self.filter = filter
        self.deleted = False

    @classmethod
    def new(
        cls, model_id: UUID, name: str, filter_json: Any, ontology: Ontology, slices: ModelSlices, actor: str
    ) -> Slice:
        slice_id = uuid4()
        cleaned_name = check_slice_name(name)
        cleaned = checked_filter(filter_json, ontology, slices, slice_id)
        return cls(id=slice_id, model_id=model_id, name=cleaned_name, filter=cleaned, actor=actor)

    def check_live(self) -> None:
        if self.deleted:
            raise ValidationFailed(f"slice {self.id} is deleted")

    def rename(self, name: str, actor: str) -> None:
        """A new name; the same name again records nothing."""
        self.check_live()
        cleaned = check_slice_name(name)
        if cleaned != self.name:
            self._rename(name=cleaned, actor=actor)

    @event("Renamed")
    def _rename(self, name: str, actor: str) -> None:
        self.name = name

    def update_filter(self, filter_json: Any, ontology: Ontology, slices: ModelSlices, actor: str) -> None:
        """A new filter; the same filter again (in normal form) records nothing."""
        self.check_live()
        cleaned = checked_filter(filter_json, ontology, slices, self.id)
        if cleaned != self.filter:
            self._update_filter(filter=cleaned, actor=actor)

    @event("FilterUpdated")
    def _update_filter(self, filter: dict[str, Any], actor: str) -> None:  # noqa: A002
        self.filter = filter

    def delete(self, actor: str) -> None:
        self.check_live()
        self._delete(actor=actor)

    @event("Deleted")
    def _delete(self, actor: str) -> None:
        self.deleted = True


def slice_name_id(model_id: UUID, name: str) -> UUID:
    return uuid5(_NAMESPACE, f"{model_id}/{name}")


class SliceName(Aggregate):
    """A name of a model's slice and the live slice holding it, if any."""

    @event("Created")
    def __init__(self, model_id: UUID, name: str, slice_id: UUID, actor: str) -> None:
        self.model_id = model_id
        self.name = name
        self.slice_id: UUID | None = slice_id

    @staticmethod
    def create_id(model_id: UUID, name: str, slice_id: UUID, actor: str) -> UUID:
        return slice_name_id(model_id, name)

    def take(self, slice_id: UUID, actor: str) -> None:
        if self.slice_id == slice_id:
            return
        if self.slice_id is not None:
            raise ValidationFailed(duplicate_name(self.model_id, self.name))
        self._take(slice_id=slice_id, actor=actor)

    @event("Taken")
    def _take(self, slice_id: UUID, actor: str) -> None:
        self.slice_id = slice_id

    def release(self, slice_id: UUID, actor: str) -> None:
        if self.slice_id == slice_id:
            self._release(actor=actor)

    @event("Released")
    def _release(self, actor: str) -> None:
        self.slice_id = None


def duplicate_name(model_id: UUID, name: str) -> str:
    return f"model {model_id} already has a slice named {name!r}"
