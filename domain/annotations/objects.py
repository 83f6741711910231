"""Value objects for one annotation or prediction object of a data row.

A ground-truth label and a prediction have the same shape; a prediction may carry a
confidence. Geometry is stored as uploaded (continuous pixel coordinates, character
offsets, COCO run-length encoding for masks) so the metric rules see exactly what the
user sent.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Box:
    """An axis-aligned bounding box in pixels: the uploaded {top, left, height, width}."""

    left: float
    top: float
    width: float
    height: float


@dataclass(frozen=True, slots=True)
class Polygon:
    """A closed ring of (x, y) vertices, not repeating the first one; `more` holds further
    rings of the same object (COCO's list of rings), whose region is the union of all."""

    points: tuple[tuple[float, float], ...]
    more: tuple[tuple[tuple[float, float], ...], ...] = ()

    @property
    def rings(self) -> tuple[tuple[tuple[float, float], ...], ...]:
        return (self.points, *self.more)

    @property
    def vertices(self) -> tuple[tuple[float, float], ...]:
        """Every vertex of every ring."""
        return self.points if not self.more else tuple(p for ring in self.rings for p in ring)


@dataclass(frozen=True, slots=True)
class Point:
    x: float
    y: float


@dataclass(frozen=True, slots=True)
class Polyline:
    points: tuple[tuple[float, float], ...]


@dataclass(frozen=True, slots=True)
class Mask:
    """One instance mask as COCO compressed RLE (column-major), of the data row's size."""

    height: int
    width: int
    counts: bytes


@dataclass(frozen=True, slots=True)
class Span:
    """A named-entity span of characters [start, end)."""

    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Answer:
    """One answer of a radio or checklist question; its feature is "<question>/<answer>"."""

    question: str
    answer: str


@dataclass(frozen=True, slots=True)
class TextAnswer:
    """A free-text answer: counted, never matched."""

    question: str
    text: str


Geometry = Box | Polygon | Point | Polyline | Mask | Span | Answer | TextAnswer


@dataclass(frozen=True, slots=True)
class Annotation:
    """One object of one ontology feature on a data row.

    `feature` is the feature's name: the tool's name for objects, "<question>/<answer>" for
    radio and checklist answers, the question's name for free text. `confidence` is None
    when the upload gave none (the metric rules read it as 1).

    `iscrowd` and `area` (docs/metrics.md §9) are ground truth only, on a box, polygon or mask:
    a crowd region takes no part in matching and makes the predictions it covers ignored;
    `area` (>= 0, None when not given) is what COCO's small / medium / large ranges use.
    """

    feature: str
    geometry: Geometry
    confidence: float | None = None
    classifications: tuple[Annotation, ...] = field(default=())
    iscrowd: bool = False
    area: float | None = None
