"""A line's object geometry: bbox, polygon, point, line, location (and mask, in `masks`).

Each parser takes the geometry's value, the feature name and the line number, and raises
`AnnotationLineError` naming the item and the offending value.
"""

from __future__ import annotations

from collections.abc import Callable
from math import isfinite
from typing import Any, Final

from domain.annotations.ndjson.keys import BOX_KEY_SET, LOCATION_KEY_SET, XY_KEY_SET
from domain.annotations.ndjson.masks import read_mask
from domain.annotations.ndjson.values import (
    read_coordinate,
    read_object,
    read_offset,
    show_value,
)
from domain.annotations.objects import Box, Geometry, Point, Polygon, Polyline, Span
from domain.errors import AnnotationLineError


def _box(value: Any, name: str, line: int) -> Box:
    if type(value) is dict:
        # Fast path for the bulk case (four finite floats, positive sides); anything else
        # takes the checks below, which also word the error.
        top, left = value.get("top"), value.get("left")
        height, width = value.get("height"), value.get("width")
        if (
            type(top) is float
            and type(left) is float
            and type(height) is float
            and type(width) is float
            and len(value) == 4
            and isfinite(top + left + height + width)
            and width > 0.0
            and height > 0.0
        ):
            return Box(left, top, width, height)
    value = read_object(value, "bbox", name, line, BOX_KEY_SET)
    top = read_coordinate(value.get("top"), "bbox top", name, line)
    left = read_coordinate(value.get("left"), "bbox left", name, line)
    height = read_coordinate(value.get("height"), "bbox height", name, line)
    width = read_coordinate(value.get("width"), "bbox width", name, line)
    if width <= 0.0 or height <= 0.0:
        raise AnnotationLineError(
            line,
            f"bbox of {name!r} has width {show_value(width)} and height {show_value(height)}; "
            "both must be > 0",
        )
    return Box(left, top, width, height)


def _point(value: Any, name: str, line: int) -> Point:
    value = read_object(value, "point", name, line, XY_KEY_SET)
    return Point(
        read_coordinate(value.get("x"), "point x", name, line),
        read_coordinate(value.get("y"), "point y", name, line),
    )


def _vertices(value: Any, what: str, name: str, line: int) -> list[tuple[float, float]]:
    if type(value) is not list:
        raise AnnotationLineError(
            line, f"{what} of {name!r} must be a list of {{x, y}} points, got {show_value(value)}"
        )
    vertices = []
    for number, vertex in enumerate(value, 1):
        if type(vertex) is dict and vertex.keys() <= XY_KEY_SET:
            # Fast path for the bulk case (two finite floats); the rest words the error.
            x, y = vertex.get("x"), vertex.get("y")
            if type(x) is float and type(y) is float and isfinite(x) and isfinite(y):
                vertices.append((x, y))
                continue
        vertex = read_object(vertex, f"{what} point {number}", name, line, XY_KEY_SET)
        vertices.append(
            (
                read_coordinate(vertex.get("x"), f"{what} point {number} x", name, line),
                read_coordinate(vertex.get("y"), f"{what} point {number} y", name, line),
            )
        )
    return vertices


def _polygon(value: Any, name: str, line: int) -> Polygon:
    """One ring (a list of {x, y} points) or several (a list of such lists: COCO's rings of
    one object, unioned)."""
    if type(value) is list and value and all(type(ring) is list for ring in value):
        rings = [
            _ring(ring, f"polygon ring {number}", name, line)
            for number, ring in enumerate(value, 1)
        ]
        return Polygon(rings[0], tuple(rings[1:]))
    return Polygon(_ring(value, "polygon", name, line))


def _ring(value: Any, what: str, name: str, line: int) -> tuple[tuple[float, float], ...]:
    vertices = _vertices(value, what, name, line)
    # The value object holds an open ring; many exporters close it by repeating vertex 1.
    if len(vertices) > 1 and vertices[0] == vertices[-1]:
        vertices.pop()
    if len(vertices) < 3:
        raise AnnotationLineError(
            line, f"{what} of {name!r} has {len(vertices)} distinct points; it needs at least 3"
        )
    return tuple(vertices)


def _polyline(value: Any, name: str, line: int) -> Polyline:
    vertices = _vertices(value, "line", name, line)
    if len(vertices) < 2:
        raise AnnotationLineError(
            line, f"line of {name!r} has {len(vertices)} points; it needs at least 2"
        )
    return Polyline(tuple(vertices))


def _span(value: Any, name: str, line: int) -> Span:
    value = read_object(value, "location", name, line, LOCATION_KEY_SET)
    start = read_offset(value.get("start"), "location start", name, line)
    end = read_offset(value.get("end"), "location end", name, line)
    if start >= end:
        raise AnnotationLineError(
            line, f"location of {name!r} has start {start} >= end {end}; start must be < end"
        )
    return Span(start, end)


GEOMETRY_PARSERS: Final[dict[str, Callable[[Any, str, int], Geometry]]] = {
    "bbox": _box,
    "polygon": _polygon,
    "point": _point,
    "line": _polyline,
    "mask": read_mask,
    "location": _span,
}
