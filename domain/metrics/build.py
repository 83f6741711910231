"""Building the columns of an evaluation (domain.metrics.objects) from its annotations.

`build_objects` makes one pass over every object of the evaluated data rows, filling plain
lists (`_Columns`), and turns them into arrays once at the end, each kind's table checked by
domain.metrics.geometry_columns. On the way it checks that a feature is used with one kind
only (`check_kind`: polygons and masks excepted, a POLYGON tool takes both) and either at
the top level or nested, never both, and it settles which features are nested answers and
which nested questions are checklists.

Crowd regions are read on the ground-truth side only: a prediction's `iscrowd` and `area`
are refused on upload; here they are not read.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from domain.annotations.objects import (
    Annotation,
    Answer,
    Box,
    Mask,
    Point,
    Polygon,
    Polyline,
    Span,
    TextAnswer,
)
from domain.metrics.geometry_columns import (
    boxes,
    confidences,
    masks,
    points,
    polygon_shapes,
    polylines,
    spans,
)
from domain.metrics.objects import (
    ANSWER,
    BOX,
    CROWD_KINDS,
    MASK,
    POINT,
    POLYGON,
    POLYLINE,
    RLE,
    SPAN,
    TEXT,
    EvaluationObjects,
    NestedObjects,
    Side,
    TextObjects,
    check_kind,
)
from domain.ontology import Ontology
from domain.ontology_features import ClassificationKind


class _Columns:
    """Plain lists filled object by object, turned into arrays once at the end."""

    def __init__(self) -> None:
        self.feature: list[str] = []
        self.kind: list[int] = []
        self.confidence: list[float | None] = []
        self.questions: list[str] = []  # of the answers, in object order
        self.boxes: list[tuple[float, float, float, float]] = []
        self.polygons: list[tuple[tuple[tuple[float, float], ...], ...]] = []  # rings each
        self.points: list[tuple[float, float]] = []
        self.polylines: list[tuple[tuple[float, float], ...]] = []
        self.masks: list[RLE] = []
        self.spans: list[tuple[int, int]] = []
        self.text_row: list[int] = []
        self.text_feature: list[str] = []
        self.text_confidence: list[float | None] = []
        self.per_row: list[int] = []
        self.nested_row: list[int] = []
        self.nested_root: list[int] = []
        self.nested_parent: list[int] = []
        self.nested_feature: list[str] = []
        self.nested_question: list[str] = []
        self.nested_confidence: list[float | None] = []
        self.nested_text: set[str] = set()  # names of nested free-text answers
        self.top_text: set[str] = set()  # names of top-level free-text answers
        self.crowd: _Columns | None = None  # the ground truth's crowd regions (§9)



def _add_crowd(out: _Columns, annotation: Annotation, kinds: dict[str, tuple[int, str]]) -> None:
    """A crowd region (§9): a box, polygon or mask, apart from the walk's objects."""
    geometry: Any = annotation.geometry
    k = CROWD_KINDS.get(type(geometry))
    if k is None:
        raise ValueError(
            f"crowd region of {annotation.feature!r} must be a box, polygon or mask, "
            f"not a {type(geometry).__name__}"
        )
    check_kind(kinds, annotation.feature, k, "")
    if k == BOX:
        out.boxes.append((geometry.left, geometry.top, geometry.width, geometry.height))
    elif k == POLYGON:
        out.polygons.append(geometry.rings)
    else:
        out.masks.append({"size": [geometry.height, geometry.width], "counts": geometry.counts})
    out.feature.append(annotation.feature)
    out.kind.append(k)
    out.confidence.append(None)


def _collect(
    rows: Sequence[Sequence[Annotation]],
    kinds: dict[str, tuple[int, str]],
    ground_truth: bool = False,
) -> _Columns:
    """One pass over the objects; `kinds` records each feature's kind to catch mixed use.

    On the `ground_truth` side crowd regions go to `crowd` (§9)."""
    out = _Columns()
    crowd = out.crowd = _Columns() if ground_truth else None
    # This loop runs once per object of the evaluation (hundreds of thousands): local
    # names, as few appends as possible, the common kinds first.
    feature, kind, confidence, boxes = out.feature, out.kind, out.confidence, out.boxes
    per_row = out.per_row
    for r, row_objects in enumerate(rows):
        n = len(feature)
        n_crowd = len(crowd.feature) if crowd is not None else 0
        for annotation in row_objects:
            if crowd is not None and annotation.iscrowd:
                _add_crowd(crowd, annotation, kinds)
                continue
            geometry: Any = annotation.geometry  # dispatched on its exact type below
            geometry_type = type(geometry)
            name = annotation.feature
            q = ""
            if geometry_type is Box:
                k = BOX
                boxes.append((geometry.left, geometry.top, geometry.width, geometry.height))
            elif geometry_type is Answer:
                k = ANSWER
                q = geometry.question
                out.questions.append(q)
            elif geometry_type is Polygon:
                k = POLYGON
                out.polygons.append(geometry.rings)
            elif geometry_type is Mask:
                k = MASK
                size = [geometry.height, geometry.width]
                out.masks.append({"size": size, "counts": geometry.counts})
            elif geometry_type is Point:
                k = POINT
                out.points.append((geometry.x, geometry.y))
            elif geometry_type is Polyline:
                k = POLYLINE
                out.polylines.append(geometry.points)
            elif geometry_type is Span:
                k = SPAN
                out.spans.append((geometry.start, geometry.end))
            elif geometry_type is TextAnswer:
                check_kind(kinds, name, TEXT, geometry.question)
                if annotation.classifications:
                    raise ValueError(f"free-text answer {name!r} has nested classifications")
                out.top_text.add(name)
                out.text_row.append(r)
                out.text_feature.append(name)
                out.text_confidence.append(annotation.confidence)
                continue
            else:
                raise TypeError(f"unknown geometry {geometry_type.__name__}")
            seen = kinds.get(name)
            if seen is None or seen[0] != k or seen[1] != q:
                check_kind(kinds, name, k, q)
            if annotation.classifications:
                _collect_nested(
                    out, annotation.classifications, r, len(feature), -1,
                    annotation.confidence, kinds,
                )  # fmt: skip
            feature.append(name)
            kind.append(k)
            confidence.append(annotation.confidence)
        per_row.append(len(feature) - n)
        if crowd is not None:
            crowd.per_row.append(len(crowd.feature) - n_crowd)
    return out


def _collect_nested(
    out: _Columns,
    children: Sequence[Annotation],
    r: int,
    root: int,
    parent: int,
    confidence: float | None,
    kinds: dict[str, tuple[int, str]],
) -> None:
    """The nested answers under one object, depth first, each with its root's confidence.

    Recursion is bounded by the ontology's nesting depth (MAX_NESTING), checked on upload.
    """
    for child in children:
        geometry = child.geometry
        name = child.feature
        if type(geometry) is TextAnswer:
            check_kind(kinds, name, TEXT, geometry.question)
            out.nested_text.add(name)
            out.text_row.append(r)
            out.text_feature.append(name)
            out.text_confidence.append(confidence)
            continue
        if type(geometry) is not Answer:
            raise ValueError(
                f"nested classification {name!r} must be an answer, not a {type(geometry).__name__}"
            )
        check_kind(kinds, name, ANSWER, geometry.question)
        position = len(out.nested_feature)
        out.nested_row.append(r)
        out.nested_root.append(root)
        out.nested_parent.append(parent)
        out.nested_feature.append(name)
        out.nested_question.append(geometry.question)
        out.nested_confidence.append(confidence)
        if child.classifications:
            _collect_nested(out, child.classifications, r, root, position, confidence, kinds)


def build_objects(
    ground_truth: Sequence[Sequence[Annotation]],
    predictions: Sequence[Sequence[Annotation]],
    features: Sequence[str] | None = None,
    *,
    ontology: Ontology | None = None,
) -> EvaluationObjects:
    """Columns for data rows 0 .. n - 1: `ground_truth[r]` and `predictions[r]` in upload order.

    `features` is the set of matched features known to the evaluation (an ontology's tools and
    classification answers, nested ones included); a row without any object of a known
    feature is a TN for it. None means the sorted names of the features the objects use.

    `ontology` says which features are nested answers (left out of `all`, even when no object
    uses them) and which nested questions are checklists. Without one, a feature is nested
    when an object carries it as a nested classification, and a nested question is a
    checklist when some object carries two answers of it (a radio takes one). For valid
    input, reading a question as a radio or as a checklist gives the same TP, FP, FN and TN;
    only the confusion matrix differs (a radio pairs two different answers in one cell).

    Raises ValueError for an object of an unknown feature, a feature used with two kinds
    (polygons and masks excepted) or both at the top level and nested, or a malformed
    geometry.
    """
    if len(ground_truth) != len(predictions):
        raise ValueError("ground truth and predictions must list the same data rows")
    kinds: dict[str, tuple[int, str]] = {}
    gt = _collect(ground_truth, kinds, ground_truth=True)
    pred = _collect(predictions, kinds)
    assert gt.crowd is not None
    names = sorted(n for n, (k, _) in kinds.items() if k != TEXT)
    if features is None:
        features = names
    else:
        features = list(dict.fromkeys(features))
        unknown = sorted(set(names) - set(features))
        if unknown:
            raise ValueError(f"objects of features outside the evaluation: {unknown}")
        texts = [f for f in features if kinds.get(f, (0, ""))[0] == TEXT]
        if texts:
            raise ValueError(f"free-text features are not matched: {texts}")
    nested_names = _nested_names(gt, pred, ontology)
    text_features = sorted(n for n, (k, _) in kinds.items() if k == TEXT)
    feature_index = {name: i for i, name in enumerate(features)}
    text_index = {name: i for i, name in enumerate(text_features)}
    questions: dict[str, int] = {}
    for columns in (gt, pred):
        for q in columns.questions:
            questions.setdefault(q, len(questions))
    nested_questions: dict[str, int] = {}
    for columns in (gt, pred):
        for q in columns.nested_question:
            nested_questions.setdefault(q, len(nested_questions))
    n_rows = len(ground_truth)
    nested_gt = _nested(gt, feature_index, nested_questions)
    nested_pred = _nested(pred, feature_index, nested_questions)
    return EvaluationObjects(
        n_rows=n_rows,
        features=tuple(features),
        text_features=tuple(text_features),
        ground_truth=_side(gt, n_rows, feature_index, questions),
        predictions=_side(pred, n_rows, feature_index, questions),
        text_ground_truth=_text(gt, text_index),
        text_predictions=_text(pred, text_index),
        nested=np.asarray([f in nested_names for f in features], dtype=bool),
        nested_questions=tuple(nested_questions),
        checklist=_checklists(nested_questions, (nested_gt, nested_pred), ontology),
        nested_ground_truth=nested_gt,
        nested_predictions=nested_pred,
        crowd=_side(gt.crowd, n_rows, feature_index, questions),
    )


def _nested_names(gt: _Columns, pred: _Columns, ontology: Ontology | None) -> set[str]:
    """The nested features: what the ontology nests and what objects carry nested.

    A name is one thing only (domain.ontology), so a feature met both at the top level and
    nested is refused rather than counted twice over.
    """
    nested = set(gt.nested_feature) | set(pred.nested_feature) | gt.nested_text | pred.nested_text
    if ontology is not None:
        for question in ontology.questions:
            if question.parent is not None:
                nested.update(question.answers or (question.name,))
    top = set(gt.feature) | set(pred.feature) | gt.top_text | pred.top_text
    if gt.crowd is not None:
        top |= set(gt.crowd.feature)
    both = sorted(top & nested)
    if both:
        raise ValueError(f"features used both at the top level and nested: {both}")
    return nested


def _checklists(
    questions: dict[str, int], sides: tuple[NestedObjects, ...], ontology: Ontology | None
) -> np.ndarray:
    """Which nested questions are checklists: the ontology's word, else whether some object
    carries two answers of the question (a radio takes one)."""
    checklist = np.zeros(len(questions), dtype=bool)
    for side in sides:
        if side.size:
            # (parent node, question) keys: the parent is the root or a nested answer.
            parent = np.where(side.parent < 0, side.root, -2 - side.parent)
            keys = np.stack([parent, side.question], axis=1)
            unique, repeats = np.unique(keys, axis=0, return_counts=True)
            checklist[unique[repeats > 1, 1]] = True
    if ontology is not None:
        for name, index in questions.items():
            question = ontology.question_named(name)
            if question is not None:
                checklist[index] = question.kind is ClassificationKind.CHECKLIST
    return checklist


def _nested(
    columns: _Columns, feature_index: dict[str, int], questions: dict[str, int]
) -> NestedObjects:
    return NestedObjects(
        row=np.asarray(columns.nested_row, dtype=np.int64),
        root=np.asarray(columns.nested_root, dtype=np.int64),
        parent=np.asarray(columns.nested_parent, dtype=np.int64),
        feature=np.asarray([feature_index[f] for f in columns.nested_feature], dtype=np.int64),
        question=np.asarray([questions[q] for q in columns.nested_question], dtype=np.int64),
        confidence=confidences(columns.nested_confidence),
    )


def _side(
    columns: _Columns, n_rows: int, feature_index: dict[str, int], questions: dict[str, int]
) -> Side:
    kind = np.asarray(columns.kind, dtype=np.int64)
    pool = kind.copy()
    answers = np.flatnonzero(kind == ANSWER)
    if answers.size:
        pool[answers] = [ANSWER + questions[q] for q in columns.questions]
    offsets = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(np.asarray(columns.per_row, dtype=np.int64), out=offsets[1:])
    return Side(
        offsets=offsets,
        row=np.repeat(np.arange(n_rows, dtype=np.int64), columns.per_row),
        feature=np.asarray([feature_index[f] for f in columns.feature], dtype=np.int64),
        kind=kind,
        pool=pool,
        confidence=confidences(columns.confidence),
        boxes=boxes(columns.boxes),
        polygons=polygon_shapes(columns.polygons),
        polygon_rings=tuple(columns.polygons),
        points=points(columns.points),
        polylines=polylines(columns.polylines),
        masks=masks(columns.masks),
        spans=spans(columns.spans),
    )


def _text(columns: _Columns, text_index: dict[str, int]) -> TextObjects:
    return TextObjects(
        row=np.asarray(columns.text_row, dtype=np.int64),
        feature=np.asarray([text_index[f] for f in columns.text_feature], dtype=np.int64),
        confidence=confidences(columns.text_confidence),
    )

