"""Parsing one NDJSON annotation line: what is accepted, and each rule that rejects."""

from __future__ import annotations

import base64
import io
from typing import Any

import numpy as np
import pytest
from PIL import Image
from pycocotools import mask as coco_mask

from domain.annotations.ndjson.encoding import annotation_to_line
from domain.annotations.ndjson.lines import DataRowRef, parse_annotation_line
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
from domain.errors import AnnotationLineError, LineError, ValidationFailed

ROW = {"globalKey": "img-1"}
BOX = {"top": 1, "left": 2, "height": 3, "width": 4}


def parse(obj: Any, names: dict[str, str] | None = None) -> list[Annotation]:
    return parse_annotation_line(obj, 7, names)[1]


def line(**fields: Any) -> dict[str, Any]:
    return {"dataRow": ROW, **fields}


def png(array: np.ndarray, mode: str | None = None) -> str:
    buffer = io.BytesIO()
    Image.fromarray(array, mode).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def coco_counts(binary: np.ndarray) -> bytes:
    counts: bytes = coco_mask.encode(np.asfortranarray(binary, dtype=np.uint8))["counts"]
    return counts


# --- accepted -------------------------------------------------------------------------


def test_a_data_row_by_global_key_or_by_id() -> None:
    assert parse_annotation_line({"dataRow": {"id": "r1"}}, 1) == (DataRowRef(id="r1"), [])
    assert parse_annotation_line({"dataRow": ROW}, 1) == (DataRowRef(global_key="img-1"), [])


def test_consecutive_lines_get_their_own_reference() -> None:
    refs = [
        parse_annotation_line({"dataRow": row}, 1)[0]
        for row in ({"id": "a"}, {"id": "a"}, {"globalKey": "a"}, {"id": "b"}, {"globalKey": "a"})
    ]
    assert refs == [
        DataRowRef(id="a"),
        DataRowRef(id="a"),
        DataRowRef(global_key="a"),
        DataRowRef(id="b"),
        DataRowRef(global_key="a"),
    ]
    with pytest.raises(AnnotationLineError, match="both id 'a' and globalKey 'a'"):
        parse_annotation_line({"dataRow": {"id": "a", "globalKey": "a"}}, 2)


def test_a_reference_needs_exactly_one_of_id_and_global_key() -> None:
    with pytest.raises(ValueError):
        DataRowRef()
    with pytest.raises(ValueError):
        DataRowRef(id="a", global_key="b")


def test_a_box_becomes_float_left_top_width_height() -> None:
    [box] = parse(line(name="car", bbox=BOX, confidence=0.25))
    assert box == Annotation("car", Box(2.0, 1.0, 4.0, 3.0), 0.25)
    assert all(type(v) is float for v in (box.geometry.left, box.geometry.top))  # type: ignore[union-attr]


def test_a_platforms_annotation_uuid_is_accepted_and_dropped() -> None:
    # Exports of labeling platforms give every annotation a "uuid"; it names nothing here.
    [box] = parse(line(name="car", bbox=BOX, uuid="4b0e6a52"))
    assert box == Annotation("car", Box(2.0, 1.0, 4.0, 3.0))


@pytest.mark.parametrize("confidence", [0, 1, 0.0, 1.0, None])
def test_confidence_bounds_are_inclusive_and_null_means_missing(confidence: Any) -> None:
    [box] = parse(line(name="car", bbox=BOX, confidence=confidence))
    assert box.confidence == (None if confidence is None else float(confidence))


def test_point_line_polygon_and_location() -> None:
    assert parse(line(name="p", point={"x": 1, "y": 2.5}))[0].geometry == Point(1.0, 2.5)
    vertices = [{"x": 0, "y": 0}, {"x": 4, "y": 0}, {"x": 4, "y": 3}]
    assert parse(line(name="g", polygon=vertices))[0].geometry == Polygon(
        ((0.0, 0.0), (4.0, 0.0), (4.0, 3.0))
    )
    assert parse(line(name="l", line=vertices[:2]))[0].geometry == Polyline(
        ((0.0, 0.0), (4.0, 0.0))
    )
    assert parse(line(name="e", location={"start": 0, "end": 5}))[0].geometry == Span(0, 5)


def test_a_polygon_closed_by_repeating_its_first_vertex_is_stored_open() -> None:
    ring = [{"x": 0, "y": 0}, {"x": 4, "y": 0}, {"x": 4, "y": 3}, {"x": 0, "y": 0}]
    assert parse(line(name="g", polygon=ring))[0].geometry == Polygon(
        ((0.0, 0.0), (4.0, 0.0), (4.0, 3.0))
    )


def test_a_polygon_of_several_rings() -> None:
    first = [{"x": 0, "y": 0}, {"x": 4, "y": 0}, {"x": 4, "y": 3}]
    second = [{"x": 10, "y": 0}, {"x": 14, "y": 0}, {"x": 14, "y": 3}, {"x": 10, "y": 0}]
    [parsed] = parse(line(name="g", polygon=[first, second]))
    assert parsed.geometry == Polygon(
        ((0.0, 0.0), (4.0, 0.0), (4.0, 3.0)), (((10.0, 0.0), (14.0, 0.0), (14.0, 3.0)),)
    )
    assert annotation_to_line(DataRowRef(global_key="k"), parsed)["polygon"] == [first, second[:3]]
    assert "polygon ring 2 of 'g' has 2 distinct points; it needs at least 3" in rejected(
        line(name="g", polygon=[first, second[:2]])
    )
    assert "polygon ring 1 point 1 of 'g' must be an object" in rejected(line(name="g", polygon=[[[0, 0]]]))


def test_integral_float_offsets_are_accepted() -> None:
    assert parse(line(name="e", location={"start": 2.0, "end": 3}))[0].geometry == Span(2, 3)


def test_a_radio_answer_and_its_confidence() -> None:
    [radio] = parse(line(name="weather", answer={"name": "sunny", "confidence": 0.75}))
    assert radio == Annotation("weather/sunny", Answer("weather", "sunny"), 0.75)


def test_an_answer_without_confidence_takes_the_line_confidence() -> None:
    [radio] = parse(line(name="weather", answer={"name": "sunny"}, confidence=0.5))
    assert radio.confidence == 0.5


def test_a_checklist_gives_one_annotation_per_answer_with_its_own_confidence() -> None:
    annotations = parse(
        line(name="tags", answer=[{"name": "a", "confidence": 0.1}, {"name": "b"}], confidence=0.9)
    )
    assert annotations == [
        Annotation("tags/a", Answer("tags", "a"), 0.1),
        Annotation("tags/b", Answer("tags", "b"), 0.9),
    ]


def test_an_empty_checklist_answers_nothing() -> None:
    assert parse(line(name="tags", answer=[])) == []


def test_a_free_text_answer_is_a_feature_of_its_question() -> None:
    [text] = parse(line(name="caption", answer="a red car", confidence=0.5))
    assert text == Annotation("caption", TextAnswer("caption", "a red car"), 0.5)


def test_nested_classifications_of_an_object_are_named_by_path() -> None:
    [car] = parse(
        line(
            name="car",
            bbox=BOX,
            classifications=[
                {"name": "color", "answer": {"name": "red", "confidence": 0.3}},
                {"name": "tags", "answer": [{"name": "old"}, {"name": "dirty"}]},
                {"name": "note", "answer": "dented"},
            ],
        )
    )
    assert car.classifications == (
        Annotation("car/color/red", Answer("car/color", "red"), 0.3),
        Annotation("car/tags/old", Answer("car/tags", "old")),
        Annotation("car/tags/dirty", Answer("car/tags", "dirty")),
        Annotation("car/note", TextAnswer("car/note", "dented")),
    )


def test_nested_classifications_of_an_answer_sit_in_the_answer_or_on_a_radio_line() -> None:
    inner = [{"name": "intensity", "answer": {"name": "high"}}]
    expected = (
        Annotation("weather/sunny/intensity/high", Answer("weather/sunny/intensity", "high")),
    )
    [inside] = parse(line(name="weather", answer={"name": "sunny", "classifications": inner}))
    [on_line] = parse(line(name="weather", answer={"name": "sunny"}, classifications=inner))
    assert inside.classifications == on_line.classifications == expected


def test_schema_ids_resolve_to_full_names() -> None:
    names = {"s-car": "car", "s-color": "car/color", "s-red": "car/color/red", "s-w": "weather"}
    names["s-sun"] = "weather/sunny"
    [car] = parse(
        line(
            schemaId="s-car",
            bbox=BOX,
            classifications=[{"schemaId": "s-color", "answer": {"schemaId": "s-red"}}],
        ),
        names,
    )
    assert car.feature == "car"
    assert car.classifications == (Annotation("car/color/red", Answer("car/color", "red")),)
    [sunny] = parse(line(schemaId="s-w", answer={"schemaId": "s-sun"}), names)
    assert sunny == Annotation("weather/sunny", Answer("weather", "sunny"))


def test_a_name_and_a_matching_schema_id_are_accepted() -> None:
    assert parse(line(name="car", schemaId="s", bbox=BOX), {"s": "car"})[0].feature == "car"


def test_an_rle_list_is_stored_as_compressed_rle() -> None:
    binary = np.zeros((4, 3), np.uint8)
    binary[1:3, 1] = 1
    [mask] = parse(line(name="seg", mask={"rle": {"size": [4, 3], "counts": [5, 2, 5]}}))
    assert mask.geometry == Mask(4, 3, coco_counts(binary))


def test_a_compressed_rle_string_is_kept_as_sent() -> None:
    binary = np.random.default_rng(1).integers(0, 2, (20, 30)).astype(np.uint8)
    counts = coco_counts(binary).decode("ascii")
    [mask] = parse(line(name="seg", mask={"rle": {"size": [20, 30], "counts": counts}}))
    assert mask.geometry == Mask(20, 30, counts.encode("ascii"))


@pytest.mark.parametrize("mode", ["L", "1", "RGB", "RGBA", "P"])
def test_a_png_mask_is_its_non_zero_pixels(mode: str) -> None:
    binary = np.zeros((5, 7), np.uint8)
    binary[1:4, 2:6] = 1
    binary[0, 0] = 1
    image = Image.fromarray(binary * 200, "L").convert(mode, dither=Image.Dither.NONE)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    [mask] = parse(line(name="seg", mask={"png": data}))
    assert mask.geometry == Mask(5, 7, coco_counts(binary))


def test_an_opaque_black_background_is_not_part_of_the_mask() -> None:
    rgba = np.zeros((3, 4, 4), np.uint8)
    rgba[:, :, 3] = 255  # opaque everywhere
    rgba[1, 2, :3] = (255, 0, 0)
    [mask] = parse(line(name="seg", mask={"png": png(rgba, "RGBA")}))
    expected = np.zeros((3, 4), np.uint8)
    expected[1, 2] = 1
    assert mask.geometry == Mask(3, 4, coco_counts(expected))


def test_a_composite_png_mask_selects_its_colour() -> None:
    rgb = np.zeros((3, 4, 3), np.uint8)
    rgb[0, :] = (10, 20, 30)
    rgb[2, 1] = (99, 99, 99)
    [mask] = parse(line(name="seg", mask={"png": png(rgb, "RGB"), "colorRGB": [10, 20, 30]}))
    expected = np.zeros((3, 4), np.uint8)
    expected[0, :] = 1
    assert mask.geometry == Mask(3, 4, coco_counts(expected))


def test_exported_lines_parse_back() -> None:
    ref = DataRowRef(id="r9")
    car = Annotation(
        "car",
        Box(1.0, 2.0, 3.0, 4.0),
        0.5,
        (Annotation("car/color/red", Answer("car/color", "red"), 0.25),),
    )
    exported = annotation_to_line(ref, car)
    assert exported["dataRow"] == {"id": "r9"}
    assert exported["classifications"] == [
        {"name": "color", "answer": {"name": "red", "confidence": 0.25}}
    ]
    assert parse_annotation_line(exported, 1) == (ref, [car])


# --- rejected ------------------------------------------------------------------------


def rejected(obj: Any, names: dict[str, str] | None = None) -> str:
    """The message of the line's rejection, after checking it is for line 7."""
    with pytest.raises(AnnotationLineError) as caught:
        parse_annotation_line(obj, 7, names)
    error = caught.value
    assert error.line == 7
    assert error.errors == [LineError(7, error.reason)]
    assert str(error) == f"line 7: {error.reason}"
    assert isinstance(error, ValidationFailed) and error.code == "VALIDATION"
    return error.reason


def test_the_example_message_of_the_brief() -> None:
    with pytest.raises(AnnotationLineError) as caught:
        parse_annotation_line(line(name="car", bbox=BOX, confidence=1.5), 7)
    assert str(caught.value) == "line 7: confidence 1.5 of 'car' is outside [0, 1]"


@pytest.mark.parametrize(
    ("obj", "message"),
    [
        ("text", "must be a JSON object, got 'text'"),
        ([1], "must be a JSON object"),
        ({"name": "car", "bbox": BOX}, "dataRow is missing"),
        ({"dataRow": "img-1"}, "dataRow must be an object, got 'img-1'"),
        ({"dataRow": {}}, "dataRow has neither id nor globalKey"),
        ({"dataRow": {"id": "a", "globalKey": "b"}}, "dataRow gives both id 'a' and globalKey 'b'"),
        ({"dataRow": {"id": ""}}, "dataRow id '' is not a non-empty string"),
        ({"dataRow": {"globalKey": 5}}, "dataRow globalKey 5 is not a non-empty string"),
    ],
)
def test_data_row_reference(obj: Any, message: str) -> None:
    assert message in rejected(obj)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"name": "car", "bbox": BOX, "point": {"x": 1, "y": 1}},
            "one geometry, got 'bbox' and 'point'",
        ),
        ({"name": "car"}, "'name' is given without a geometry"),
        ({"confidence": 0.5}, "'confidence' is given without a geometry"),
        ({"bbox": BOX}, "the line has neither name nor schemaId"),
        ({"name": "", "bbox": BOX}, "name '' of the line is not a non-empty string"),
        ({"name": 3, "bbox": BOX}, "name 3 of the line"),
    ],
)
def test_line_shape(fields: dict[str, Any], message: str) -> None:
    assert message in rejected(line(**fields))


def test_schema_ids() -> None:
    assert "schemaId 's1' of the line is unknown" in rejected(line(schemaId="s1", bbox=BOX), {})
    assert "schemaId 's1' of the line is unknown" in rejected(line(schemaId="s1", bbox=BOX))
    assert "schemaId 's1' of the line does not name 'car'" in rejected(
        line(name="car", schemaId="s1", bbox=BOX), {"s1": "truck"}
    )
    assert "'other/x' is not an answer of 'weather'" in rejected(
        line(name="weather", answer={"schemaId": "a"}), {"a": "other/x"}
    )


@pytest.mark.parametrize(
    ("confidence", "message"),
    [
        (1.5, "confidence 1.5 of 'car' is outside [0, 1]"),
        (-0.01, "confidence -0.01 of 'car' is outside [0, 1]"),
        (2, "confidence 2 of 'car' is outside [0, 1]"),
        (float("nan"), "confidence nan of 'car' is not a finite number"),
        (float("inf"), "confidence inf of 'car' is not a finite number"),
        (float("-inf"), "confidence -inf of 'car' is not a finite number"),
        (10**400, "of 'car' is not a finite number"),
        ("0.5", "confidence '0.5' of 'car' is not a number"),
        (True, "confidence true of 'car' is not a number"),
        ([0.5], "confidence [0.5] of 'car' is not a number"),
    ],
)
def test_confidence(confidence: Any, message: str) -> None:
    assert message in rejected(line(name="car", bbox=BOX, confidence=confidence))


def test_confidence_of_answers_names_the_answer() -> None:
    assert "confidence 3 of 'tags/b' is outside" in rejected(
        line(name="tags", answer=[{"name": "a"}, {"name": "b", "confidence": 3}])
    )
    assert "confidence nan of 'car/color'" in rejected(
        line(
            name="car",
            bbox=BOX,
            classifications=[{"name": "color", "answer": "x", "confidence": float("nan")}],
        )
    )


@pytest.mark.parametrize(
    ("bbox", "message"),
    [
        ([1, 2, 3, 4], "bbox of 'car' must be an object, got [1, 2, 3, 4]"),
        ({"top": 1, "left": 2, "height": 3}, "bbox width of 'car' is missing"),
        ({**BOX, "top": float("nan")}, "bbox top nan of 'car' is not a finite number"),
        ({**BOX, "left": float("-inf")}, "bbox left -inf of 'car' is not a finite number"),
        ({**BOX, "left": "2"}, "bbox left '2' of 'car' is not a number"),
        ({**BOX, "left": True}, "bbox left true of 'car' is not a number"),
        ({**BOX, "height": 10**400}, "bbox height"),
        ({**BOX, "width": 0}, "bbox of 'car' has width 0 and height 3; both must be > 0"),
        ({**BOX, "height": -2.5}, "bbox of 'car' has width 4 and height -2.5"),
    ],
)
def test_box(bbox: Any, message: str) -> None:
    assert message in rejected(line(name="car", bbox=bbox))


@pytest.mark.parametrize(
    ("vertices", "message"),
    [
        ({"x": 1, "y": 2}, "polygon of 'roof' must be a list of {x, y} points"),
        (
            [{"x": 0, "y": 0}, {"x": 1, "y": 0}],
            "polygon of 'roof' has 2 distinct points; it needs at least 3",
        ),
        (
            [{"x": 0, "y": 0}, {"x": 1, "y": 0}, {"x": 0, "y": 0}],
            "polygon of 'roof' has 2 distinct points",
        ),
        (
            [{"x": 0, "y": 0}, [1, 0], {"x": 1, "y": 1}],
            "polygon point 2 of 'roof' must be an object",
        ),
        (
            [{"x": 0, "y": 0}, {"x": float("inf"), "y": 0}, {"x": 1, "y": 1}],
            "polygon point 2 x inf of 'roof' is not a finite number",
        ),
        ([{"x": 0, "y": 0}, {"x": 1}, {"x": 1, "y": 1}], "polygon point 2 y of 'roof' is missing"),
    ],
)
def test_polygon(vertices: Any, message: str) -> None:
    assert message in rejected(line(name="roof", polygon=vertices))


def test_line_and_point() -> None:
    assert "line of 'road' has 1 points; it needs at least 2" in rejected(
        line(name="road", line=[{"x": 0, "y": 0}])
    )
    assert "line point 2 y nan of 'road'" in rejected(
        line(name="road", line=[{"x": 0, "y": 0}, {"x": 0, "y": float("nan")}])
    )
    assert "point x -inf of 'eye' is not a finite number" in rejected(
        line(name="eye", point={"x": float("-inf"), "y": 0})
    )
    assert "point y of 'eye' is missing" in rejected(line(name="eye", point={"x": 1}))


@pytest.mark.parametrize(
    ("location", "message"),
    [
        ({"start": 5, "end": 5}, "location of 'person' has start 5 >= end 5; start must be < end"),
        ({"start": 6, "end": 2}, "location of 'person' has start 6 >= end 2"),
        ({"start": -1, "end": 2}, "location start -1 of 'person' is negative"),
        ({"start": 1.5, "end": 2}, "location start 1.5 of 'person' is not an integer"),
        ({"start": 0, "end": True}, "location end true of 'person' is not an integer"),
        ({"start": 0}, "location end of 'person' is missing"),
        ({"start": 0, "end": 2**60}, "location end 1152921504606846976 of 'person' is too large"),
        ({"start": float("nan"), "end": 2}, "location start nan of 'person' is not an integer"),
    ],
)
def test_location(location: Any, message: str) -> None:
    assert message in rejected(line(name="person", location=location))


@pytest.mark.parametrize(
    ("mask", "message"),
    [
        ({}, "mask of 'seg' must give png or rle"),
        ({"instanceURI": "https://x"}, "must give png or rle (masks are not fetched from URLs)"),
        ({"png": "AAAA", "rle": {}}, "mask of 'seg' gives both png and rle"),
        ({"png": 5}, "mask png of 'seg' must be a base64 string"),
        ({"png": "not base64!"}, "mask png of 'seg' is not valid base64"),
        ({"png": base64.b64encode(b"hello").decode()}, "mask png of 'seg' is not a readable PNG"),
        ({"rle": "525"}, "mask rle of 'seg' must be an object"),
        (
            {"rle": {"size": [4], "counts": "525"}},
            "mask rle size [4] of 'seg' is not [height, width] > 0",
        ),
        ({"rle": {"size": [0, 3], "counts": ""}}, "mask rle size [0, 3] of 'seg'"),
        ({"rle": {"size": [4, 3.0], "counts": "525"}}, "mask rle size [4, 3.0] of 'seg'"),
        ({"rle": {"size": [2**20, 2**20], "counts": "0"}}, "exceeds 2147483647 pixels"),
        ({"rle": {"size": [4, 3], "counts": "52"}}, "cover 7 pixels, not 4x3 = 12"),
        ({"rle": {"size": [4, 3], "counts": [5, 2, 6]}}, "cover 13 pixels, not 4x3 = 12"),
        ({"rle": {"size": [4, 3], "counts": [5, -2, 9]}}, "must be non-negative integers"),
        ({"rle": {"size": [4, 3], "counts": [5, 2.0, 5]}}, "must be non-negative integers"),
        ({"rle": {"size": [4, 3], "counts": "5 2 5"}}, "not a valid compressed RLE string"),
        ({"rle": {"size": [4, 3], "counts": "5\x7f5"}}, "not a valid compressed RLE string"),
        ({"rle": {"size": [4, 3], "counts": "5b"}}, "not a valid compressed RLE string"),
        ({"rle": {"size": [4, 3], "counts": 525}}, "must be a string or a list, got 525"),
        ({"png": "", "colorRGB": [1, 2]}, "mask png of 'seg' is not a readable PNG"),
    ],
)
def test_mask(mask: Any, message: str) -> None:
    assert message in rejected(line(name="seg", mask=mask))


def test_a_negative_run_in_a_compressed_rle_string_is_rejected() -> None:
    # "0" then "P": runs 0, then -16 (sign bit set): pycocotools would wrap it to 4294967280.
    assert "not a valid compressed RLE string" in rejected(
        line(name="seg", mask={"rle": {"size": [4, 3], "counts": "0P"}})
    )


def test_a_jpeg_is_not_a_png_mask() -> None:
    buffer = io.BytesIO()
    Image.fromarray(np.zeros((2, 2), np.uint8)).save(buffer, format="JPEG")
    data = base64.b64encode(buffer.getvalue()).decode()
    assert "mask png of 'seg' is not a readable PNG" in rejected(
        line(name="seg", mask={"png": data})
    )


def test_a_bad_composite_colour() -> None:
    data = png(np.zeros((2, 2, 3), np.uint8), "RGB")
    assert "mask colorRGB [1, 2, 300] of 'seg' is not [r, g, b]" in rejected(
        line(name="seg", mask={"png": data, "colorRGB": [1, 2, 300]})
    )


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"name": "weather", "answer": 3},
            "answer 3 of 'weather' must be a text, an object or a list",
        ),
        (
            {"name": "weather", "answer": {"confidence": 0.3}},
            "an answer of 'weather' has neither name nor schemaId",
        ),
        ({"name": "tags", "answer": ["a"]}, "answer of 'tags' must be an object, got 'a'"),
        (
            {"name": "note", "answer": "x", "classifications": []},
            "classifications of 'note' belong inside its answer objects",
        ),
        (
            {"name": "tags", "answer": [{"name": "a"}], "classifications": []},
            "classifications of 'tags' belong inside its answer objects",
        ),
        (
            {"name": "w", "answer": {"name": "a", "classifications": []}, "classifications": []},
            "classifications of 'w/a' are given both on the line and in its answer",
        ),
    ],
)
def test_answers(fields: dict[str, Any], message: str) -> None:
    assert message in rejected(line(**fields))


@pytest.mark.parametrize(
    ("classifications", "message"),
    [
        ({"name": "color"}, "classifications of 'car' must be a list"),
        (["color"], "classification 1 of 'car' must be an object, got 'color'"),
        ([{"name": "color"}], "nested classification 'car/color' must hold an answer"),
        (
            [{"name": "color", "answer": "red", "bbox": BOX}],
            "nested classification 'car/color' must hold an answer, not 'bbox'",
        ),
        ([{"answer": "red"}], "classification 1 of 'car' has neither name nor schemaId"),
        (
            [{"name": "color", "answer": {"name": "red", "classifications": 5}}],
            "classifications of 'car/color/red' must be a list, got 5",
        ),
    ],
)
def test_nested(classifications: Any, message: str) -> None:
    assert message in rejected(line(name="car", bbox=BOX, classifications=classifications))


def test_nesting_depth_is_bounded() -> None:
    nested: dict[str, Any] = {"name": "q", "answer": {"name": "a"}}
    for _ in range(40):
        nested = {"name": "q", "answer": {"name": "a", "classifications": [nested]}}
    assert "nested deeper than 16 levels" in rejected(
        line(name="car", bbox=BOX, classifications=[nested])
    )


def test_long_values_are_cut_short_in_messages() -> None:
    message = rejected(line(name="car", bbox=BOX, confidence="x" * 500))
    assert "..." in message and len(message) < 100


# --- unknown keys --------------------------------------------------------------------
# A key the format does not know is a typo or a key of another format: dropping it would
# store something else than the user meant ("confidance" stored a prediction without
# confidence), so it is refused, with the nearest known key when there is one.

SEG = {"rle": {"size": [1, 1], "counts": [0, 1]}}


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"name": "car", "bbox": BOX, "confidance": 0.9},
            'unknown key "confidance"; did you mean "confidence"?',
        ),
        ({"nmae": "car", "bbox": BOX}, 'unknown key "nmae"; did you mean "name"?'),
        ({"name": "car", "bbx": BOX}, 'unknown key "bbx"; did you mean "bbox"?'),
        ({"name": "car", "box": BOX}, 'unknown key "box"; did you mean "bbox"?'),
        ({"name": "car", "Confidence": 0.5, "bbox": BOX}, 'unknown key "Confidence"; did you mean "confidence"?'),
        ({"name": "car", "schema_id": "s", "bbox": BOX}, 'unknown key "schema_id"; did you mean "schemaId"?'),
        (
            {"name": "car", "bbox": BOX, "zzz": 1},
            'unknown key "zzz"; known keys: dataRow, name, schemaId, bbox, polygon, point, line, '
            "mask, location, answer, confidence, classifications, iscrowd, area, uuid",
        ),
        (
            {"name": "car", "bbox": {"top": 1, "left": 2, "hieght": 3, "width": 4}},
            "unknown key \"hieght\" in bbox of 'car'; did you mean \"height\"?",
        ),
        (
            {"name": "car", "bbox": {**BOX, "depth": 6}},
            "unknown key \"depth\" in bbox of 'car'; known keys: top, left, height, width",
        ),
        (
            {"name": "eye", "point": {"x": 1, "y": 2, "z": 3}},
            "unknown key \"z\" in point of 'eye'; known keys: x, y",
        ),
        (
            {"name": "roof", "polygon": [{"x": 0, "y": 0}, {"x": 1, "y": 0}, {"X": 1, "y": 1}]},
            "unknown key \"X\" in polygon point 3 of 'roof'; did you mean \"x\"?",
        ),
        (
            {"name": "road", "line": [{"x": 0, "y": 0, "z": 0}, {"x": 1, "y": 0}]},
            "unknown key \"z\" in line point 1 of 'road'; known keys: x, y",
        ),
        (
            {"name": "person", "location": {"start": 0, "stop": 2}},
            "unknown key \"stop\" in location of 'person'; known keys: start, end",
        ),
        (
            {"name": "seg", "mask": {**SEG, "colour": [1, 2, 3]}},
            "unknown key \"colour\" in mask of 'seg'; did you mean \"colorRGB\"?",
        ),
        (
            {"name": "seg", "mask": {"rle": {"size": [1, 1], "count": [0, 1]}}},
            "unknown key \"count\" in mask rle of 'seg'; did you mean \"counts\"?",
        ),
        (
            {"name": "weather", "answer": {"name": "sunny", "confidance": 0.5}},
            "unknown key \"confidance\" in an answer of 'weather'; did you mean \"confidence\"?",
        ),
        (
            {"name": "tags", "answer": [{"name": "a"}, {"name": "b", "value": 1}]},
            "unknown key \"value\" in an answer of 'tags'; known keys: name, schemaId, confidence, classifications",
        ),
        (
            {"name": "car", "bbox": BOX, "classifications": [{"name": "color", "answers": {"name": "red"}}]},
            "unknown key \"answers\" in classification 1 of 'car'; did you mean \"answer\"?",
        ),
    ],
)
def test_unknown_keys_are_refused_naming_the_key_and_the_nearest_known_one(
    fields: dict[str, Any], message: str
) -> None:
    assert rejected(line(**fields)) == message


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"globalkey": "img-1"}, 'unknown key "globalkey" in dataRow; did you mean "globalKey"?'),
        ({"global_key": "img-1"}, 'unknown key "global_key" in dataRow; did you mean "globalKey"?'),
        ({"key": "img-1"}, 'unknown key "key" in dataRow; did you mean "globalKey"?'),
        ({"globalKey": "img-1", "url": "x"}, 'unknown key "url" in dataRow; known keys: id, globalKey'),
    ],
)
def test_unknown_keys_of_the_data_row_reference(row: dict[str, Any], message: str) -> None:
    assert rejected({"dataRow": row, "name": "car", "bbox": BOX}) == message


def test_a_known_reference_on_the_line_before_does_not_hide_an_unknown_key() -> None:
    # References are cached from line to line; the cache must not skip the key check.
    parse_annotation_line({"dataRow": ROW}, 6)
    assert rejected({"dataRow": {**ROW, "extra": 1}}) == (
        'unknown key "extra" in dataRow; known keys: id, globalKey'
    )


def test_a_nested_geometry_still_says_that_classifications_hold_answers() -> None:
    # "bbox" is a known word of the format: the message says why it does not belong.
    assert rejected(
        line(name="car", bbox=BOX, classifications=[{"name": "color", "answer": "red", "bbox": BOX}])
    ) == "nested classification 'car/color' must hold an answer, not 'bbox'"


# -- crowd regions and areas (docs/metrics.md §9) ------------------------------------------------

RLE = {"size": [2, 2], "counts": [1, 2, 1]}
SQUARE = [{"x": 0, "y": 0}, {"x": 4, "y": 0}, {"x": 4, "y": 4}]


@pytest.mark.parametrize(
    "geometry",
    [{"bbox": BOX}, {"polygon": SQUARE}, {"mask": {"rle": RLE}}],
    ids=["bbox", "polygon", "mask"],
)
def test_a_region_of_ground_truth_may_be_a_crowd_with_an_area(geometry: dict[str, Any]) -> None:
    [a] = parse(line(name="people", iscrowd=True, area=12.5, **geometry))
    assert a.iscrowd is True
    assert a.area == 12.5
    [b] = parse(line(name="people", iscrowd=False, area=3, **geometry))
    assert b.iscrowd is False and b.area == 3.0 and type(b.area) is float
    [c] = parse(line(name="people", **geometry))
    assert c.iscrowd is False and c.area is None


def test_crowd_and_area_go_back_to_the_line_they_came_from() -> None:
    obj = line(name="people", bbox=BOX, iscrowd=True, area=7.0)
    [a] = parse(obj)
    back = annotation_to_line(DataRowRef(global_key="img-1"), a)
    assert back["iscrowd"] is True and back["area"] == 7.0
    assert parse(back) == [a]
    [plain] = parse(line(name="car", bbox=BOX))
    assert set(annotation_to_line(DataRowRef(global_key="img-1"), plain)) == {
        "dataRow",
        "name",
        "bbox",
    }


@pytest.mark.parametrize("key, value", [("iscrowd", True), ("area", 4.0)])
def test_a_prediction_takes_neither_crowd_nor_area(key: str, value: Any) -> None:
    with pytest.raises(AnnotationLineError) as caught:
        parse_annotation_line(line(name="car", bbox=BOX, confidence=0.5, **{key: value}), 7, prediction=True)
    assert caught.value.line == 7
    assert f"'{key}' of 'car' is taken on ground truth only" in str(caught.value)


@pytest.mark.parametrize(
    "geometry, kind",
    [
        ({"point": {"x": 1, "y": 2}}, "a point"),
        ({"line": [{"x": 1, "y": 2}, {"x": 3, "y": 4}]}, "a line"),
        ({"location": {"start": 0, "end": 3}}, "a location"),
        ({"answer": {"name": "yes"}}, "an answer"),
        ({"answer": "free text"}, "an answer"),
    ],
)
@pytest.mark.parametrize("key, value", [("iscrowd", True), ("area", 4.0)])
def test_crowd_and_area_are_refused_off_regions(
    geometry: dict[str, Any], kind: str, key: str, value: Any
) -> None:
    with pytest.raises(AnnotationLineError) as caught:
        parse(line(name="thing", **geometry, **{key: value}))
    assert caught.value.line == 7
    assert f"'{key}' of 'thing' is taken on a bbox, polygon or mask, not on {kind}" in str(
        caught.value
    )


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"iscrowd": 1}, "iscrowd 1 of 'people' must be true or false"),
        ({"iscrowd": "yes"}, "iscrowd 'yes' of 'people' must be true or false"),
        ({"iscrowd": None}, "iscrowd null of 'people' must be true or false"),
        ({"area": -1}, "area -1 of 'people' is not a number >= 0"),
        ({"area": True}, "area true of 'people' is not a number >= 0"),
        ({"area": "12"}, "area '12' of 'people' is not a number >= 0"),
        ({"area": float("inf")}, "of 'people' is not a number >= 0"),
        ({"area": 10**400}, "of 'people' is not a number >= 0"),
    ],
)
def test_bad_crowd_and_area_values_are_refused(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(AnnotationLineError) as caught:
        parse(line(name="people", bbox=BOX, **fields))
    assert message in str(caught.value)


def test_crowd_without_a_geometry_is_refused() -> None:
    with pytest.raises(AnnotationLineError, match="'iscrowd' is given without a geometry"):
        parse(line(iscrowd=True))


def test_crowd_is_not_a_key_of_a_nested_classification() -> None:
    with pytest.raises(AnnotationLineError, match='unknown key "iscrowd"'):
        parse(
            line(
                name="car",
                bbox=BOX,
                classifications=[{"name": "color", "answer": {"name": "red"}, "iscrowd": True}],
            )
        )
