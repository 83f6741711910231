"""A compact columnar form of many data rows' annotations, for storing them in events.

Events must stay well under ~500 KB, and a million predictions must not cost
a million JSON objects. So a batch of rows becomes a handful of numpy columns, each stored
as {"dtype", "shape", "data": bytes} (never pickle), plus two lists of strings:

    rows        data row ids                  row_ends   objects up to the end of each row
    strings     feature / question / answer / free-text strings, each once
    feature     string index per object       kind       geometry code per object
    confidence  float64 per object, NaN = none (left out when no object has one)
    children    direct nested classifications per object (left out when there are none)
    box, point, span                          fixed-width rows of their kind's objects
    polygon_ends + polygon_xy (per ring; polygon_rings: rings per polygon, left out when
    every polygon has one), polyline_ends + polyline_xy, mask_size + mask_ends + mask_counts
    answer, text                              (question, answer / text) string indices
    crowd       1 per crowd region (docs/metrics.md §9), 0 otherwise (left out when none is one)
    area        float64 per object, NaN = none (left out when no object has one)

Objects are listed depth first (an object, then its nested classifications), so the
per-object columns cover nested ones too and `children` rebuilds the tree. A kind's own
columns hold its objects in that same order. Absent columns decode as empty.

This module writes the format and reads single columns; domain.annotations.column_decoding
turns a payload back into annotations.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Sequence
from itertools import accumulate
from typing import Any, Final

import numpy as np

# Splitting rows into bounded chunks lives next door; callers import it from here too.
from domain.annotations.chunking import chunk_rows as chunk_rows
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

FORMAT: Final = 1

BOX, POLYGON, POINT, POLYLINE, MASK, SPAN, ANSWER, TEXT = range(8)
_CODES: Final[dict[type, int]] = {
    Box: BOX,
    Polygon: POLYGON,
    Point: POINT,
    Polyline: POLYLINE,
    Mask: MASK,
    Span: SPAN,
    Answer: ANSWER,
    TextAnswer: TEXT,
}


def encode_rows(rows: Iterable[tuple[str, Sequence[Annotation]]]) -> dict[str, Any]:
    """The rows' annotations as JSON values and bytes; `decode_rows` gives them back equal."""
    encoder = _Encoder()
    row_ids: list[str] = []
    row_ends: list[int] = []
    for row_id, objects in rows:
        row_ids.append(row_id)
        encoder.add_all(objects)
        row_ends.append(len(encoder.kinds))
    return encoder.payload(row_ids, row_ends)


def box_payload(
    row_ids: list[str],
    row_ends: list[int],
    strings: list[str],
    features: np.ndarray,
    confidences: np.ndarray,
    boxes: np.ndarray,
) -> dict[str, Any]:
    """What `encode_rows` gives for rows of plain boxes (no nested classifications), from
    ready columns: `features` index `strings`, numbered in order of first use; confidences
    are NaN where there is none; boxes are rows of (left, top, width, height)."""
    payload: dict[str, Any] = {
        "format": FORMAT,
        "rows": row_ids,
        "row_ends": _pack(_unsigned(row_ends), row_ends),
        "strings": strings,
        "feature": _pack(_unsigned([int(features.max(initial=0))]), features),
        "kind": _pack("|u1", np.full(len(features), BOX, dtype=np.uint8)),
    }
    if not np.isnan(confidences).all():
        payload["confidence"] = _pack("<f8", confidences)
    if len(boxes):
        payload["box"] = _pack("<f8", boxes, 4)
    return payload


def payload_size(payload: dict[str, Any]) -> int:
    """Bytes of the payload as JSON with bytes as base64: what an event's size is held to."""
    return len(json.dumps(payload, ensure_ascii=False, separators=(",", ":"), default=_b64))


class _Encoder:
    """Collects the columns of objects added depth first."""

    def __init__(self) -> None:
        self.strings: dict[str, int] = {}
        self.kinds: list[int] = []
        self.features: list[int] = []
        self.confidences: list[float] = []
        self.children: list[int] = []
        self.nested = False
        self.crowds: list[int] = []
        self.areas: list[float] = []
        self.regions = False  # some object is a crowd region or has an area
        self.boxes: list[float] = []
        self.points: list[float] = []
        self.spans: list[int] = []
        self.answers: list[int] = []
        self.texts: list[int] = []
        self.polygon_ends: list[int] = []  # per ring
        self.polygon_xy: list[float] = []
        self.polygon_rings: list[int] = []  # per polygon
        self.polyline_ends: list[int] = []
        self.polyline_xy: list[float] = []
        self.mask_sizes: list[int] = []
        self.mask_ends: list[int] = []
        self.mask_counts: list[bytes] = []
        self.mask_bytes = 0

    def string(self, value: str) -> int:
        index = self.strings.get(value)
        if index is None:
            index = self.strings[value] = len(self.strings)
        return index

    def add_all(self, annotations: Sequence[Annotation]) -> None:
        for annotation in annotations:
            self.add(annotation)

    def add(self, annotation: Annotation) -> None:
        geometry = annotation.geometry
        confidence = annotation.confidence
        if confidence is None:
            confidence = np.nan
        elif confidence != confidence:
            # NaN is how a missing confidence is stored; a NaN one would come back as None.
            raise ValueError(f"confidence of {annotation.feature!r} is NaN")
        self.kinds.append(_CODES[type(geometry)])
        self.features.append(self.string(annotation.feature))
        self.confidences.append(confidence)
        self.children.append(len(annotation.classifications))
        area = annotation.area
        if annotation.iscrowd or area is not None:
            if area is not None and not area >= 0.0:
                raise ValueError(f"area of {annotation.feature!r} must be >= 0, not {area!r}")
            if not self.regions:
                # Earlier objects had neither: fill their places.
                self.regions = True
                self.crowds = [0] * (len(self.kinds) - 1)
                self.areas = [np.nan] * (len(self.kinds) - 1)
        if self.regions:
            self.crowds.append(1 if annotation.iscrowd else 0)
            self.areas.append(np.nan if area is None else area)
        if isinstance(geometry, Box):
            self.boxes.extend((geometry.left, geometry.top, geometry.width, geometry.height))
        else:
            self._add_geometry(geometry)
        if annotation.classifications:
            self.nested = True
            self.add_all(annotation.classifications)

    def _add_geometry(self, geometry: Geometry) -> None:
        if isinstance(geometry, Point):
            self.points.extend((geometry.x, geometry.y))
        elif isinstance(geometry, Polygon):
            for ring in geometry.rings:
                self.polygon_xy.extend(c for point in ring for c in point)
                self.polygon_ends.append(len(self.polygon_xy) // 2)
            self.polygon_rings.append(1 + len(geometry.more))
        elif isinstance(geometry, Polyline):
            self.polyline_xy.extend(c for point in geometry.points for c in point)
            self.polyline_ends.append(len(self.polyline_xy) // 2)
        elif isinstance(geometry, Mask):
            self.mask_sizes.extend((geometry.height, geometry.width))
            self.mask_counts.append(geometry.counts)
            self.mask_bytes += len(geometry.counts)
            self.mask_ends.append(self.mask_bytes)
        elif isinstance(geometry, Span):
            self.spans.extend((geometry.start, geometry.end))
        elif isinstance(geometry, Answer):
            self.answers.extend((self.string(geometry.question), self.string(geometry.answer)))
        elif isinstance(geometry, TextAnswer):
            self.texts.extend((self.string(geometry.question), self.string(geometry.text)))

    def payload(self, row_ids: list[str], row_ends: list[int]) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "format": FORMAT,
            "rows": row_ids,
            "row_ends": _pack(_unsigned(row_ends), row_ends),
            "strings": list(self.strings),
            "feature": _pack(_unsigned(self.features), self.features),
            "kind": _pack("|u1", self.kinds),
        }
        if any(c == c for c in self.confidences):
            payload["confidence"] = _pack("<f8", self.confidences)
        if self.nested:
            payload["children"] = _pack(_unsigned(self.children), self.children)
        if any(self.crowds):
            payload["crowd"] = _pack("|u1", self.crowds)
        if any(a == a for a in self.areas):
            payload["area"] = _pack("<f8", self.areas)
        columns: list[tuple[str, str, list[Any], int]] = [
            ("box", "<f8", self.boxes, 4),
            ("point", "<f8", self.points, 2),
            ("span", "<i8", self.spans, 2),
            ("answer", _unsigned(self.answers), self.answers, 2),
            ("text", _unsigned(self.texts), self.texts, 2),
            ("polygon_ends", _unsigned(self.polygon_ends), self.polygon_ends, 0),
            ("polygon_xy", "<f8", self.polygon_xy, 2),
            ("polyline_ends", _unsigned(self.polyline_ends), self.polyline_ends, 0),
            ("polyline_xy", "<f8", self.polyline_xy, 2),
            ("mask_size", "<u4", self.mask_sizes, 2),
            ("mask_ends", _unsigned(self.mask_ends), self.mask_ends, 0),
        ]
        for key, dtype, values, width in columns:
            if values:
                payload[key] = _pack(dtype, values, width)
        if any(count > 1 for count in self.polygon_rings):
            payload["polygon_rings"] = _pack(_unsigned(self.polygon_rings), self.polygon_rings)
        if self.mask_counts:
            payload["mask_counts"] = b"".join(self.mask_counts)
        return payload


def _unsigned(values: list[int]) -> str:
    """The narrowest little-endian unsigned dtype for these values."""
    top = max(values, default=0)
    for dtype, limit in (("|u1", 2**8), ("<u2", 2**16), ("<u4", 2**32)):
        if top < limit:
            return dtype
    return "<u8"


def _pack(dtype: str, values: Sequence[Any] | np.ndarray, width: int = 0) -> dict[str, Any]:
    array = np.array(values, dtype=dtype)
    if width:
        array = array.reshape(-1, width)
    return {"dtype": dtype, "shape": list(array.shape), "data": array.tobytes()}


def column(payload: dict[str, Any], key: str) -> np.ndarray:
    """One numpy column of a payload, read in place (empty when absent)."""
    stored = payload.get(key)
    if stored is None:
        return np.empty(0)
    array = np.frombuffer(stored["data"], dtype=np.dtype(stored["dtype"]))
    return array.reshape(stored["shape"])


def polygon_ring_spans(payload: dict[str, Any]) -> list[tuple[int, int]] | None:
    """Per polygon, the [start, end) of its rings among the payload's polygon rings; None
    when every polygon is one ring (no "polygon_rings" column)."""
    if "polygon_rings" not in payload:
        return None
    ends = list(accumulate(column(payload, "polygon_rings").tolist()))
    return list(zip(ragged_starts(ends), ends, strict=True))


def ragged_starts(ends: list[int]) -> list[int]:
    """Where each part of a ragged column starts, given where each ends."""
    return [0, *ends[:-1]] if ends else []


def _b64(value: Any) -> str:
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    raise TypeError(f"{type(value).__name__} is not a payload value")
