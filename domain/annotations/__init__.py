"""Ground-truth labels and predictions: geometry value objects, parsing and validation."""

from domain.annotations.objects import (
    Annotation,
    Answer,
    Box,
    Geometry,
    Mask,
    Point,
    Polygon,
    Polyline,
    Span,
    TextAnswer,
)

__all__ = [
    "Annotation",
    "Answer",
    "Box",
    "Geometry",
    "Mask",
    "Point",
    "Polygon",
    "Polyline",
    "Span",
    "TextAnswer",
]
