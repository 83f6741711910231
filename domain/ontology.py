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

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Final, Literal, TypeVar

from domain.errors import ValidationFailed


class Tool(StrEnum):
    BBOX = "BBOX"
    POLYGON = "POLYGON"
    MASK = "MASK"
    POINT = "POINT"
    POLYLINE = "POLYLINE"
    NER = "NER"


class ClassificationKind(StrEnum):
    RADIO = "RADIO"
    CHECKLIST = "CHECKLIST"
    TEXT = "TEXT"


ANSWER: Final = "ANSWER"
TEXT: Final = "TEXT"
FeatureKind = Tool | Literal["ANSWER", "TEXT"]

# The matching pools of docs/metrics.md §2, named by what they hold.
TOOL_POOLS: Final[Mapping[Tool, str]] = MappingProxyType(
    {
        Tool.BBOX: "box",
        Tool.POLYGON: "polygon",
        Tool.MASK: "mask",
        Tool.POINT: "point",
        Tool.POLYLINE: "polyline",
        Tool.NER: "span",
    }
)

# Deep enough for any real ontology, shallow enough to stay far from Python's recursion limit.
MAX_NESTING: Final = 16

IdFactory = Callable[[], str]


def question_pool(question: str) -> str:
    """The pool of a question's answers.

    Prefixed so that a question a user happens to call "mask" or "box" never shares a pool
    with the objects of that tool.
    """
    return f"question:{question}"


@dataclass(frozen=True, slots=True)
class Feature:
    """One feature. `question` is the question's name for answers and free-text features."""

    id: str
    name: str
    kind: FeatureKind
    pool: str
    question: str | None = None

    @property
    def tool(self) -> Tool | None:
        return self.kind if isinstance(self.kind, Tool) else None


@dataclass(frozen=True, slots=True)
class Question:
    """A classification question; `parent` names the feature it is nested under, if any.

    `answers` are the feature names of its answers in definition order. A free-text question
    is also a feature, with the same id and name.
    """

    id: str
    name: str
    kind: ClassificationKind
    parent: str | None
    answers: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class _Entry:
    """One stored item: a tool, a question or an answer (`kind` is ANSWER)."""

    id: str
    name: str
    kind: str
    parent: int  # index of the entry it hangs off; -1 at the top level


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

    def __init__(self, entries: Sequence[_Entry] = ()) -> None:
        self._entries: tuple[_Entry, ...] = tuple(entries)
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
        builder = _Builder(self._entries, id_factory)
        for index, item in enumerate(_items(tools, "tools")):
            builder.add_tool(item, index)
        builder.add_questions(classifications, -1, 1)
        return Ontology(builder.entries)

    def __len__(self) -> int:
        return len(self.features)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Ontology):
            return NotImplemented
        return self._entries == other._entries

    __hash__ = None  # type: ignore[assignment]

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
        chunk: list[_Entry] = []
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
                entries.append(_Entry(entry_id, name, kind, parent))
        return cls(entries)


def _json_bytes(text: str) -> int:
    """Bytes of a name in JSON, quotes and comma included.

    Names hold no control characters, so only quotes and backslashes grow when escaped.
    """
    return len(text.encode()) + text.count('"') + text.count("\\") + 3


def _columns(entries: Sequence[_Entry]) -> dict[str, list[Any]]:
    return {
        "id": [e.id for e in entries],
        "name": [e.name for e in entries],
        "kind": [e.kind for e in entries],
        "parent": [e.parent for e in entries],
    }


class _Builder:
    """Validates an ontology input while appending it to a base ontology's entries."""

    def __init__(self, entries: Sequence[_Entry], id_factory: IdFactory) -> None:
        self.entries: list[_Entry] = list(entries)
        self._id_factory = id_factory
        # One namespace for every tool, question and answer name.
        self._index: dict[str, int] = {e.name: i for i, e in enumerate(self.entries)}
        self._ids: set[str] = {e.id for e in self.entries}
        # Names met in this input: listing one twice is an error even where the base
        # ontology would merge it.
        self._listed: dict[str, tuple[str, int]] = {}

    def add_tool(self, item: Any, index: int) -> None:
        name = _name(item, f"tool {index + 1}")
        where = f"tool {name!r}"
        tool = _enum(Tool, item.get("tool"), where, "tool")
        position = self._find(name, where, -1)
        if position is None:
            position = self._append(name, tool.value, -1, where)
        elif self.entries[position].kind != tool.value:
            raise ValidationFailed(
                f"{where} is already a {self.entries[position].kind}; it cannot become a {tool}"
            )
        self.add_questions(item.get("classifications"), position, 1)

    def add_questions(self, items: Any, parent: int, depth: int) -> None:
        if items is None:
            return
        owner = f" of {self.entries[parent].name!r}" if parent >= 0 else ""
        if depth > MAX_NESTING:
            raise ValidationFailed(
                f"classifications{owner} are nested deeper than {MAX_NESTING} levels"
            )
        for index, item in enumerate(_items(items, f"classifications{owner}")):
            self._add_question(item, index, parent, depth, owner)

    def _add_question(self, item: Any, index: int, parent: int, depth: int, owner: str) -> None:
        bare = _name(item, f"classification {index + 1}{owner}")
        path = bare if parent < 0 else f"{self.entries[parent].name}/{bare}"
        where = f"classification {path!r}"
        kind = _enum(ClassificationKind, item.get("kind"), where, "kind")
        answers = _items(item.get("answers") or (), f"answers of {where}")
        if kind is ClassificationKind.TEXT and answers:
            raise ValidationFailed(f"{where} is a TEXT question and takes no answers")
        position = self._find(path, where, parent)
        if position is None:
            if kind is not ClassificationKind.TEXT and not answers:
                raise ValidationFailed(
                    f"{where} is a {kind} question and needs at least one answer"
                )
            position = self._append(path, kind.value, parent, where)
        elif self.entries[position].parent != parent:
            raise ValidationFailed(f"{where}: the name {path!r} is already used")
        elif self.entries[position].kind != kind.value:
            raise ValidationFailed(
                f"{where} is already a {self.entries[position].kind}; it cannot become a {kind}"
            )
        for answer_index, answer in enumerate(answers):
            self._add_answer(answer, answer_index, position, depth)

    def _add_answer(self, answer: Any, index: int, question: int, depth: int) -> None:
        question_name = self.entries[question].name
        item = {"name": answer} if isinstance(answer, str) else answer
        bare = _name(item, f"answer {index + 1} of classification {question_name!r}")
        name = f"{question_name}/{bare}"
        where = f"answer {bare!r} of classification {question_name!r}"
        position = self._find(name, where, question)
        if position is None:
            position = self._append(name, ANSWER, question, where)
        elif self.entries[position].kind != ANSWER or self.entries[position].parent != question:
            raise ValidationFailed(f"{where}: the name {name!r} is already used")
        self.add_questions(item.get("classifications"), position, depth + 1)

    def _find(self, name: str, where: str, parent: int) -> int | None:
        first = self._listed.get(name)
        if first == (where, parent):
            raise ValidationFailed(f"{where} is listed twice")
        if first is not None:
            raise ValidationFailed(f"{where}: the name {name!r} is already used by {first[0]}")
        self._listed[name] = (where, parent)
        return self._index.get(name)

    def _append(self, name: str, kind: str, parent: int, where: str) -> int:
        new_id = self._id_factory()
        if not isinstance(new_id, str) or not new_id or new_id in self._ids:
            raise ValueError(f"the id factory gave {where} an empty or taken id {new_id!r}")
        self._ids.add(new_id)
        self._index[name] = len(self.entries)
        self.entries.append(_Entry(new_id, name, kind, parent))
        return len(self.entries) - 1


def _items(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list | tuple):
        raise ValidationFailed(f"{where} must be a list, got {type(value).__name__}")
    return list(value)


def _name(item: Any, where: str) -> str:
    if not isinstance(item, Mapping):
        raise ValidationFailed(f"{where} must be an object with a name, got {item!r}")
    name = item.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ValidationFailed(f"{where} needs a non-empty name, got {name!r}")
    # Names end up in JSON, CSV exports and the gallery; a control character there is a bug
    # in the caller's export, not a name.
    if any(ord(char) < 32 or ord(char) == 127 for char in name):
        raise ValidationFailed(f"{where} has a control character in its name {name!r}")
    return name


_E = TypeVar("_E", Tool, ClassificationKind)


def _enum(enum: type[_E], value: Any, where: str, field: str) -> _E:
    try:
        return enum(value.upper() if isinstance(value, str) else value)
    except ValueError:
        known = ", ".join(enum)
        raise ValidationFailed(
            f"{where} has an unknown {field} {value!r}; expected one of {known}"
        ) from None
