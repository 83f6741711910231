"""Splitting many data rows' annotations into chunks whose encoded payloads stay bounded.

Events must stay well under ~500 KB. A chunk's payload size is estimated
from what domain.annotations.columns stores per object (fixed-width columns, strings once
per chunk, base64 for bytes), so rows can be cut before anything is encoded.

`chunk_parts` is the algorithm over any sequence type: a row's objects may be annotations
or any other handle on them (domain.annotations.box_payloads passes ranges of a sorted
column), given a `measure` of their column bytes and strings. `chunk_rows` is it for
annotation lists.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from typing import Final, Protocol, Self, TypeVar

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
from domain.errors import ValidationFailed


class Sliceable(Protocol):
    """A sequence whose slices are of its own type: a list, a range."""

    def __len__(self) -> int: ...

    def __getitem__(self, index: slice, /) -> Self: ...


T = TypeVar("T")
S = TypeVar("S", bound=Sliceable)
Rows = list[tuple[str, list[Annotation]]]

# A bound on everything but the columns' contents: keys, dtypes, shapes, base64 padding and
# the transcoder's type tag for each of up to 18 columns.
FIXED_BYTES: Final = 4096
# A row's end offset (uint64 at most, base64) and the comma after its id.
ROW_BYTES: Final = 12
# Per object: feature index (uint32 at most), kind, confidence, children count (uint32).
OBJECT_BYTES: Final = 4 + 1 + 8 + 4
# Per object of a kind with its own fixed-width column.
GEOMETRY_BYTES: Final[dict[type, int]] = {Box: 32, Point: 16, Span: 16, Answer: 8, TextAnswer: 8}


class ObjectTooLarge(ValidationFailed):
    """One annotation too big for any chunk; `row_id` names its data row, for the caller
    to name the line (application.upload_lines.lines_of_rows)."""

    def __init__(self, row_id: str, message: str) -> None:
        super().__init__(message)
        self.row_id = row_id


def chunk_rows(
    rows: Iterable[tuple[str, Sequence[Annotation]]], max_bytes: int = 200_000
) -> list[Rows]:
    """Split rows into consecutive chunks whose payloads each stay under `max_bytes`.

    Rows stay whole where they fit. A row too big for one chunk alone is split between its
    top-level annotations over consecutive chunks, so its id then appears at the end of one
    chunk and the start of the next: a reader must join consecutive parts of the same row
    before replacing that row's set. One annotation too big for a chunk is rejected.
    """
    listed = ((row_id, list(objects)) for row_id, objects in rows)
    return chunk_parts(listed, annotation_cost, _feature, max_bytes)


def chunk_parts(
    rows: Iterable[tuple[str, S]],
    measure: Callable[[S], tuple[int, set[str]]],
    feature: Callable[[S], str],
    max_bytes: int = 200_000,
) -> list[list[tuple[str, S]]]:
    """`chunk_rows` for rows of any sliceable sequence of objects.

    `measure(objects)` gives the column bytes (before base64) of those objects and the
    strings they use; `feature(one)` names the feature of a one-object slice, for the error.
    Whole rows are kept as given; a split row's parts are slices of it.
    """
    budget = max_bytes - FIXED_BYTES
    if budget <= 0:
        raise ValueError(f"max_bytes {max_bytes} leaves no room for annotations")
    chunks: list[list[tuple[str, S]]] = []
    chunk: list[tuple[str, S]] = []
    strings: set[str] = set()
    used = 0
    string_bytes: dict[str, int] = {}

    def cost(items: S, seen: set[str]) -> tuple[int, set[str]]:
        raw, found = measure(items)
        new = found - seen
        return _b64_bound(raw) + sum(_string_bytes(s, string_bytes) for s in new), new

    def close() -> None:
        nonlocal chunk, used, strings
        if chunk:
            chunks.append(chunk)
        chunk, used, strings = [], 0, set()

    for row_id, objects in rows:
        row_bytes = _string_bytes(row_id, string_bytes) + ROW_BYTES
        need, new = cost(objects, strings)
        if used + row_bytes + need > budget:
            close()
            need, new = cost(objects, strings)
        if row_bytes + need <= budget:
            chunk.append((row_id, objects))
            strings |= new
            used += row_bytes + need
            continue
        # Too big for any chunk: fill chunks with its objects one by one.
        start = 0
        for index in range(len(objects)):
            one_object = objects[index : index + 1]
            one, new = cost(one_object, strings)
            if used + row_bytes + one > budget:
                if index > start:
                    chunk.append((row_id, objects[start:index]))
                close()
                start = index
                one, new = cost(one_object, strings)
                if row_bytes + one > budget:
                    raise ObjectTooLarge(
                        row_id,
                        f"an annotation of {feature(one_object)!r} on data row {row_id!r} "
                        f"takes about {one} bytes, more than one event may hold ({max_bytes})",
                    )
            strings |= new
            used += one
        if len(objects) > start:
            chunk.append((row_id, objects[start:]))
            used += row_bytes
    close()
    return chunks


def annotation_cost(annotations: Iterable[Annotation]) -> tuple[int, set[str]]:
    """Column bytes (before base64) of these objects, and the strings they use."""
    raw = 0
    strings: set[str] = set()
    stack = list(annotations)
    while stack:
        annotation = stack.pop()
        geometry = annotation.geometry
        strings.add(annotation.feature)
        raw += OBJECT_BYTES + GEOMETRY_BYTES.get(type(geometry), 0)
        if annotation.iscrowd or annotation.area is not None:
            raw += 9  # the crowd byte and the area float of the optional columns
        if isinstance(geometry, Polygon):
            raw += 16 * len(geometry.vertices) + 8 * (1 + len(geometry.more)) + (8 if geometry.more else 0)
        elif isinstance(geometry, Polyline):
            raw += 16 * len(geometry.points) + 8
        elif isinstance(geometry, Mask):
            raw += 8 + 8 + len(geometry.counts)
        elif isinstance(geometry, Answer):
            strings.add(geometry.question)
            strings.add(geometry.answer)
        elif isinstance(geometry, TextAnswer):
            strings.add(geometry.question)
            strings.add(geometry.text)
        stack.extend(annotation.classifications)
    return raw, strings


def _feature(one: list[Annotation]) -> str:
    return one[0].feature


def _b64_bound(raw: int) -> int:
    return raw * 4 // 3 + 4


def _string_bytes(value: str, known: dict[str, int]) -> int:
    """Bytes of the string in the payload's JSON list, with its comma."""
    size = known.get(value)
    if size is None:
        if value.isascii() and value.isprintable() and '"' not in value and "\\" not in value:
            size = len(value) + 3  # nothing to escape: the quotes and the comma
        else:
            size = len(json.dumps(value, ensure_ascii=False).encode()) + 1
        known[value] = size
    return size
