"""Annotations in the NDJSON line format (docs/uploads.md), as read models store and return them.

`annotation_to_json` gives back what an upload line says about one object (without its
"dataRow"); `annotation_from_json` reads such an item back, without validation (what is
stored was validated on upload). Read models store each data row's labels and predictions
as a JSON list of these items. `row_sets` turns an upload chunk into those lists: through
projections.columns_json straight from the columns for the bulk case, through value
objects and `annotation_to_json` otherwise; both write the same bytes.

Classification answers: a radio or checklist answer, Annotation(feature="<q>/<a>",
geometry=Answer(q, a)), is {"name": q, "answer": {"name": a, "confidence"?,
"classifications"?}}; a free-text answer is {"name": q, "answer": "text", "confidence"?}.
Nested classifications name their question relative to the feature they hang off, as on
upload ("color" under "car" is the question "car/color"). A crowd region has
"iscrowd": true and a given area "area" (docs/metrics.md §9); items without them are unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import orjson

from domain.annotations.column_decoding import decode_rows
from domain.annotations.ndjson.encoding import polygon_value
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
from projections.columns_json import chunk_row_sets

Item = dict[str, Any]


def _box(g: Box) -> tuple[str, Any]:
    return "bbox", {"top": g.top, "left": g.left, "height": g.height, "width": g.width}


def _polygon(g: Polygon) -> tuple[str, Any]:
    return "polygon", polygon_value(g)


def _point(g: Point) -> tuple[str, Any]:
    return "point", {"x": g.x, "y": g.y}


def _polyline(g: Polyline) -> tuple[str, Any]:
    return "line", [{"x": x, "y": y} for x, y in g.points]


def _mask(g: Mask) -> tuple[str, Any]:
    return "mask", {"rle": {"size": [g.height, g.width], "counts": g.counts.decode("ascii")}}


def _span(g: Span) -> tuple[str, Any]:
    return "location", {"start": g.start, "end": g.end}


_OBJECT_WRITERS: dict[type, Callable[[Any], tuple[str, Any]]] = {
    Box: _box,
    Polygon: _polygon,
    Point: _point,
    Polyline: _polyline,
    Mask: _mask,
    Span: _span,
}


def annotation_to_json(a: Annotation) -> Item:
    """One annotation or prediction as an NDJSON item (the line without "dataRow")."""
    return _to_item(a, None)


def _to_item(a: Annotation, parent: str | None) -> Item:
    g = a.geometry
    writer = _OBJECT_WRITERS.get(type(g))
    if writer is not None:
        key, value = writer(g)
        item: Item = {"name": a.feature, key: value}
        if a.confidence is not None:
            item["confidence"] = a.confidence
        if a.classifications:
            item["classifications"] = [_to_item(c, a.feature) for c in a.classifications]
        # Crowd regions and areas (docs/metrics.md §9), only where given: other items unchanged.
        if a.iscrowd:
            item["iscrowd"] = True
        if a.area is not None:
            item["area"] = a.area
        return item
    if isinstance(g, Answer):
        answer: Item = {"name": g.answer}
        if a.confidence is not None:
            answer["confidence"] = a.confidence
        if a.classifications:
            answer["classifications"] = [_to_item(c, a.feature) for c in a.classifications]
        return {"name": _relative(g.question, parent), "answer": answer}
    if isinstance(g, TextAnswer):
        item = {"name": _relative(g.question, parent), "answer": g.text}
        if a.confidence is not None:
            item["confidence"] = a.confidence
        return item
    raise TypeError(f"unknown geometry {type(g).__name__}")


def _relative(question: str, parent: str | None) -> str:
    if parent is None:
        return question
    return question[len(parent) + 1 :] if question.startswith(parent + "/") else question


def _vertices(points: list[dict[str, float]]) -> tuple[tuple[float, float], ...]:
    return tuple((float(p["x"]), float(p["y"])) for p in points)


_OBJECT_READERS: dict[str, Callable[[Any], Geometry]] = {
    "bbox": lambda v: Box(float(v["left"]), float(v["top"]), float(v["width"]), float(v["height"])),
    "polygon": lambda v: (
        Polygon(_vertices(v[0]), tuple(map(_vertices, v[1:]))) if v and isinstance(v[0], list) else Polygon(_vertices(v))
    ),
    "point": lambda v: Point(float(v["x"]), float(v["y"])),
    "line": lambda v: Polyline(_vertices(v)),
    "mask": lambda v: Mask(
        int(v["rle"]["size"][0]), int(v["rle"]["size"][1]), v["rle"]["counts"].encode("ascii")
    ),
    "location": lambda v: Span(int(v["start"]), int(v["end"])),
}


def annotation_from_json(item: Item) -> Annotation:
    """The inverse of `annotation_to_json` for an item it wrote."""
    return _from_item(item, None)


def _from_item(item: Item, parent: str | None) -> Annotation:
    name: str = item["name"]
    if "answer" in item:
        question = name if parent is None else f"{parent}/{name}"
        answer = item["answer"]
        if isinstance(answer, str):
            return Annotation(question, TextAnswer(question, answer), item.get("confidence"))
        feature = f"{question}/{answer['name']}"
        nested = tuple(_from_item(c, feature) for c in answer.get("classifications", ()))
        return Annotation(feature, Answer(question, answer["name"]), answer.get("confidence"), nested)
    for key, reader in _OBJECT_READERS.items():
        if key in item:
            nested = tuple(_from_item(c, name) for c in item.get("classifications", ()))
            area = item.get("area")
            return Annotation(
                name,
                reader(item[key]),
                item.get("confidence"),
                nested,
                item.get("iscrowd", False) is True,
                None if area is None else float(area),
            )
    raise ValueError(f"stored annotation {name!r} has no geometry")


def annotations_json(annotations: Iterable[Annotation]) -> str:
    """A row's annotations as the JSON text of a list of items (a jsonb column's input)."""
    return orjson.dumps([_to_item(a, None) for a in annotations]).decode()


def annotations_from_json(items: list[Item] | None) -> list[Annotation]:
    return [_from_item(item, None) for item in items or ()]


def row_sets(payload: dict[str, Any]) -> list[tuple[str, bytes, int]]:
    """(row id, JSON list as UTF-8, count) per data row of an encoded chunk.

    A row with very many objects may be split over consecutive parts (see
    domain.annotations.columns.chunk_rows): its parts are joined here.
    """
    fast = chunk_row_sets(payload)
    if fast is not None:
        return fast
    rows: dict[str, list[Annotation]] = {}
    for row_id, objects in decode_rows(payload):
        rows.setdefault(row_id, []).extend(objects)
    return [
        (row_id, orjson.dumps([_to_item(a, None) for a in objects]), len(objects))
        for row_id, objects in rows.items()
    ]
