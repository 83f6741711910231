"""Annotations to the NDJSON item format and back, and the bulk chunk path agreeing with it."""

from __future__ import annotations

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.annotations.column_decoding import decode_rows
from domain.annotations.columns import encode_rows
from domain.annotations.ndjson.lines import parse_annotation_line
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
from projections.annotation_json import annotation_from_json, annotation_to_json, row_sets
from projections.columns_json import chunk_row_sets
from tests.domain.annotations.strategies import (
    answer_annotations,
    any_annotations,
    names,
    object_annotations,
)


def test_each_geometry_in_the_upload_format() -> None:
    nested = Annotation("car/color/red", Answer("car/color", "red"), 0.5)
    cases = [
        (Annotation("car", Box(left=1.0, top=2.0, width=3.0, height=4.0), 0.9, (nested,)),
         {"name": "car", "bbox": {"top": 2.0, "left": 1.0, "height": 4.0, "width": 3.0}, "confidence": 0.9,
          "classifications": [{"name": "color", "answer": {"name": "red", "confidence": 0.5}}]}),
        (Annotation("road", Polygon(((0.0, 0.0), (1.0, 0.0), (0.0, 1.0)))),
         {"name": "road", "polygon": [{"x": 0.0, "y": 0.0}, {"x": 1.0, "y": 0.0}, {"x": 0.0, "y": 1.0}]}),
        (Annotation("lane", Polyline(((0.0, 0.0), (5.0, 5.0)))),
         {"name": "lane", "line": [{"x": 0.0, "y": 0.0}, {"x": 5.0, "y": 5.0}]}),
        (Annotation("eye", Point(3.0, 4.0)), {"name": "eye", "point": {"x": 3.0, "y": 4.0}}),
        (Annotation("blob", Mask(2, 2, b"0111")),
         {"name": "blob", "mask": {"rle": {"size": [2, 2], "counts": "0111"}}}),
        (Annotation("city", Span(3, 9)), {"name": "city", "location": {"start": 3, "end": 9}}),
        (Annotation("weather/sunny", Answer("weather", "sunny"), 0.7),
         {"name": "weather", "answer": {"name": "sunny", "confidence": 0.7}}),
        (Annotation("note", TextAnswer("note", "blurry")), {"name": "note", "answer": "blurry"}),
    ]
    for annotation, item in cases:
        assert annotation_to_json(annotation) == item
        assert annotation_from_json(item) == annotation


@settings(max_examples=200, deadline=None)
@given(any_annotations())
def test_items_read_back_as_the_same_annotation(annotation: Annotation) -> None:
    item = orjson.loads(orjson.dumps(annotation_to_json(annotation)))
    assert annotation_from_json(item) == annotation


@settings(max_examples=200, deadline=None)
@given(any_annotations())
def test_items_are_what_the_upload_parser_reads(annotation: Annotation) -> None:
    line = {**annotation_to_json(annotation), "dataRow": {"id": "row"}}
    assert parse_annotation_line(line, 1)[1] == [annotation]


flat_annotations = st.one_of(object_annotations(depth=0), names.flatmap(lambda q: answer_annotations(q, 0)))
row_ids = st.sampled_from(["a", "b", "c", "d"])


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(row_ids, st.lists(flat_annotations, max_size=4)), max_size=6))
def test_the_bulk_path_writes_the_same_bytes(rows: list[tuple[str, list[Annotation]]]) -> None:
    payload = encode_rows(rows)
    fast = chunk_row_sets(payload)
    assert fast is not None
    slow: dict[str, list[Annotation]] = {}
    for row_id, objects in decode_rows(payload):
        slow.setdefault(row_id, []).extend(objects)
    expected = [(r, orjson.dumps([annotation_to_json(a) for a in objs]), len(objs)) for r, objs in slow.items()]
    assert fast == expected


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(row_ids, st.lists(any_annotations(), max_size=3)), max_size=5))
def test_nested_objects_take_the_value_object_path(rows: list[tuple[str, list[Annotation]]]) -> None:
    payload = encode_rows(rows)
    got = {r: [annotation_from_json(i) for i in orjson.loads(data)] for r, data, _ in row_sets(payload)}
    expected: dict[str, list[Annotation]] = {}
    for row_id, objects in rows:
        expected.setdefault(row_id, []).extend(objects)
    assert got == expected


def test_crowd_regions_and_areas_are_stored_and_read_back() -> None:
    # docs/metrics.md §9: only items that carry them gain the keys.
    crowd = Annotation("people", Box(1.0, 2.0, 3.0, 4.0), None, (), True, 12.0)
    item = annotation_to_json(crowd)
    assert item == {
        "name": "people",
        "bbox": {"top": 2.0, "left": 1.0, "height": 4.0, "width": 3.0},
        "iscrowd": True,
        "area": 12.0,
    }
    assert annotation_from_json(orjson.loads(orjson.dumps(item))) == crowd
    assert parse_annotation_line({**item, "dataRow": {"id": "row"}}, 1)[1] == [crowd]
    sized = Annotation("blob", Mask(2, 2, b"0111"), area=3.0)
    assert annotation_to_json(sized) == {
        "name": "blob",
        "mask": {"rle": {"size": [2, 2], "counts": "0111"}},
        "area": 3.0,
    }
    assert annotation_from_json(annotation_to_json(sized)) == sized
    # An integer area stored by an older writer reads back as a float.
    assert annotation_from_json({**annotation_to_json(sized), "area": 3}) == sized


def test_chunks_with_crowd_regions_keep_them_in_the_stored_json() -> None:
    rows = [
        ("a", [Annotation("car", Box(0.0, 0.0, 1.0, 1.0)), Annotation("car", Box(0.0, 0.0, 9.0, 9.0), None, (), True)]),
        ("b", [Annotation("car", Box(0.0, 0.0, 2.0, 2.0), area=4.0)]),
    ]
    sets = row_sets(encode_rows(rows))
    got = {r: [annotation_from_json(i) for i in orjson.loads(data)] for r, data, _ in sets}
    assert got == dict(rows)
    plain = [("a", [Annotation("car", Box(0.0, 0.0, 1.0, 1.0))])]
    [(_, data, _)] = row_sets(encode_rows(plain))
    assert data == b'[{"name":"car","bbox":{"top":0.0,"left":0.0,"height":1.0,"width":1.0}}]'
