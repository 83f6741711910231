"""Annotation columns (domain.annotations.columns) turned back into annotations.

`decode_rows` gives back equal what `encode_rows` encoded. Each kind's geometries are built
column-wise from the kind's own columns, then interleaved in object order; `children`, when
present, rebuilds the nested classifications. The cyclic garbage collector is paused while
a batch is built: decoding makes no reference cycles, and the collector would rescan the
growing result over and over.
"""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from math import isnan
from typing import Any

import numpy as np

from domain.annotations.columns import (
    ANSWER,
    BOX,
    FORMAT,
    MASK,
    POINT,
    POLYGON,
    POLYLINE,
    SPAN,
    TEXT,
    column,
    polygon_ring_spans,
    ragged_starts,
)
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

Rows = list[tuple[str, list[Annotation]]]


def decode_rows(payload: dict[str, Any]) -> Rows:
    if payload.get("format") != FORMAT:
        raise ValueError(f"unknown annotation columns format {payload.get('format')!r}")
    with _without_cycle_collection():
        return _decode(payload)


def _decode(payload: dict[str, Any]) -> Rows:
    strings: list[str] = payload["strings"]
    kinds: list[int] = column(payload, "kind").tolist()
    count = len(kinds)
    features = [strings[i] for i in column(payload, "feature").tolist()]
    confidences: list[float | None] = (
        [None if isnan(c) else c for c in column(payload, "confidence").tolist()]
        if "confidence" in payload
        else [None] * count
    )
    children: list[int] | None = (
        column(payload, "children").tolist() if "children" in payload else None
    )
    geometries = _decode_geometries(payload, kinds, strings)
    if not len(features) == len(confidences) == len(geometries) == count:
        raise ValueError("annotation columns differ in length")
    # Crowd regions and areas (§9): absent columns (older payloads too) mean none.
    regions = "crowd" in payload or "area" in payload
    crowds: list[bool] = (
        [bool(v) for v in column(payload, "crowd").tolist()]
        if "crowd" in payload
        else [False] * count
    )
    areas: list[float | None] = (
        [None if isnan(v) else v for v in column(payload, "area").tolist()]
        if "area" in payload
        else [None] * count
    )
    if not len(crowds) == len(areas) == count:
        raise ValueError("annotation columns differ in length")
    row_ends: list[int] = column(payload, "row_ends").tolist()
    if len(row_ends) != len(payload["rows"]) or (row_ends and row_ends[-1] != count):
        raise ValueError("annotation columns and rows disagree")
    if children is None:
        if regions:
            flat = list(
                map(Annotation, features, geometries, confidences, [()] * count, crowds, areas)
            )
        else:
            flat = list(map(Annotation, features, geometries, confidences))
        starts = ragged_starts(row_ends)
        return [
            (row_id, flat[start:end])
            for row_id, start, end in zip(payload["rows"], starts, row_ends, strict=True)
        ]
    if len(children) != count:
        raise ValueError("annotation columns differ in length")

    def build(index: int) -> tuple[Annotation, int]:
        """The object at `index` with its nested ones, and the index after them."""
        nested: list[Annotation] = []
        following = index + 1
        for _ in range(children[index]):
            child, following = build(following)
            nested.append(child)
        annotation = Annotation(
            features[index],
            geometries[index],
            confidences[index],
            tuple(nested),
            crowds[index],
            areas[index],
        )
        return annotation, following

    rows: Rows = []
    index = 0
    for row_id, end in zip(payload["rows"], row_ends, strict=True):
        annotations: list[Annotation] = []
        while index < end:
            annotation, index = build(index)
            annotations.append(annotation)
        if index != end:
            raise ValueError(f"nested classifications of row {row_id!r} run past the row")
        rows.append((row_id, annotations))
    return rows


@contextmanager
def _without_cycle_collection() -> Iterator[None]:
    """Pause the cyclic garbage collector while a batch of value objects is built.

    Decoding allocates two objects per annotation and no reference cycles, yet the
    collector would rescan the growing result over and over: it triples decoding time.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _decode_geometries(
    payload: dict[str, Any], kinds: list[int], strings: list[str]
) -> list[Geometry]:
    """Each kind's objects built column-wise, then interleaved in object order."""
    by_kind: dict[int, list[Any]] = {
        BOX: _objects(Box, column(payload, "box"), 4),
        POINT: _objects(Point, column(payload, "point"), 2),
        SPAN: _objects(Span, column(payload, "span"), 2),
        ANSWER: _strings(Answer, column(payload, "answer"), strings),
        TEXT: _strings(TextAnswer, column(payload, "text"), strings),
        POLYGON: _polygons(payload),
        POLYLINE: list(map(Polyline, _ragged(payload, "polyline"))),
        MASK: _masks(payload),
    }
    present = {kind: objects for kind, objects in by_kind.items() if objects}
    tally = Counter(kinds)
    if set(tally) - set(by_kind):
        raise ValueError(f"unknown geometry codes {sorted(set(tally) - set(by_kind))}")
    if any(len(by_kind[kind]) != tally.get(kind, 0) for kind in by_kind):
        raise ValueError("annotation columns hold a different number of geometries and objects")
    if len(present) == 1:
        return next(iter(present.values()))
    iterators = {kind: iter(objects) for kind, objects in present.items()}
    return [next(iterators[kind]) for kind in kinds]


def _objects(kind: type, array: np.ndarray, width: int) -> list[Any]:
    if not len(array):
        return []
    return list(map(kind, *(array[:, i].tolist() for i in range(width))))


def _strings(kind: type, array: np.ndarray, strings: list[str]) -> list[Any]:
    if not len(array):
        return []
    firsts = [strings[i] for i in array[:, 0].tolist()]
    seconds = [strings[i] for i in array[:, 1].tolist()]
    return list(map(kind, firsts, seconds))


def _ragged(payload: dict[str, Any], kind: str) -> list[tuple[tuple[float, float], ...]]:
    xy = column(payload, f"{kind}_xy")
    if not len(xy):
        return []
    vertices = list(zip(xy[:, 0].tolist(), xy[:, 1].tolist(), strict=True))
    ends: list[int] = column(payload, f"{kind}_ends").tolist()
    return [tuple(vertices[start:end]) for start, end in zip(ragged_starts(ends), ends, strict=True)]


def _polygons(payload: dict[str, Any]) -> list[Polygon]:
    rings = _ragged(payload, "polygon")
    spans = polygon_ring_spans(payload)
    if spans is None:
        return list(map(Polygon, rings))
    return [Polygon(rings[start], tuple(rings[start + 1 : end])) for start, end in spans]


def _masks(payload: dict[str, Any]) -> list[Mask]:
    counts: bytes = payload.get("mask_counts", b"")
    sizes = column(payload, "mask_size").tolist()
    ends: list[int] = column(payload, "mask_ends").tolist()
    return [
        Mask(height, width, counts[start:end])
        for (height, width), start, end in zip(sizes, ragged_starts(ends), ends, strict=True)
    ]
