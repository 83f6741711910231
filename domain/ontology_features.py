"""What an ontology is made of: tools, questions, answers, the features they define, and
the stored entry each one is kept as (see domain.ontology for the naming by path).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Final, Literal


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
class OntologyEntry:
    """One stored item: a tool, a question or an answer (`kind` is ANSWER)."""

    id: str
    name: str
    kind: str
    parent: int  # index of the entry it hangs off; -1 at the top level
