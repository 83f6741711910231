"""The objects of an evaluation as columns, grouped by data row (docs/metrics.md §2).

Every ground-truth annotation and every prediction becomes one entry of a `Side`: its data
row, its feature, its pool and (for predictions) its confidence, in data-row order and,
within a row, in upload order; so an object's position is also its upload rank, which the
walk's tie order uses. Geometry lives in one table per kind: the j-th object of a kind (in
that order) owns row j of the kind's table.

Free-text answers are kept apart (`TextObjects`): they are never matched, so they are not on
the feature axis that TP, FP, FN and TN are counted on; they are only counted.

Nested classifications (docs/metrics.md §8: the color of a box, the intensity of a "sunny"
answer) are not objects of the data row and take no part in the walk. Their answers are
features of their own, on the same feature axis, kept apart as `NestedObjects`: each
remembers the top-level object it hangs under (its root), the nested answer it hangs under
when it is nested deeper, and its root's confidence (a nested answer is active exactly when
its parent is, whatever confidence it was uploaded with). Nested free-text answers are
counted like top-level ones, with their root's confidence.

A feature holds objects of one kind, except that polygons and masks may share one (a POLYGON
tool takes both). Each stays in its own pool, and a polygon and a mask of one feature on one
row are a pair besides (domain.metrics.iou), compared as pixels: so a polygon keeps its rings
as uploaded, to rasterise, beside its shapely geometry.

Crowd regions (docs/metrics.md §9: ground truth with `iscrowd`, a box, polygon or mask) are no
objects of the walk either: they are kept apart as a `Side` of their own (`crowd`), with
their nested classifications dropped (a crowd region counts for nothing). A prediction's
`iscrowd` and `area` are refused on upload; here they are not read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely

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
from domain.annotations.validation import TOOL_GEOMETRY
from domain.metrics.raster import Rings
from domain.ontology import Ontology
from domain.ontology_features import ClassificationKind, Tool

# Kinds of geometry. The pool of a tool object is its kind; classification answers pool
# per question: ANSWER + the question's number.
BOX, POLYGON, MASK, POINT, POLYLINE, SPAN, ANSWER = range(7)
KIND_NAMES: tuple[str, ...] = ("box", "polygon", "mask", "point", "polyline", "span", "answer")
_TEXT = -1

RLE = dict[str, Any]


@dataclass(frozen=True, slots=True, eq=False)
class Side:
    """The ground truth or the predictions of every data row, as columns."""

    offsets: np.ndarray  # int64 (n_rows + 1,): row r holds objects offsets[r]:offsets[r + 1]
    row: np.ndarray  # int64
    feature: np.ndarray  # int64, index into EvaluationObjects.features
    kind: np.ndarray  # int64, one of BOX ... ANSWER
    pool: np.ndarray  # int64
    confidence: np.ndarray  # float64; a missing confidence is already 1
    boxes: np.ndarray  # (n_box, 4) float64: left, top, width, height as uploaded
    polygons: np.ndarray  # shapely geometries, repaired and reduced to their polygonal part
    polygon_rings: tuple[Rings, ...]  # the same as uploaded, to rasterise beside a mask
    points: np.ndarray  # shapely points
    polylines: np.ndarray  # shapely line strings (a one-vertex line is a point)
    masks: tuple[RLE, ...]  # COCO compressed RLE: {"size": [h, w], "counts": bytes}
    spans: np.ndarray  # (n_span, 2) int64: start, end

    @property
    def size(self) -> int:
        return int(self.row.shape[0])

    def of_kind(self, kind: int) -> np.ndarray:
        """Positions of the objects of one kind, in object order (so table order)."""
        return np.flatnonzero(self.kind == kind)


@dataclass(frozen=True, slots=True, eq=False)
class TextObjects:
    """Free-text answers of one side: counted per feature, never matched."""

    row: np.ndarray  # int64
    feature: np.ndarray  # int64, index into EvaluationObjects.text_features
    confidence: np.ndarray  # float64; a missing confidence is 1


@dataclass(frozen=True, slots=True, eq=False)
class NestedObjects:
    """The nested radio and checklist answers of one side, in upload order (depth first).

    The objects of a root come after those of earlier roots, so `root` is ascending.
    """

    row: np.ndarray  # int64
    root: np.ndarray  # int64, position in the Side of the top-level object it hangs under
    parent: np.ndarray  # int64, the nested answer it hangs under; -1: directly under its root
    feature: np.ndarray  # int64, index into EvaluationObjects.features
    question: np.ndarray  # int64, index into EvaluationObjects.nested_questions
    confidence: np.ndarray  # float64, its root's; a missing confidence is 1

    @property
    def size(self) -> int:
        return int(self.row.shape[0])


@dataclass(frozen=True, slots=True, eq=False)
class EvaluationObjects:
    """Ground truth and predictions of the evaluated data rows 0 .. n_rows - 1."""

    n_rows: int
    features: tuple[str, ...]  # the matched features: the axis of TP, FP, FN, TN
    text_features: tuple[str, ...]
    ground_truth: Side
    predictions: Side
    text_ground_truth: TextObjects
    text_predictions: TextObjects
    nested: np.ndarray  # bool per feature: an answer of a nested question (not in `all`)
    nested_questions: tuple[str, ...]
    checklist: np.ndarray  # bool per nested question: a checklist (else a radio)
    nested_ground_truth: NestedObjects
    nested_predictions: NestedObjects
    crowd: Side  # the crowd regions of the ground truth (§9), in upload order


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


_CROWD_KINDS: dict[type, int] = {Box: BOX, Polygon: POLYGON, Mask: MASK}


def _add_crowd(out: _Columns, annotation: Annotation, kinds: dict[str, tuple[int, str]]) -> None:
    """A crowd region (§9): a box, polygon or mask, apart from the walk's objects."""
    geometry: Any = annotation.geometry
    k = _CROWD_KINDS.get(type(geometry))
    if k is None:
        raise ValueError(
            f"crowd region of {annotation.feature!r} must be a box, polygon or mask, "
            f"not a {type(geometry).__name__}"
        )
    _check_kind(kinds, annotation.feature, k, "")
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
                _check_kind(kinds, name, _TEXT, geometry.question)
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
                _check_kind(kinds, name, k, q)
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
            _check_kind(kinds, name, _TEXT, geometry.question)
            out.nested_text.add(name)
            out.text_row.append(r)
            out.text_feature.append(name)
            out.text_confidence.append(confidence)
            continue
        if type(geometry) is not Answer:
            raise ValueError(
                f"nested classification {name!r} must be an answer, not a {type(geometry).__name__}"
            )
        _check_kind(kinds, name, ANSWER, geometry.question)
        position = len(out.nested_feature)
        out.nested_row.append(r)
        out.nested_root.append(root)
        out.nested_parent.append(parent)
        out.nested_feature.append(name)
        out.nested_question.append(geometry.question)
        out.nested_confidence.append(confidence)
        if child.classifications:
            _collect_nested(out, child.classifications, r, root, position, confidence, kinds)


# Kinds one feature may hold together: a POLYGON tool's polygons and masks.
_SHARED_KINDS = frozenset(_CROWD_KINDS[geometry] for geometry in TOOL_GEOMETRY[Tool.POLYGON])


def _check_kind(kinds: dict[str, tuple[int, str]], name: str, kind: int, question: str) -> None:
    seen = kinds.setdefault(name, (kind, question))
    if seen != (kind, question) and not {seen[0], kind} <= _SHARED_KINDS:
        raise ValueError(
            f"feature {name!r} is used as {_kind_name(kind, question)} and as {_kind_name(*seen)}"
        )


def _kind_name(kind: int, question: str) -> str:
    if kind == _TEXT:
        return f"a free-text answer of {question!r}"
    if kind == ANSWER:
        return f"an answer of {question!r}"
    return f"a {KIND_NAMES[kind]}"


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
    names = sorted(n for n, (k, _) in kinds.items() if k != _TEXT)
    if features is None:
        features = names
    else:
        features = list(dict.fromkeys(features))
        unknown = sorted(set(names) - set(features))
        if unknown:
            raise ValueError(f"objects of features outside the evaluation: {unknown}")
        texts = [f for f in features if kinds.get(f, (0, ""))[0] == _TEXT]
        if texts:
            raise ValueError(f"free-text features are not matched: {texts}")
    nested_names = _nested_names(gt, pred, ontology)
    text_features = sorted(n for n, (k, _) in kinds.items() if k == _TEXT)
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
        confidence=_confidences(columns.nested_confidence),
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
        confidence=_confidences(columns.confidence),
        boxes=_boxes(columns.boxes),
        polygons=polygon_shapes(columns.polygons),
        polygon_rings=tuple(columns.polygons),
        points=_points(columns.points),
        polylines=_polylines(columns.polylines),
        masks=_masks(columns.masks),
        spans=_spans(columns.spans),
    )


def _text(columns: _Columns, text_index: dict[str, int]) -> TextObjects:
    return TextObjects(
        row=np.asarray(columns.text_row, dtype=np.int64),
        feature=np.asarray([text_index[f] for f in columns.text_feature], dtype=np.int64),
        confidence=_confidences(columns.text_confidence),
    )


def _confidences(values: list[float | None]) -> np.ndarray:
    """A missing confidence is 1 (docs/metrics.md §3)."""
    confidence = np.asarray([1.0 if v is None else v for v in values], dtype=np.float64)
    if not np.isfinite(confidence).all():
        raise ValueError("a confidence must be a finite number")
    return confidence


def _boxes(values: list[tuple[float, float, float, float]]) -> np.ndarray:
    boxes = np.asarray(values, dtype=np.float64).reshape(-1, 4)
    if not np.isfinite(boxes).all():
        raise ValueError("a box must have finite coordinates")
    if (boxes[:, 2:] < 0).any():
        raise ValueError("a box must have a width and a height >= 0")
    return boxes


def _spans(values: list[tuple[int, int]]) -> np.ndarray:
    spans = np.asarray(values, dtype=np.int64).reshape(-1, 2)
    if (spans[:, 0] >= spans[:, 1]).any():
        raise ValueError("a span must have start < end")
    return spans


def _masks(values: list[RLE]) -> tuple[RLE, ...]:
    for rle in values:
        h, w = rle["size"]
        if h <= 0 or w <= 0:
            raise ValueError("a mask must have a positive height and width")
    return tuple(values)


def _vertex_columns(
    shapes: list[tuple[tuple[float, float], ...]], minimum: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Flat coordinates of the shapes with at least `minimum` vertices, their shape ids."""
    lengths = np.fromiter((len(s) for s in shapes), dtype=np.int64, count=len(shapes))
    full = np.flatnonzero(lengths >= minimum)
    flat = [xy for i in full.tolist() for xy in shapes[i]]
    coords = np.asarray(flat, dtype=np.float64).reshape(-1, 2)
    if not np.isfinite(coords).all():
        raise ValueError("coordinates must be finite")
    ids = np.repeat(np.arange(full.size), lengths[full])
    return coords, ids, full


def polygon_shapes(shapes: list[tuple[tuple[tuple[float, float], ...], ...]]) -> np.ndarray:
    """Polygons (each its rings) as shapely geometries: each ring repaired with make_valid,
    its polygonal part kept, and an object's rings unioned.

    A ring of fewer than 3 vertices has no area: it is the empty polygon.
    """
    counts = np.fromiter((len(rings) for rings in shapes), dtype=np.int64, count=len(shapes))
    flat = [ring for rings in shapes for ring in rings]
    out = np.full(len(flat), shapely.Polygon(), dtype=object)
    coords, ids, full = _vertex_columns(flat, 3)
    if full.size:
        rings = shapely.linearrings(coords, indices=ids)
        out[full] = polygonal_part(shapely.make_valid(shapely.polygons(rings)))
    if (counts == 1).all():
        return out
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    merged: np.ndarray = out[starts]
    for i in np.flatnonzero(counts > 1).tolist():
        union = shapely.union_all(out[starts[i] : starts[i] + counts[i]])
        merged[i] = polygonal_part(np.asarray([union], dtype=object))[0]
    return merged


def polygonal_part(geometries: np.ndarray) -> np.ndarray:
    """Each geometry reduced to its polygons: make_valid may add lines or points."""
    out = np.asarray(geometries, dtype=object).copy()
    types = shapely.get_type_id(out)
    polygonal = (types == shapely.GeometryType.POLYGON) | (
        types == shapely.GeometryType.MULTIPOLYGON
    )
    for i in np.flatnonzero(~polygonal).tolist():
        parts = shapely.get_parts(out[i])
        parts = shapely.get_parts(parts[np.isin(shapely.get_type_id(parts), (3, 6))])
        out[i] = shapely.multipolygons(parts) if parts.size else shapely.Polygon()
    return out


def _points(values: list[tuple[float, float]]) -> np.ndarray:
    coords = np.asarray(values, dtype=np.float64).reshape(-1, 2)
    if not np.isfinite(coords).all():
        raise ValueError("coordinates must be finite")
    return shapely.points(coords) if len(values) else np.empty(0, dtype=object)


def _polylines(shapes: list[tuple[tuple[float, float], ...]]) -> np.ndarray:
    out = np.full(len(shapes), shapely.LineString(), dtype=object)
    coords, ids, full = _vertex_columns(shapes, 2)
    if full.size:
        out[full] = shapely.linestrings(coords, indices=ids)
    single = [i for i, s in enumerate(shapes) if len(s) == 1]
    if single:
        out[single] = shapely.points(np.asarray([shapes[i][0] for i in single], dtype=np.float64))
    return out
