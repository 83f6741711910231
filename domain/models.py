"""Models: a container of model runs, with the ontology its runs are judged against."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

from eventsourcing.domain import Aggregate, event

from domain.datasets import check_name
from domain.ontology import Ontology

# An ontology of 10,000 features is ~600 KB of JSON: it is recorded as a series of
# OntologyExtended events, each holding at most about this much of it.
ONTOLOGY_BYTES_PER_EVENT = 150_000


def new_feature_id() -> str:
    return str(uuid4())


class Model(Aggregate):
    @event("Created")
    def __init__(self, name: str, actor: str) -> None:
        self.name = check_name(name, "model")
        self.ontology = Ontology()
        self.deleted = False

    def rename(self, name: str, actor: str) -> None:
        """A new name; the name it has (once cleaned) records nothing."""
        cleaned = check_name(name, "model")
        if cleaned != self.name:
            self._rename(name=cleaned, actor=actor)

    @event("Renamed")
    def _rename(self, name: str, actor: str) -> None:
        # Still cleaned here: events recorded before the check moved out hold the raw name.
        self.name = check_name(name, "model")

    def extend_ontology(
        self, tools: list[dict[str, Any]], classifications: list[dict[str, Any]], actor: str
    ) -> None:
        """Validate the whole extension first, then record the new entries (with their
        ids) in bounded events, so a replay gives back the very same ids."""
        extended = self.ontology.extend(tools, classifications, id_factory=new_feature_id)
        if extended.entry_count == self.ontology.entry_count:
            return
        start = self.ontology.entry_count
        for part in extended.to_dicts(max_bytes=ONTOLOGY_BYTES_PER_EVENT, start=start):
            self._record_entries(entries=part, actor=actor)

    @event("OntologyExtended")
    def _record_entries(self, entries: dict[str, list[Any]], actor: str) -> None:
        self.ontology = Ontology.from_dicts([entries], base=self.ontology)

    @event("Deleted")
    def delete(self, actor: str) -> None:
        self.deleted = True
