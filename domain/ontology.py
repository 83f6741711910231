"""A model's ontology: the features its labels and predictions are made of.

A feature is what an annotation is "of": an object tool (a bounding box named "car"), an
answer of a radio or checklist question ("weather/sunny"), or a free-text question. Tools and
answers may carry nested questions; every feature and question is named by its path, so one
string names any of them and a name means one thing only:

    tool "car"                      feature "car"
      nested radio "color"          question "car/color"
        answer "red"                feature "car/color/red"
      nested text "note"            question and feature "car/note"
    radio "weather"                 question "weather"
      answer "sunny"                feature "weather/sunny"
        nested radio "intensity"    question "weather/sunny/intensity"
          answer "high"             feature "weather/sunny/intensity/high"

Ids are drawn from the caller's id factory once and kept when the ontology is extended, so
stored predictions and metrics keep pointing at the same feature.

Stored form: one append-only list of entries (tools, questions, answers in creation order),
each pointing at the entry it hangs off by index. Extending only appends, so an event can
hold just the new entries, and a big ontology can be split over several events.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import Any, Final

from domain.ontology_features import (
    ANSWER,
    TEXT,
    TOOL_POOLS,
    ClassificationKind,
    Feature,
    OntologyEntry,
    Question,
    Tool,
    question_pool,
)
from domain.ontology_input import IdFactory, OntologyBuilder

_TOOLS: Final = {tool.value: tool for tool in Tool}
_QUESTION_KINDS: Final = {kind.value: kind for kind in ClassificationKind}
_ENTRY_COLUMNS: Final = ("id", "name", "kind", "parent")


class Ontology:
    """An immutable set of features and questions with O(1) lookups by name and by id.

    Make one with `build` or `from_dict`; `extend` returns a new one.
    """

    __slots__ = (
        "_entries",
        "features",
        "questions",
        "_features_by_name",
        "_features_by_id",
        "_questions_by_name",
        "_questions_by_id",
        "_names_by_id",
    )

    def __init__(self, entries: Sequence[OntologyEntry] = ()) -> None:
        self._entries: tuple[OntologyEntry, ...] = tuple(entries)
        features: list[Feature] = []
        answers: dict[int, list[str]] = {}
        for entry in self._entries:
            if entry.kind in _TOOLS:
                tool = _TOOLS[entry.kind]
                features.append(Feature(entry.id, entry.name, tool, TOOL_POOLS[tool]))
            elif entry.kind == ANSWER:
                question = self._entries[entry.parent].name
                pool = question_pool(question)
                features.append(Feature(entry.id, entry.name, ANSWER, pool, question))
                answers.setdefault(entry.parent, []).append(entry.name)
            elif entry.kind == TEXT:
                pool = question_pool(entry.name)
                features.append(Feature(entry.id, entry.name, TEXT, pool, entry.name))
        self.features: tuple[Feature, ...] = tuple(features)
        self.questions: tuple[Question, ...] = tuple(
            Question(
                entry.id,
                entry.name,
                _QUESTION_KINDS[entry.kind],
                self._entries[entry.parent].name if entry.parent >= 0 else None,
                tuple(answers.get(index, ())),
            )
            for index, entry in enumerate(self._entries)
            if entry.kind in _QUESTION_KINDS
        )
        self._features_by_name = {f.name: f for f in self.features}
        self._features_by_id = {f.id: f for f in self.features}
        self._questions_by_name = {q.name: q for q in self.questions}
        self._questions_by_id = {q.id: q for q in self.questions}
        self._names_by_id: Mapping[str, str] = MappingProxyType(
            {entry.id: entry.name for entry in self._entries}
        )

    @classmethod
    def build(
        cls,
        tools: Sequence[Mapping[str, Any]] = (),
        classifications: Sequence[Mapping[str, Any]] = (),
        *,
        id_factory: IdFactory,
    ) -> Ontology:
        """Validate an ontology input (the schema's OntologyInput) and give every item an id.

        A tool is {name, tool, classifications?}; a classification is {name, kind,
        answers?: [name | {name, classifications?}]}.
        """
        return cls().extend(tools, classifications, id_factory=id_factory)

    def extend(
        self,
        tools: Sequence[Mapping[str, Any]] = (),
        classifications: Sequence[Mapping[str, Any]] = (),
        *,
        id_factory: IdFactory,
    ) -> Ontology:
        """A new ontology with these items added; existing items keep their ids.

        An item whose name exists already is merged: a known question gains the new answers,
        a known tool or answer gains the new nested questions. Sending the whole ontology
        again with additions therefore works too. Changing the tool or kind of an existing
        item is rejected; renaming and removing are not supported.
        """
        builder = OntologyBuilder(self._entries, id_factory)
        builder.add_tools(tools)
        builder.add_questions(classifications, -1, 1)
        return Ontology(builder.entries)

    def __len__(self) -> int:
        return len(self.features)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Ontology):
            return NotImplemented
        return self._entries == other._entries

    __hash__ = None  # type: ignore[assignment]  # unhashable, as __eq__ is by value

    def __repr__(self) -> str:
        return f"Ontology({len(self.features)} features, {len(self.questions)} questions)"

    # Immutable, so a copy is itself: the aggregate cache deep-copies a Model on every load,
    # its read-only mapping view cannot be deep-copied, and copying 10,000 features each
    # time would cost more than the command.
    def __copy__(self) -> Ontology:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Ontology:
        return self

    def feature_named(self, name: str) -> Feature | None:
        return self._features_by_name.get(name)

    def feature_with_id(self, feature_id: str) -> Feature | None:
        return self._features_by_id.get(feature_id)

    def parent_of(self, feature: str) -> str | None:
        """The feature a nested answer (or nested free-text question) hangs under; None for
        a top-level feature or an unknown name."""
        found = self._features_by_name.get(feature)
        if found is None or found.question is None:
            return None
        question = self._questions_by_name.get(found.question)
        return None if question is None else question.parent

    def question_named(self, name: str) -> Question | None:
        return self._questions_by_name.get(name)

    def question_with_id(self, question_id: str) -> Question | None:
        return self._questions_by_id.get(question_id)

    @property
    def names_by_id(self) -> Mapping[str, str]:
        """Feature and question names by id: how an upload's schemaId becomes a name."""
        return self._names_by_id

    @property
    def entry_count(self) -> int:
        """How many stored entries there are; `to_dicts(start=...)` takes it to store a delta."""
        return len(self._entries)

    def to_dict(self) -> dict[str, list[Any]]:
        """The whole ontology as plain JSON values (columns of entries)."""
        return _columns(self._entries)

    def to_dicts(self, max_bytes: int = 200_000, start: int = 0) -> list[dict[str, list[Any]]]:
        """The entries from `start` on, split in parts of roughly at most `max_bytes` as JSON.

        10,000 features with uuid ids take ~600 KB, more than one event may hold. Pass
        `start=base.entry_count` to store only what an `extend` added.
        """
        parts: list[dict[str, list[Any]]] = []
        chunk: list[OntologyEntry] = []
        size = 0
        for entry in self._entries[start:]:
            entry_size = _json_bytes(entry.id) + _json_bytes(entry.name) + 32
            if chunk and size + entry_size > max_bytes:
                parts.append(_columns(chunk))
                chunk, size = [], 0
            chunk.append(entry)
            size += entry_size
        if chunk or not parts:
            parts.append(_columns(chunk))
        return parts

    @classmethod
    def from_dict(cls, data: Mapping[str, Sequence[Any]]) -> Ontology:
        return cls.from_dicts([data])

    @classmethod
    def from_dicts(
        cls, parts: Iterable[Mapping[str, Sequence[Any]]], base: Ontology | None = None
    ) -> Ontology:
        """The inverse of `to_dicts`: the parts in order, appended to `base` if given."""
        entries = list(base._entries) if base is not None else []
        for part in parts:
            columns = [part[column] for column in _ENTRY_COLUMNS]
            if len({len(column) for column in columns}) > 1:
                raise ValueError("stored ontology columns differ in length")
            for entry_id, name, kind, parent in zip(*columns, strict=True):
                if not -1 <= parent < len(entries):
                    raise ValueError(f"stored ontology entry {name!r} has parent {parent}")
                if kind not in _TOOLS and kind not in _QUESTION_KINDS and kind != ANSWER:
                    raise ValueError(f"stored ontology entry {name!r} has kind {kind!r}")
                entries.append(OntologyEntry(entry_id, name, kind, parent))
        return cls(entries)


def _json_bytes(text: str) -> int:
    """Bytes of a name in JSON, quotes and comma included.

    Names hold no control characters, so only quotes and backslashes grow when escaped.
    """
    return len(text.encode()) + text.count('"') + text.count("\\") + 3


def _columns(entries: Sequence[OntologyEntry]) -> dict[str, list[Any]]:
    return {
        "id": [e.id for e in entries],
        "name": [e.name for e in entries],
        "kind": [e.kind for e in entries],
        "parent": [e.parent for e in entries],
    }
