"""What the gallery keeps of a chunk: crowd regions (docs/metrics.md §9) are no annotations."""

from __future__ import annotations

from domain.annotations.columns import encode_rows
from domain.annotations.ndjson.lines import parse_annotation_line
from projections.gallery.parts import part_of_payload

ROWS = ("00000000-0000-0000-0000-000000000001", "00000000-0000-0000-0000-000000000002")


def _objects(*lines: dict) -> list:
    out = []
    for line in lines:
        out.extend(parse_annotation_line({**line, "dataRow": {"globalKey": "r"}}, 1)[1])
    return out


def test_crowd_regions_and_what_is_nested_under_them_are_left_out() -> None:
    color = [{"name": "color", "answer": {"name": "red"}}]
    box = {"top": 0, "left": 0, "height": 10, "width": 10}
    first = _objects(
        {"name": "car", "bbox": box, "classifications": color},
        {"name": "car", "bbox": box, "iscrowd": True, "classifications": color},
        {"name": "person", "bbox": box},
    )
    second = _objects({"name": "car", "bbox": box, "iscrowd": True})
    part = part_of_payload(encode_rows([(ROWS[0], first), (ROWS[1], second)]))
    kept = [part.names[f] for f in part.features.tolist()]
    assert kept == ["car", "car/color/red", "person"]
    assert part.ends.tolist() == [3, 3]
