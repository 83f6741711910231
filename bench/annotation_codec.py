"""Figures of the annotation upload path: NDJSON parsing, validation and the event codec.

Run from the repository root: `python -m bench.annotation_codec`. Prints, for 100,000 box
predictions over 10,000 data rows (80 classes, uuid row ids, full-precision coordinates):
the encoded bytes per box, encode and decode throughput, chunking into bounded events,
parse + validate throughput of the same predictions as NDJSON lines, and the decoded lines
to chunk payloads both through objects and as box columns. Best of three runs.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import numpy as np
import orjson

from application.upload_lines import collector_paused
from domain.annotations.box_columns import BoxLines
from domain.annotations.box_payloads import prediction_payloads
from domain.annotations.column_decoding import decode_rows
from domain.annotations.columns import chunk_rows, encode_rows, payload_size
from domain.annotations.ndjson.lines import parse_annotation_line
from domain.annotations.objects import Annotation, Box
from domain.annotations.validation import validate_annotations
from domain.ontology import Ontology

ROWS = 10_000
PER_ROW = 10
CLASSES = 80
SEED = 7


def workload() -> tuple[list[tuple[str, list[Annotation]]], list[bytes]]:
    rng = np.random.default_rng(SEED)
    count = ROWS * PER_ROW
    left, top = rng.uniform(0, 600, count), rng.uniform(0, 440, count)
    width, height = rng.uniform(1, 200, count), rng.uniform(1, 200, count)
    confidence = rng.uniform(0, 1, count)
    feature = rng.integers(0, CLASSES, count)
    rows: list[tuple[str, list[Annotation]]] = []
    lines: list[bytes] = []
    for r in range(ROWS):
        row_id = str(uuid.UUID(int=int(rng.integers(0, 2**63)) << 64))
        annotations = []
        for i in range(r * PER_ROW, (r + 1) * PER_ROW):
            box = Box(float(left[i]), float(top[i]), float(width[i]), float(height[i]))
            name = f"class-{feature[i]:02d}"
            annotations.append(Annotation(name, box, float(confidence[i])))
            bbox = {"top": box.top, "left": box.left, "height": box.height, "width": box.width}
            line = {"dataRow": {"id": row_id}, "name": name, "bbox": bbox}
            lines.append(orjson.dumps(line | {"confidence": float(confidence[i])}))
        rows.append((row_id, annotations))
    return rows, lines


def best_of(runs: int, action: Callable[[], Any]) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(runs):
        start = time.perf_counter()
        result = action()
        best = min(best, time.perf_counter() - start)
    return best, result


def raw_bytes(payload: dict[str, Any]) -> int:
    """Bytes of the binary columns plus the UTF-8 of the string lists."""
    total = 0
    for value in payload.values():
        if isinstance(value, dict):
            total += len(value["data"])
        elif isinstance(value, bytes):
            total += len(value)
        elif isinstance(value, list):
            total += sum(len(s.encode()) for s in value)
    return total


def main() -> None:
    rows, lines = workload()
    count = ROWS * PER_ROW
    ontology = Ontology.build(
        [{"name": f"class-{c:02d}", "tool": "BBOX"} for c in range(CLASSES)],
        id_factory=lambda: str(uuid.uuid4()),
    )

    encode_s, payload = best_of(3, lambda: encode_rows(rows))
    decode_s, decoded = best_of(3, lambda: decode_rows(payload))
    assert decoded == rows
    chunk_s, chunks = best_of(3, lambda: chunk_rows(rows))
    sizes = [payload_size(encode_rows(chunk)) for chunk in chunks]

    def parse_all() -> int:
        parsed = 0
        for number, line in enumerate(lines, 1):
            _, annotations = parse_annotation_line(orjson.loads(line), number)
            validate_annotations(annotations, ontology, None, number)
            parsed += len(annotations)
        return parsed

    decoded_lines = [orjson.loads(line) for line in lines]

    def parse_only() -> None:
        for number, obj in enumerate(decoded_lines, 1):
            parse_annotation_line(obj, number)

    names = ontology.names_by_id

    def through_objects() -> list[dict[str, Any]]:
        """Decoded lines to chunk payloads as the general upload path takes them."""
        by_row: dict[str, list[Annotation]] = {}
        for number, obj in enumerate(decoded_lines, 1):
            ref, annotations = parse_annotation_line(obj, number, names)
            validate_annotations(annotations, ontology, None, number)
            by_row.setdefault(str(ref.id), []).extend(annotations)
        return [encode_rows(part) for part in chunk_rows(list(by_row.items()))]

    def as_columns() -> list[dict[str, Any]]:
        """The same as box columns (domain.annotations.box_columns)."""
        box_lines = BoxLines(names)
        for number, obj in enumerate(decoded_lines, 1):
            if not box_lines.take(obj, number):
                raise AssertionError(f"line {number} is not a plain box")
        boxes = box_lines.finish()
        if boxes.line_errors({}, ontology):
            raise AssertionError("a feature is not a box tool")
        return prediction_payloads(boxes, [str(ref.id) for ref in boxes.refs], [])[0]

    parse_s, parsed = best_of(3, parse_all)
    assert parsed == count
    parse_only_s, _ = best_of(3, parse_only)
    with collector_paused():
        objects_s, by_objects = best_of(3, through_objects)
        columns_s, by_columns = best_of(3, as_columns)
    assert by_columns == by_objects

    print(f"{count:,} box predictions over {ROWS:,} data rows, {CLASSES} classes")
    print(f"  encoded size as JSON (bytes as base64): {payload_size(payload) / count:6.1f} B/box")
    print(f"  encoded size, raw binary columns:       {raw_bytes(payload) / count:6.1f} B/box")
    print(f"  encode:            {encode_s * 1e3:7.1f} ms  {count / encode_s:12,.0f} boxes/s")
    print(f"  decode:            {decode_s * 1e3:7.1f} ms  {count / decode_s:12,.0f} boxes/s")
    both = encode_s + decode_s
    print(f"  encode + decode:   {both * 1e3:7.1f} ms  {count / both:12,.0f} boxes/s")
    print(
        f"  chunk_rows(200 KB): {chunk_s * 1e3:6.1f} ms  {len(chunks)} chunks, "
        f"largest {max(sizes):,} B, mean {sum(sizes) / len(sizes):,.0f} B"
    )
    print(f"  NDJSON parse only (decoded dicts):     {count / parse_only_s:12,.0f} lines/s")
    print(f"  NDJSON orjson + parse + validate:      {count / parse_s:12,.0f} lines/s")
    print(f"  decoded lines to chunk payloads, through objects: {objects_s * 1e3:7.1f} ms")
    print(f"  decoded lines to chunk payloads, as box columns:  {columns_s * 1e3:7.1f} ms")


if __name__ == "__main__":
    main()
