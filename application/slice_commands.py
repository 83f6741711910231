"""Commands on a model's saved slices: create, rename, change the filter, delete.

Everything a slice command checks is read from the log, not from the read models: the
model's ontology, the other slices a filter includes, and who holds a name. A command
therefore never waits for the read models, and two requests taking one name at once meet
on the same SliceName aggregate, where the event store lets only one through.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from application.ledger import LedgerCore, check_expected_version
from domain.errors import Conflict, ValidationFailed
from domain.models import Model
from domain.slices import Slice, SliceName, duplicate_name, slice_clauses, slice_name_id


class LoggedSlices:
    """The live slices of one model, loaded from the log as a filter names them."""

    def __init__(self, ledger: LedgerCore, model_id: UUID) -> None:
        self._ledger = ledger
        self._model_id = model_id
        self._loaded: dict[str, Slice | None] = {}

    def _get(self, slice_id: str) -> Slice | None:
        if slice_id not in self._loaded:
            try:
                found = self._ledger.find(Slice, UUID(slice_id))
            except ValueError:  # not a UUID
                found = None
            live = found is not None and not found.deleted and found.model_id == self._model_id
            self._loaded[slice_id] = found if live else None
        return self._loaded[slice_id]

    def is_live(self, slice_id: str) -> bool:
        return self._get(slice_id) is not None

    def included_by(self, slice_id: str) -> list[str]:
        found = self._get(slice_id)
        if found is None:
            return []
        return [slice_id for _, slice_id in slice_clauses(found.filter)]


class SliceCommands(LedgerCore):
    def create_slice(self, model_id: UUID, name: str, filter_json: Any, actor: str) -> Slice:
        model = self.load(Model, model_id, "model")
        item = Slice.new(model.id, name, filter_json, model.ontology, LoggedSlices(self, model.id), actor)
        claim = self._take_name(model.id, item.name, item.id, actor)
        self._store_named(item, claim)
        return item

    def rename_slice(
        self, slice_id: UUID, name: str, actor: str, expected_version: int | None = None
    ) -> Slice:
        item = self.load_slice(slice_id, expected_version)
        before = item.name
        item.rename(name, actor)
        if item.name == before:
            return item
        released = self._name_claim(item.model_id, before)
        if released is not None:
            released.release(item.id, actor)
        claim = self._take_name(item.model_id, item.name, item.id, actor)
        self._store_named(item, claim, released)
        return item

    def update_slice_filter(
        self, slice_id: UUID, filter_json: Any, actor: str, expected_version: int | None = None
    ) -> Slice:
        item = self.load_slice(slice_id, expected_version)
        model = self.load(Model, item.model_id, "model")
        item.update_filter(filter_json, model.ontology, LoggedSlices(self, model.id), actor)
        self.store(item)
        return item

    def delete_slice(self, slice_id: UUID, actor: str, expected_version: int | None = None) -> Slice:
        """The slice is gone from its model and its name is free again; its events stay."""
        item = self.load_slice(slice_id, expected_version)
        item.delete(actor)
        claim = self._name_claim(item.model_id, item.name)
        if claim is not None:
            claim.release(item.id, actor)
        self.store(item, claim)
        return item

    def load_slice(self, slice_id: UUID, expected_version: int | None = None) -> Slice:
        item = self.load(Slice, slice_id, "slice")
        check_expected_version(item, expected_version, "slice")
        return item

    # -- names -------------------------------------------------------------------------------

    def _name_claim(self, model_id: UUID, name: str) -> SliceName | None:
        return self.find(SliceName, slice_name_id(model_id, name))

    def _take_name(self, model_id: UUID, name: str, slice_id: UUID, actor: str) -> SliceName:
        claim = self._name_claim(model_id, name)
        if claim is None:
            return SliceName(model_id=model_id, name=name, slice_id=slice_id, actor=actor)
        claim.take(slice_id, actor)
        return claim

    def _store_named(self, item: Slice, *claims: SliceName | None) -> None:
        """Save the slice with its name claims; losing a race for the name is a duplicate."""
        try:
            self.store(item, *claims)
        except Conflict:
            holder = self._name_claim(item.model_id, item.name)
            if holder is not None and holder.slice_id not in (None, item.id):
                raise ValidationFailed(duplicate_name(item.model_id, item.name)) from None
            raise
