"""An ontology input (the schema's OntologyInput) validated into stored entries.

A tool is {name, tool, classifications?}; a classification is {name, kind,
answers?: [name | {name, classifications?}]}. Names are one namespace, nesting is bounded
(`MAX_NESTING`), and a name listed twice or reused for something else is refused.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from domain.errors import ValidationFailed
from domain.ontology_features import ANSWER, MAX_NESTING, ClassificationKind, OntologyEntry, Tool

IdFactory = Callable[[], str]


class OntologyBuilder:
    """Validates an ontology input while appending it to a base ontology's entries."""

    def __init__(self, entries: Sequence[OntologyEntry], id_factory: IdFactory) -> None:
        self.entries: list[OntologyEntry] = list(entries)
        self._id_factory = id_factory
        # One namespace for every tool, question and answer name.
        self._index: dict[str, int] = {e.name: i for i, e in enumerate(self.entries)}
        self._ids: set[str] = {e.id for e in self.entries}
        # Names met in this input: listing one twice is an error even where the base
        # ontology would merge it.
        self._listed: dict[str, tuple[str, int]] = {}

    def add_tools(self, items: Any) -> None:
        for index, item in enumerate(_items(items, "tools")):
            self.add_tool(item, index)

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
        self.entries.append(OntologyEntry(new_id, name, kind, parent))
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
