"""Properties of the NDJSON line parser over generated lines."""

from __future__ import annotations

import math
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.annotations.ndjson.encoding import annotation_to_line
from domain.annotations.ndjson.lines import DataRowRef, parse_annotation_line
from domain.annotations.objects import Annotation
from domain.errors import AnnotationLineError
from tests.domain.annotations import strategies

refs = st.one_of(
    st.builds(DataRowRef, id=st.text(min_size=1, max_size=10)),
    st.builds(DataRowRef, global_key=st.text(min_size=1, max_size=10)),
)
line_numbers = st.integers(1, 10**7)


@settings(deadline=None)
@given(refs, strategies.any_annotations(), line_numbers)
def test_every_valid_annotation_survives_export_json_and_parse(
    ref: DataRowRef, annotation: Annotation, line_no: int
) -> None:
    text = orjson.dumps(annotation_to_line(ref, annotation))
    assert parse_annotation_line(orjson.loads(text), line_no) == (ref, [annotation])


@given(refs, st.lists(strategies.answer_annotations("tags", 1), min_size=1, max_size=4))
def test_a_checklist_line_gives_back_each_answer(
    ref: DataRowRef, answers: list[Annotation]
) -> None:
    items = []
    for answer in answers:
        exported = annotation_to_line(ref, answer)["answer"]
        if isinstance(exported, str):  # a free-text answer cannot sit in a checklist
            return
        items.append(exported)
    line = {
        "dataRow": annotation_to_line(ref, answers[0])["dataRow"],
        "name": "tags",
        "answer": items,
    }
    assert parse_annotation_line(line, 1) == (ref, answers)


KEYS = [
    *("dataRow", "id", "globalKey", "name", "schemaId", "confidence", "classifications"),
    *("bbox", "top", "left", "width", "height", "point", "x", "y", "polygon", "line"),
    *("mask", "png", "rle", "size", "counts", "location", "start", "end", "answer"),
]
bad_numbers = st.sampled_from([math.nan, math.inf, -math.inf])
bad_confidences = st.one_of(
    bad_numbers,
    st.floats(min_value=1.0, exclude_min=True, allow_nan=False),
    st.floats(max_value=0.0, exclude_max=True, allow_nan=False),
    st.integers().filter(lambda n: n not in (0, 1)),
    st.booleans(),
    st.text(max_size=3),
)


@given(refs, strategies.object_annotations(depth=0), bad_confidences, line_numbers)
def test_any_bad_confidence_is_rejected_on_its_line_naming_the_feature(
    ref: DataRowRef, annotation: Annotation, confidence: Any, line_no: int
) -> None:
    line = annotation_to_line(ref, annotation)
    line["confidence"] = confidence
    with pytest.raises(AnnotationLineError) as caught:
        parse_annotation_line(line, line_no)
    assert caught.value.line == line_no
    assert caught.value.reason.startswith("confidence ")
    assert f"of {annotation.feature!r}" in caught.value.reason


@given(refs, strategies.answer_annotations("q", 0), bad_confidences, line_numbers)
def test_any_bad_answer_confidence_is_rejected_on_its_line(
    ref: DataRowRef, annotation: Annotation, confidence: Any, line_no: int
) -> None:
    line = annotation_to_line(ref, annotation)
    if isinstance(line["answer"], dict):
        line["answer"]["confidence"] = confidence
    else:
        line["confidence"] = confidence
    with pytest.raises(AnnotationLineError) as caught:
        parse_annotation_line(line, line_no)
    assert caught.value.line == line_no
    assert f"of {annotation.feature!r}" in caught.value.reason


def coordinate_slots(line: dict[str, Any]) -> list[tuple[dict[str, Any], str]]:
    """Every (object, key) of the line's geometry holding a coordinate."""
    if "bbox" in line:
        return [(line["bbox"], key) for key in line["bbox"]]
    if "point" in line:
        return [(line["point"], "x"), (line["point"], "y")]
    vertices = line.get("polygon") or line.get("line") or []
    if vertices and isinstance(vertices[0], list):  # a polygon of several rings
        vertices = [vertex for ring in vertices for vertex in ring]
    return [(vertex, key) for vertex in vertices for key in ("x", "y")]


@given(
    refs,
    strategies.object_annotations(depth=0).filter(
        lambda a: type(a.geometry).__name__ in ("Box", "Point", "Polygon", "Polyline")
    ),
    bad_numbers,
    st.data(),
    line_numbers,
)
def test_any_non_finite_coordinate_is_rejected_on_its_line_naming_the_feature(
    ref: DataRowRef, annotation: Annotation, bad: float, data: st.DataObject, line_no: int
) -> None:
    line = annotation_to_line(ref, annotation)
    holder, key = data.draw(st.sampled_from(coordinate_slots(line)))
    holder[key] = bad
    with pytest.raises(AnnotationLineError) as caught:
        parse_annotation_line(line, line_no)
    assert caught.value.line == line_no
    assert f"{bad!r} of {annotation.feature!r} is not a finite number" in caught.value.reason


@given(refs, strategies.names, strategies.boxes, st.data(), line_numbers)
def test_any_box_without_area_is_rejected(
    ref: DataRowRef, name: str, box: Any, data: st.DataObject, line_no: int
) -> None:
    line = annotation_to_line(ref, Annotation(name, box))
    side = data.draw(st.sampled_from(["width", "height"]))
    line["bbox"][side] = data.draw(st.floats(max_value=0.0, allow_nan=False, allow_infinity=False))
    with pytest.raises(AnnotationLineError) as caught:
        parse_annotation_line(line, line_no)
    assert caught.value.line == line_no
    assert caught.value.reason.startswith(f"bbox of {name!r} has width ")


@given(refs, strategies.names, st.integers(0, 10**9), st.integers(0, 10**9), line_numbers)
def test_any_span_not_starting_before_its_end_is_rejected(
    ref: DataRowRef, name: str, start: int, end: int, line_no: int
) -> None:
    line = {"dataRow": {"id": "r"}, "name": name, "location": {"start": start, "end": end}}
    if start < end:
        assert parse_annotation_line(line, line_no)[1][0].geometry.end == end  # type: ignore[union-attr]
        return
    with pytest.raises(AnnotationLineError) as caught:
        parse_annotation_line(line, line_no)
    assert caught.value.line == line_no
    assert caught.value.reason == (
        f"location of {name!r} has start {start} >= end {end}; start must be < end"
    )


json_values = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=4),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.sampled_from(KEYS), children, max_size=5)
    ),
    max_leaves=20,
)


@given(json_values, st.booleans(), line_numbers)
def test_arbitrary_json_either_parses_or_is_rejected_on_its_line(
    obj: Any, with_row: bool, line_no: int
) -> None:
    if with_row and isinstance(obj, dict):
        obj["dataRow"] = {"id": "r"}
    try:
        parse_annotation_line(obj, line_no)
    except AnnotationLineError as error:
        assert error.line == line_no
