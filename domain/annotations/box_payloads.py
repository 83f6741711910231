"""Box columns and an upload's other lines encoded into chunk payloads.

`prediction_payloads` encodes the rows of an upload, its plain boxes as columns
(domain.annotations.box_columns) and the lines the general parser took as annotations, into
exactly the chunk payloads that `chunk_rows` and `encode_rows` give for the same rows as
annotation objects. `crowded_rows` and `first_lines` read the same rows for the upload's
checks: the rows given too many predictions, and the first line of each row.
"""

from __future__ import annotations

from collections.abc import Sequence
from heapq import merge
from itertools import accumulate
from operator import itemgetter
from typing import Any, Final

import numpy as np

from domain.annotations.box_columns import BoxColumns
from domain.annotations.chunking import GEOMETRY_BYTES, OBJECT_BYTES, chunk_parts, chunk_rows
from domain.annotations.columns import box_payload, encode_rows
from domain.annotations.objects import Annotation, Box

BOX_BYTES: Final = OBJECT_BYTES + GEOMETRY_BYTES[Box]


def crowded_rows(
    boxes: BoxColumns,
    ref_rows: Sequence[str],
    others: Sequence[tuple[int, str, list[Annotation]]],
    limit: int,
) -> list[tuple[int, str, int]]:
    """The rows given more than `limit` predictions, as (first line, data row id, count).

    `ref_rows` and `others` are as `prediction_payloads` takes them."""
    per_ref = np.bincount(boxes.ref, minlength=len(ref_rows)).tolist() if len(boxes) else []
    counts: dict[str, int] = {}
    for row_id, count in zip(ref_rows, per_ref, strict=False):
        counts[row_id] = counts.get(row_id, 0) + count
    for _, row_id, objects in others:
        counts[row_id] = counts.get(row_id, 0) + len(objects)
    crowded = {row_id: count for row_id, count in counts.items() if count > limit}
    if not crowded:
        return []
    first = first_lines(boxes, ref_rows, others)
    return sorted((first[row_id], row_id, count) for row_id, count in crowded.items())


def first_lines(
    boxes: BoxColumns, ref_rows: Sequence[str], others: Sequence[tuple[int, str, list[Annotation]]]
) -> dict[str, int]:
    """The first line of each data row of an upload (arguments as `prediction_payloads`)."""
    first: dict[str, int] = {}
    for line, ref in zip(boxes.line.tolist(), boxes.ref.tolist(), strict=True):
        first.setdefault(ref_rows[ref], line)
    for line, row_id, _ in others:
        first[row_id] = min(line, first.get(row_id, line))
    return first


def prediction_payloads(
    boxes: BoxColumns,
    ref_rows: Sequence[str],
    others: Sequence[tuple[int, str, list[Annotation]]],
    max_bytes: int = 200_000,
) -> tuple[list[dict[str, Any]], int]:
    """The chunk payloads of an upload's predictions, and how many rows they cover.

    `ref_rows` is the data row id of each of the boxes' refs; `others` are the lines the
    general parser took, in line order, as (line, data row id, annotations). Rows come in
    order of their first line, each with its predictions in line order: the rows and
    chunks `chunk_rows` and `encode_rows` give. Boxes alone are encoded from the columns;
    once another line holds an annotation, every prediction becomes an object.
    """
    numbers: dict[str, int] = {}
    ref_number = np.array([numbers.setdefault(r, len(numbers)) for r in ref_rows], np.intp)
    other_rows = [numbers.setdefault(row_id, len(numbers)) for _, row_id, _ in others]
    row_ids = list(numbers)
    box_rows = ref_number[boxes.ref]
    first = np.full(len(row_ids), np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first, box_rows, boxes.line)
    other_lines = np.array([line for line, _, _ in others], dtype=np.int64)
    np.minimum.at(first, np.array(other_rows, dtype=np.intp), other_lines)
    order = np.argsort(first)
    if any(annotations for _, _, annotations in others):
        by_row: list[list[Annotation]] = [[] for _ in row_ids]
        box_lines = zip(boxes.line.tolist(), box_rows.tolist(), boxes.annotations(), strict=True)
        lines = (
            (line, row, [annotation]) for line, row, annotation in box_lines
        )
        general = zip(other_lines.tolist(), other_rows, (a for _, _, a in others), strict=True)
        for _, row, annotations in merge(lines, general, key=itemgetter(0)):
            by_row[row].extend(annotations)
        rows = [(row_ids[i], by_row[i]) for i in order.tolist()]
        return [encode_rows(part) for part in chunk_rows(rows, max_bytes)], len(rows)
    rank = np.empty(len(order), dtype=np.intp)
    rank[order] = np.arange(len(order))
    sort = np.argsort(rank[box_rows], kind="stable")
    ends = np.cumsum(np.bincount(rank[box_rows], minlength=len(order))).tolist()
    parts = [
        (row_ids[row], range(start, end))
        for row, start, end in zip(order.tolist(), [0, *ends][:-1], ends, strict=True)
    ]
    feature = boxes.feature[sort]
    names: list[str] = np.array(boxes.features, dtype=object)[feature].tolist()

    def measure(objects: range) -> tuple[int, set[str]]:
        return BOX_BYTES * len(objects), set(names[objects.start : objects.stop])

    chunks = chunk_parts(parts, measure, lambda one: names[one.start], max_bytes)
    box, confidence = boxes.box[sort], boxes.confidence[sort]
    payloads = [_payload(chunk, boxes.features, feature, box, confidence) for chunk in chunks]
    return payloads, len(row_ids)


def _payload(
    chunk: list[tuple[str, range]],
    features: list[str],
    feature: np.ndarray,
    box: np.ndarray,
    confidence: np.ndarray,
) -> dict[str, Any]:
    """One chunk's payload; its parts are consecutive ranges of the sorted columns."""
    start, end = chunk[0][1].start, chunk[-1][1].stop
    used, first, inverse = np.unique(feature[start:end], return_index=True, return_inverse=True)
    by_first = np.argsort(first)
    number = np.empty(len(used), dtype=np.intp)
    number[by_first] = np.arange(len(used))
    return box_payload(
        [row_id for row_id, _ in chunk],
        list(accumulate(len(objects) for _, objects in chunk)),
        [features[i] for i in used[by_first].tolist()],
        number[inverse],
        confidence[start:end],
        box[start:end],
    )
