"""Hypothesis strategies for annotations of every kind, with consistent nested names.

Names follow domain.ontology: a nested question is "<parent feature>/<question>", an answer
feature "<question>/<answer>", a free-text feature its question. Geometry is valid by the
parser's rules (finite numbers, positive box sides, open polygon rings of 3+ points, ...).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from pycocotools import mask as coco_mask

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

# Any non-empty name without control characters; "/" included, since paths must cope.
names = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=8)
coordinates = st.floats(min_value=-1e7, max_value=1e7, allow_nan=False, allow_infinity=False)
sides = st.floats(min_value=1e-6, max_value=1e7, allow_nan=False, allow_infinity=False)
confidences = st.none() | st.floats(min_value=0.0, max_value=1.0)
vertices = st.tuples(coordinates, coordinates)

boxes = st.builds(Box, left=coordinates, top=coordinates, width=sides, height=sides)
points = st.builds(Point, coordinates, coordinates)
# The parser drops a repeated closing vertex, so rings here are open.
rings = st.lists(vertices, min_size=3, max_size=8).filter(lambda p: p[0] != p[-1]).map(tuple)
# Mostly one ring; sometimes several (COCO's rings of one object).
polygons = st.builds(Polygon, rings, st.lists(rings, max_size=2).map(tuple) | st.just(()))
polylines = st.lists(vertices, min_size=2, max_size=8).map(lambda p: Polyline(tuple(p)))
spans = st.tuples(st.integers(0, 10**9), st.integers(1, 10**6)).map(
    lambda t: Span(t[0], t[0] + t[1])
)


@st.composite
def binary_masks(draw: st.DrawFn, max_side: int = 9) -> np.ndarray:
    height = draw(st.integers(1, max_side))
    width = draw(st.integers(1, max_side))
    return draw(hnp.arrays(np.uint8, (height, width), elements=st.integers(0, 1)))


def to_mask(binary: np.ndarray) -> Mask:
    encoded = coco_mask.encode(np.asfortranarray(binary, dtype=np.uint8))
    return Mask(binary.shape[0], binary.shape[1], encoded["counts"])


masks = binary_masks().map(to_mask)
object_geometries = st.one_of(boxes, points, polygons, polylines, spans, masks)


@st.composite
def nested_classifications(draw: st.DrawFn, parent: str, depth: int) -> tuple[Annotation, ...]:
    """Answers to questions hanging off the feature `parent`."""
    if depth <= 0:
        return ()
    items: list[Annotation] = []
    for _ in range(draw(st.integers(0, 2))):
        question = f"{parent}/{draw(names)}"
        items.append(draw(answer_annotations(question, depth - 1)))
    return tuple(items)


@st.composite
def answer_annotations(draw: st.DrawFn, question: str, depth: int) -> Annotation:
    confidence = draw(confidences)
    if draw(st.booleans()):
        return Annotation(question, TextAnswer(question, draw(st.text(max_size=20))), confidence)
    answer = draw(names)
    feature = f"{question}/{answer}"
    nested = draw(nested_classifications(feature, depth))
    return Annotation(feature, Answer(question, answer), confidence, nested)


@st.composite
def object_annotations(draw: st.DrawFn, depth: int = 2) -> Annotation:
    feature = draw(names)
    geometry = draw(object_geometries)
    nested = draw(nested_classifications(feature, depth))
    return Annotation(feature, geometry, draw(confidences), nested)


@st.composite
def any_annotations(draw: st.DrawFn, depth: int = 2) -> Annotation:
    """Any top-level annotation: an object or an answer, possibly with nested ones."""
    if draw(st.booleans()):
        return draw(object_annotations(depth))
    return draw(answer_annotations(draw(names), depth))


def rows(max_rows: int = 6, max_objects: int = 5) -> Any:
    """Data rows with their annotation sets; sets may be empty, ids may repeat."""
    row_ids = st.text(min_size=1, max_size=10)
    objects = st.lists(any_annotations(), max_size=max_objects)
    return st.lists(st.tuples(row_ids, objects), max_size=max_rows)
