"""A chunk of encoded annotations (domain.annotations.columns) straight to per-row JSON.

Projecting a million predictions through value objects (decode_rows, then
annotation_to_json) costs about 8 s of Python; building the NDJSON items directly from the
numpy columns costs a fraction of that. This reads columns format 1 for objects without
nested classifications, the bulk case; anything else (`children`, an unknown format)
returns None and the caller takes the value-object path, which gives the same JSON.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from math import isnan
from typing import Any

import orjson

from domain.annotations import columns as c

Item = dict[str, Any]
RowSets = list[tuple[str, bytes, int]]

_KEYS = {c.BOX: "bbox", c.POINT: "point", c.SPAN: "location", c.POLYGON: "polygon", c.POLYLINE: "line", c.MASK: "mask"}
_KNOWN = frozenset(
    {
        "format", "rows", "row_ends", "strings", "feature", "kind", "confidence", "box", "point",
        "span", "answer", "text", "polygon_ends", "polygon_xy", "polyline_ends", "polyline_xy",
        "mask_size", "mask_ends", "mask_counts", "polygon_rings",
    }
)


def _pairs(payload: dict[str, Any], key: str) -> list[list[Any]]:
    array = c.column(payload, key)
    return array.tolist() if len(array) else []


def _ragged(payload: dict[str, Any], kind: str) -> list[list[dict[str, float]]]:
    xy = _pairs(payload, f"{kind}_xy")
    ends: list[int] = c.column(payload, f"{kind}_ends").tolist()
    vertices = [{"x": x, "y": y} for x, y in xy]
    return [vertices[start:end] for start, end in zip([0, *ends[:-1]], ends, strict=True)] if ends else []


def _polygons(payload: dict[str, Any]) -> list[Any]:
    """Each polygon's ring, or its list of rings when the chunk says how many (several)."""
    rings = _ragged(payload, "polygon")
    spans = c.polygon_ring_spans(payload)
    if spans is None:
        return rings
    return [rings[start] if end - start == 1 else rings[start:end] for start, end in spans]


def _masks(payload: dict[str, Any]) -> list[dict[str, Any]]:
    counts: bytes = payload.get("mask_counts", b"")
    ends: list[int] = c.column(payload, "mask_ends").tolist()
    if not ends:
        return []
    sizes = _pairs(payload, "mask_size")
    return [
        {"rle": {"size": [h, w], "counts": counts[start:end].decode("ascii")}}
        for (h, w), start, end in zip(sizes, [0, *ends[:-1]], ends, strict=True)
    ]


def _geometries(payload: dict[str, Any]) -> dict[int, list[Any]]:
    return {
        c.BOX: [{"top": t, "left": left, "height": h, "width": w} for left, t, w, h in _pairs(payload, "box")],
        c.POINT: [{"x": x, "y": y} for x, y in _pairs(payload, "point")],
        c.SPAN: [{"start": s, "end": e} for s, e in _pairs(payload, "span")],
        c.POLYGON: _polygons(payload),
        c.POLYLINE: _ragged(payload, "polyline"),
        c.MASK: _masks(payload),
    }


def _answer_items(payload: dict[str, Any], key: str, strings: list[str]) -> list[tuple[str, str]]:
    return [(strings[q], strings[a]) for q, a in _pairs(payload, key)]


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    # A million fresh dicts would make the cyclic collector rescan them over and over;
    # they hold no cycles.
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _items(payload: dict[str, Any]) -> list[Item]:
    strings: list[str] = payload["strings"]
    kinds: list[int] = c.column(payload, "kind").tolist()
    features = [strings[i] for i in c.column(payload, "feature").tolist()]
    confidences: list[float | None] = (
        [None if isnan(x) else x for x in c.column(payload, "confidence").tolist()]
        if "confidence" in payload
        else [None] * len(kinds)
    )
    by_kind = _geometries(payload)
    answers = iter(_answer_items(payload, "answer", strings))
    texts = iter(_answer_items(payload, "text", strings))
    distinct = set(kinds)
    if len(distinct) == 1 and next(iter(distinct)) in _KEYS:
        kind = next(iter(distinct))
        key = _KEYS[kind]
        items = [
            {"name": f, key: g, "confidence": x}
            for f, g, x in zip(features, by_kind[kind], confidences, strict=True)
        ]
        for item, x in zip(items, confidences, strict=True):
            if x is None:
                del item["confidence"]
        return items
    iterators = {kind: iter(objects) for kind, objects in by_kind.items()}
    items = []
    for kind, feature, confidence in zip(kinds, features, confidences, strict=True):
        item: Item
        if kind == c.ANSWER:
            question, answer = next(answers)
            inner: Item = {"name": answer}
            if confidence is not None:
                inner["confidence"] = confidence
            item = {"name": question, "answer": inner}
        elif kind == c.TEXT:
            question, text = next(texts)
            item = {"name": question, "answer": text}
            if confidence is not None:
                item["confidence"] = confidence
        else:
            item = {"name": feature, _KEYS[kind]: next(iterators[kind])}
            if confidence is not None:
                item["confidence"] = confidence
        items.append(item)
    return items


def chunk_row_sets(payload: dict[str, Any]) -> RowSets | None:
    """(row id, JSON list as UTF-8, count) per row of the chunk, or None for the value-object
    path."""
    if payload.get("format") != c.FORMAT or "children" in payload or set(payload) - _KNOWN:
        return None
    with _no_cycle_collection():
        items = _items(payload)
        ends: list[int] = c.column(payload, "row_ends").tolist()
        joined: dict[str, list[Item]] = {}
        start = 0
        for row_id, end in zip(payload["rows"], ends, strict=True):
            part = items[start:end]
            if row_id in joined:
                joined[row_id].extend(part)  # a row split over consecutive parts
            else:
                joined[row_id] = part
            start = end
        dumps: Callable[[Any], bytes] = orjson.dumps
        return [(row_id, dumps(objects), len(objects)) for row_id, objects in joined.items()]
