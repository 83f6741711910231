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
their nested classifications dropped (a crowd region counts for nothing).

`build_objects` (domain.metrics.build) fills these columns from annotations, holding each
feature to one kind with `check_kind`; domain.metrics.geometry_columns checks each kind's
table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from domain.annotations.objects import Box, Mask, Polygon
from domain.annotations.validation import TOOL_GEOMETRY
from domain.metrics.raster import Rings
from domain.ontology_features import Tool

# Kinds of geometry. The pool of a tool object is its kind; classification answers pool
# per question: ANSWER + the question's number.
BOX, POLYGON, MASK, POINT, POLYLINE, SPAN, ANSWER = range(7)
KIND_NAMES: tuple[str, ...] = ("box", "polygon", "mask", "point", "polyline", "span", "answer")
TEXT = -1  # a free-text answer's kind, for `check_kind` only: it is in no Side

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


CROWD_KINDS: dict[type, int] = {Box: BOX, Polygon: POLYGON, Mask: MASK}


# Kinds one feature may hold together: a POLYGON tool's polygons and masks.
_SHARED_KINDS = frozenset(CROWD_KINDS[geometry] for geometry in TOOL_GEOMETRY[Tool.POLYGON])


def check_kind(kinds: dict[str, tuple[int, str]], name: str, kind: int, question: str) -> None:
    seen = kinds.setdefault(name, (kind, question))
    if seen != (kind, question) and not {seen[0], kind} <= _SHARED_KINDS:
        raise ValueError(
            f"feature {name!r} is used as {_kind_name(kind, question)} and as {_kind_name(*seen)}"
        )


def _kind_name(kind: int, question: str) -> str:
    if kind == TEXT:
        return f"a free-text answer of {question!r}"
    if kind == ANSWER:
        return f"an answer of {question!r}"
    return f"a {KIND_NAMES[kind]}"
