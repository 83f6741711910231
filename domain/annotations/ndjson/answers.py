"""A question's answers on a line: free text, radio (an object) or checklist (a list), and
the classifications nested under features and answers.

Nested classifications give their question's name relative to the feature they hang off,
and are stored by full path ("car/color/red", see domain.ontology_features).
"""

from __future__ import annotations

from typing import Any

from domain.annotations.ndjson.keys import (
    ANSWER_KEY_SET,
    ANSWER_KEYS,
    CLASSIFICATION_KEY_SET,
    CLASSIFICATION_KEYS,
    GEOMETRY_KEYS,
    check_keys,
)
from domain.annotations.ndjson.values import (
    Names,
    read_confidence,
    read_name,
    read_object,
    show_value,
)
from domain.annotations.objects import Annotation, Answer, TextAnswer
from domain.errors import AnnotationLineError
from domain.ontology_features import MAX_NESTING


def read_answers(
    value: Any,
    question: str,
    confidence: float | None,
    classifications: Any,
    line: int,
    names: Names | None,
    depth: int,
) -> list[Annotation]:
    """The annotations of one question's answer: free text, radio (object) or checklist (list)."""
    kind = type(value)
    if kind is dict:
        return [_answer(value, question, confidence, classifications, line, names, depth)]
    if classifications is not None:
        raise AnnotationLineError(
            line,
            f"classifications of {question!r} belong inside its answer objects",
        )
    if kind is str:
        return [Annotation(question, TextAnswer(question, value), confidence)]
    if kind is list:
        return [_answer(item, question, confidence, None, line, names, depth) for item in value]
    raise AnnotationLineError(
        line,
        f"answer {show_value(value)} of {question!r} must be a text, an object or a list of objects",
    )


def _answer(
    item: Any,
    question: str,
    confidence: float | None,
    classifications: Any,
    line: int,
    names: Names | None,
    depth: int,
) -> Annotation:
    if type(item) is dict and not item.keys() <= ANSWER_KEY_SET:
        check_keys(item, ANSWER_KEYS, line, f" in an answer of {question!r}")
    item = read_object(item, "answer", question, line)
    full = read_name(item, line, names, question, f"an answer of {question!r}")
    if not full.startswith(question + "/"):
        raise AnnotationLineError(line, f"{full!r} is not an answer of {question!r}")
    if "confidence" in item:
        confidence = read_confidence(item["confidence"], full, line)
    nested = item.get("classifications")
    if classifications is not None:
        if nested is not None:
            raise AnnotationLineError(
                line, f"classifications of {full!r} are given both on the line and in its answer"
            )
        nested = classifications
    children = read_classifications(nested, full, line, names, depth + 1)
    return Annotation(full, Answer(question, full[len(question) + 1 :]), confidence, children)


def read_classifications(
    items: Any, parent: str, line: int, names: Names | None, depth: int
) -> tuple[Annotation, ...]:
    if items is None:
        return ()
    if type(items) is not list:
        raise AnnotationLineError(
            line, f"classifications of {parent!r} must be a list, got {show_value(items)}"
        )
    if depth > MAX_NESTING:
        raise AnnotationLineError(
            line, f"classifications of {parent!r} are nested deeper than {MAX_NESTING} levels"
        )
    annotations: list[Annotation] = []
    for number, item in enumerate(items, 1):
        item = read_object(item, f"classification {number}", parent, line)
        extra = [key for key in GEOMETRY_KEYS if key in item and key != "answer"]
        if not extra and not item.keys() <= CLASSIFICATION_KEY_SET:
            check_keys(
                item, CLASSIFICATION_KEYS, line, f" in classification {number} of {parent!r}"
            )
        question = read_name(item, line, names, parent, f"classification {number} of {parent!r}")
        if extra:
            # A geometry is a known word of the format: say why it does not belong here.
            raise AnnotationLineError(
                line, f"nested classification {question!r} must hold an answer, not {extra[0]!r}"
            )
        if "answer" not in item:
            raise AnnotationLineError(
                line, f"nested classification {question!r} must hold an answer"
            )
        confidence = (
            read_confidence(item["confidence"], question, line) if "confidence" in item else None
        )
        annotations.extend(
            read_answers(
                item["answer"],
                question,
                confidence,
                item.get("classifications"),
                line,
                names,
                depth,
            )
        )
    return tuple(annotations)
