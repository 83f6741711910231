"""Annotations back to NDJSON lines (for exports): what `parse_annotation_line` reads back."""

from __future__ import annotations

from typing import Any

from domain.annotations.ndjson.lines import DataRowRef
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


def annotation_to_line(row: DataRowRef, annotation: Annotation) -> dict[str, Any]:
    """The line `parse_annotation_line` reads back as this annotation (for exports)."""
    line: dict[str, Any] = {
        "dataRow": {"id": row.id} if row.id is not None else {"globalKey": row.global_key}
    }
    line.update(_to_item(annotation, None))
    return line


def polygon_value(polygon: Polygon) -> list[Any]:
    """A polygon as uploaded: a list of {x, y} points, or a list of rings when it has several."""
    rings = [[{"x": x, "y": y} for x, y in ring] for ring in polygon.rings]
    return rings if polygon.more else rings[0]


def _to_item(annotation: Annotation, parent: str | None) -> dict[str, Any]:
    geometry = annotation.geometry
    item: dict[str, Any]
    if isinstance(geometry, Answer | TextAnswer):
        item = {"name": _relative(geometry.question, parent)}
        if isinstance(geometry, TextAnswer):
            item["answer"] = geometry.text
            if annotation.confidence is not None:
                item["confidence"] = annotation.confidence
            return item
        answer: dict[str, Any] = {"name": geometry.answer}
        if annotation.confidence is not None:
            answer["confidence"] = annotation.confidence
        if annotation.classifications:
            answer["classifications"] = _to_items(annotation)
        item["answer"] = answer
        return item
    if parent is not None:
        raise ValueError(f"a nested classification cannot be a {type(geometry).__name__}")
    key, value = _geometry_value(geometry)
    item = {"name": annotation.feature, key: value}
    if annotation.confidence is not None:
        item["confidence"] = annotation.confidence
    if annotation.classifications:
        item["classifications"] = _to_items(annotation)
    if annotation.iscrowd:
        item["iscrowd"] = True
    if annotation.area is not None:
        item["area"] = annotation.area
    return item


def _to_items(annotation: Annotation) -> list[dict[str, Any]]:
    return [_to_item(child, annotation.feature) for child in annotation.classifications]


def _relative(name: str, parent: str | None) -> str:
    if parent is None:
        return name
    if not name.startswith(parent + "/"):
        raise ValueError(f"nested question {name!r} is not under {parent!r}")
    return name[len(parent) + 1 :]


def _geometry_value(geometry: Geometry) -> tuple[str, Any]:
    if isinstance(geometry, Box):
        box = {"top": geometry.top, "left": geometry.left}
        return "bbox", box | {"height": geometry.height, "width": geometry.width}
    if isinstance(geometry, Polygon):
        return "polygon", polygon_value(geometry)
    if isinstance(geometry, Point):
        return "point", {"x": geometry.x, "y": geometry.y}
    if isinstance(geometry, Polyline):
        return "line", [{"x": x, "y": y} for x, y in geometry.points]
    if isinstance(geometry, Mask):
        rle = {"size": [geometry.height, geometry.width], "counts": geometry.counts.decode("ascii")}
        return "mask", {"rle": rle}
    if isinstance(geometry, Span):
        return "location", {"start": geometry.start, "end": geometry.end}
    raise ValueError(f"not an object geometry: {geometry!r}")
