"""Checking parsed annotations against a model's ontology and their data row's size."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.annotations.ndjson.lines import parse_annotation_line
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
from domain.annotations.validation import (
    TOOL_GEOMETRY,
    RowShape,
    check_against_row,
    resolve_feature,
    validate_annotations,
)
from domain.errors import AnnotationLineError, NotFound
from domain.ontology import Ontology
from domain.ontology_features import Tool
from tests.domain.annotations import strategies

ROW_SIZE = (4, 3)
MASK = Mask(4, 3, b"525")


def ontology() -> Ontology:
    ids = itertools.count()
    return Ontology.build(
        tools=[
            {
                "name": "car",
                "tool": "BBOX",
                "classifications": [
                    {"name": "color", "kind": "RADIO", "answers": ["red", "blue"]},
                    {"name": "tags", "kind": "CHECKLIST", "answers": ["old", "dirty"]},
                    {"name": "note", "kind": "TEXT"},
                ],
            },
            {"name": "roof", "tool": "POLYGON"},
            {"name": "seg", "tool": "MASK"},
            {"name": "eye", "tool": "POINT"},
            {"name": "road", "tool": "POLYLINE"},
            {"name": "person", "tool": "NER"},
        ],
        classifications=[
            {
                "name": "weather",
                "kind": "RADIO",
                "answers": [
                    "rain",
                    {
                        "name": "sunny",
                        "classifications": [
                            {"name": "intensity", "kind": "RADIO", "answers": ["high"]}
                        ],
                    },
                ],
            },
            {"name": "labels", "kind": "CHECKLIST", "answers": ["a", "b"]},
            {"name": "caption", "kind": "TEXT"},
        ],
        id_factory=lambda: f"f{next(ids)}",
    )


ONTOLOGY = ontology()
BOX = Box(0.0, 0.0, 2.0, 2.0)


def check(annotations: list[Annotation], row_size: tuple[int, int] | None = ROW_SIZE) -> None:
    validate_annotations(annotations, ONTOLOGY, row_size, 12)


def rejected(annotations: list[Annotation], row_size: tuple[int, int] | None = ROW_SIZE) -> str:
    with pytest.raises(AnnotationLineError) as caught:
        check(annotations, row_size)
    assert caught.value.line == 12
    return caught.value.reason


def parsed(**fields: Any) -> list[Annotation]:
    return parse_annotation_line({"dataRow": {"id": "r"}, **fields}, 12)[1]


# --- accepted -------------------------------------------------------------------------


def test_every_tool_with_its_own_geometry() -> None:
    check(
        [
            Annotation("car", BOX, 0.5),
            Annotation("roof", Polygon(((0, 0), (1, 0), (1, 1)))),
            Annotation("seg", MASK),
            Annotation("eye", Point(1, 1)),
            Annotation("road", Polyline(((0, 0), (1, 1)))),
            Annotation("person", Span(0, 3)),
        ]
    )


def test_a_polygon_tool_takes_masks_too_and_a_mask_tool_polygons() -> None:
    # COCO stores ordinary objects as polygons and crowds as RLE masks of one category.
    check([Annotation("roof", Polygon(((0, 0), (1, 0), (1, 1)))), Annotation("roof", MASK)])
    check([Annotation("seg", MASK), Annotation("seg", Polygon(((0, 0), (1, 0), (1, 1))))])
    assert rejected([Annotation("roof", MASK)], (3, 4)) == (
        "mask of 'roof' is 4x3 (height x width), the data row is 3x4"
    )
    assert rejected([Annotation("roof", MASK)], None) == (
        "mask of 'roof' needs the data row's height and width, and the row has none"
    )
    assert rejected([Annotation("car", MASK)]) == "feature 'car' is a BBOX tool, got a mask"
    assert rejected([Annotation("seg", Box(0, 0, 1, 1))]) == "feature 'seg' is a MASK tool, got a bbox"


def test_classifications_and_their_nested_answers() -> None:
    check(
        parsed(
            name="car",
            bbox={"top": 0, "left": 0, "height": 1, "width": 1},
            classifications=[
                {"name": "color", "answer": {"name": "red"}},
                {"name": "tags", "answer": [{"name": "old"}, {"name": "dirty"}]},
                {"name": "note", "answer": "scratched"},
            ],
        )
    )
    check(parsed(name="labels", answer=[{"name": "a"}, {"name": "b"}]))
    check(parsed(name="caption", answer="two cars"))
    check(
        parsed(
            name="weather",
            answer={
                "name": "sunny",
                "classifications": [{"name": "intensity", "answer": {"name": "high"}}],
            },
        )
    )


def test_a_row_without_size_is_fine_without_masks() -> None:
    check([Annotation("car", BOX)], None)


def test_features_resolve_by_name_or_id() -> None:
    car = ONTOLOGY.feature_named("car")
    assert car is not None
    assert resolve_feature(ONTOLOGY, "car") == resolve_feature(ONTOLOGY, car.id) == car
    assert resolve_feature(ONTOLOGY, "weather/sunny").question == "weather"
    with pytest.raises(NotFound, match="unknown feature 'bus'"):
        resolve_feature(ONTOLOGY, "bus")


# --- rejected ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("annotation", "message"),
    [
        (Annotation("bus", BOX), "unknown feature 'bus'"),
        (
            Annotation("car", Polygon(((0, 0), (1, 0), (1, 1)))),
            "feature 'car' is a BBOX tool, got a polygon",
        ),
        (Annotation("roof", BOX), "feature 'roof' is a POLYGON tool, got a bbox"),
        (Annotation("seg", BOX), "feature 'seg' is a MASK tool, got a bbox"),
        (
            Annotation("eye", Polyline(((0, 0), (1, 1)))),
            "feature 'eye' is a POINT tool, got a line",
        ),
        (Annotation("road", Point(0, 0)), "feature 'road' is a POLYLINE tool, got a point"),
        (Annotation("person", BOX), "feature 'person' is a NER tool, got a bbox"),
        (Annotation("car", Span(0, 1)), "feature 'car' is a BBOX tool, got a location"),
        (Annotation("weather/rain", BOX), "feature 'weather/rain' is a classification, got a bbox"),
        (Annotation("caption", Point(0, 0)), "feature 'caption' is a classification, got a point"),
        (Annotation("car", BOX, 1.5), "confidence 1.5 of 'car' is outside [0, 1]"),
        (Annotation("car", BOX, float("nan")), "confidence nan of 'car' is outside [0, 1]"),
    ],
)
def test_objects(annotation: Annotation, message: str) -> None:
    assert rejected([annotation]) == message


@pytest.mark.parametrize(
    ("annotation", "message"),
    [
        (Annotation("mood/happy", Answer("mood", "happy")), "unknown classification 'mood'"),
        (
            Annotation("car/red", Answer("car", "red")),
            "feature 'car' is a BBOX tool, got an answer",
        ),
        (
            Annotation("weather/snow", Answer("weather", "snow")),
            "'snow' is not an answer of question 'weather'",
        ),
        (
            Annotation("caption/x", Answer("caption", "x")),
            "question 'caption' takes free text, got the answer 'x'",
        ),
        (
            Annotation("weather", TextAnswer("weather", "hot")),
            "question 'weather' is a RADIO question, got a free-text answer",
        ),
        (
            Annotation("weather/rain", Answer("weather", "sunny")),
            "feature 'weather/rain' does not match its answer 'weather/sunny'",
        ),
        (
            Annotation("other", TextAnswer("caption", "x")),
            "feature 'other' does not match its question 'caption'",
        ),
        (
            Annotation("car/color/red", Answer("car/color", "red")),
            "classification 'car/color' is nested under 'car'; send it in that feature's classifications",
        ),
    ],
)
def test_answers(annotation: Annotation, message: str) -> None:
    assert rejected([annotation]) == message


def test_a_radio_question_takes_one_answer_per_line() -> None:
    two = [
        Annotation("weather/rain", Answer("weather", "rain")),
        Annotation("weather/sunny", Answer("weather", "sunny")),
    ]
    assert rejected(two) == "radio question 'weather' takes one answer, got several"
    check(
        [
            Annotation("labels/a", Answer("labels", "a")),
            Annotation("labels/b", Answer("labels", "b")),
        ]
    )


def test_nested_classifications_are_checked_in_their_place() -> None:
    red = Annotation("car/color/red", Answer("car/color", "red"))
    purple = Annotation("car/color/purple", Answer("car/color", "purple"))
    assert rejected([Annotation("car", BOX, None, (purple,))]) == (
        "'purple' is not an answer of question 'car/color'"
    )
    assert rejected([Annotation("roof", Polygon(((0, 0), (1, 0), (1, 1))), None, (red,))]) == (
        "classification 'car/color' is not nested under 'roof'"
    )
    assert rejected([Annotation("car", BOX, None, (Annotation("eye", Point(0, 0)),))]) == (
        "classifications of 'car' hold answers only, got a point of 'eye'"
    )
    high = Annotation(
        "weather/sunny/intensity/high", Answer("weather/sunny/intensity", "high"), 2.0
    )
    assert rejected([Annotation("weather/sunny", Answer("weather", "sunny"), None, (high,))]) == (
        "confidence 2.0 of 'weather/sunny/intensity/high' is outside [0, 1]"
    )


def test_a_nested_classification_named_by_schema_id_elsewhere_is_caught() -> None:
    # A schemaId can point at a question of another feature; the parser cannot know.
    color = ONTOLOGY.question_named("car/color")
    assert color is not None
    annotations = parse_annotation_line(
        {
            "dataRow": {"id": "r"},
            "name": "roof",
            "polygon": [{"x": 0, "y": 0}, {"x": 1, "y": 0}, {"x": 1, "y": 1}],
            "classifications": [{"schemaId": color.id, "answer": {"name": "red"}}],
        },
        12,
        ONTOLOGY.names_by_id,
    )[1]
    assert rejected(annotations) == "classification 'car/color' is not nested under 'roof'"


def test_mask_size_must_be_the_data_rows() -> None:
    assert rejected([Annotation("seg", MASK)], (3, 4)) == (
        "mask of 'seg' is 4x3 (height x width), the data row is 3x4"
    )
    assert rejected([Annotation("seg", MASK)], None) == (
        "mask of 'seg' needs the data row's height and width, and the row has none"
    )
    check([Annotation("seg", MASK)], (4, 3))


# --- properties ----------------------------------------------------------------------

GEOMETRIES: dict[Tool, st.SearchStrategy[Geometry]] = {
    Tool.BBOX: strategies.boxes,
    Tool.POLYGON: strategies.polygons,
    Tool.MASK: strategies.binary_masks().map(strategies.to_mask),
    Tool.POINT: strategies.points,
    Tool.POLYLINE: strategies.polylines,
    Tool.NER: strategies.spans,
}
TOOLS = [f for f in ONTOLOGY.features if f.tool is not None]


@st.composite
def fitting_objects(draw: st.DrawFn) -> tuple[Annotation, tuple[int, int] | None]:
    """An object of a random tool of the ontology, and a data row size that fits it."""
    feature = draw(st.sampled_from(TOOLS))
    assert feature.tool is not None
    geometry = draw(GEOMETRIES[feature.tool])
    size = (
        (geometry.height, geometry.width)
        if isinstance(geometry, Mask)
        else draw(st.none() | st.tuples(st.integers(1, 99), st.integers(1, 99)))
    )
    return Annotation(feature.name, geometry, draw(strategies.confidences)), size


@settings(deadline=None)
@given(fitting_objects())
def test_any_object_of_its_own_tool_is_accepted(
    case: tuple[Annotation, tuple[int, int] | None],
) -> None:
    annotation, size = case
    validate_annotations([annotation], ONTOLOGY, size, 3)


@settings(deadline=None)
@given(fitting_objects(), st.sampled_from(list(Tool)))
def test_any_object_under_another_tool_is_rejected_naming_it(
    case: tuple[Annotation, tuple[int, int] | None], other: Tool
) -> None:
    annotation, size = case
    feature = ONTOLOGY.feature_named(annotation.feature)
    assert feature is not None and feature.tool is not None
    wrong = next(f for f in TOOLS if f.tool is other)
    moved = Annotation(wrong.name, annotation.geometry, annotation.confidence)
    if type(annotation.geometry) in TOOL_GEOMETRY[other]:
        validate_annotations([moved], ONTOLOGY, size, 3)
        return
    with pytest.raises(AnnotationLineError) as caught:
        validate_annotations([moved], ONTOLOGY, size, 3)
    assert caught.value.line == 3
    assert caught.value.reason.startswith(f"feature {wrong.name!r} is a {other} tool, got a ")


@settings(deadline=None)
@given(strategies.names, strategies.object_geometries)
def test_any_feature_outside_the_ontology_is_rejected_naming_it(
    name: str, geometry: Geometry
) -> None:
    if ONTOLOGY.feature_named(name) is not None:
        return
    with pytest.raises(AnnotationLineError) as caught:
        validate_annotations([Annotation(name, geometry)], ONTOLOGY, ROW_SIZE, 5)
    assert caught.value.line == 5
    assert caught.value.reason == f"unknown feature {name!r}"


# --- against the data row: its media type and its image ---------------------------------


@dataclass(frozen=True)
class Row:
    media_type: str | None = "IMAGE"
    width: int | None = 64
    height: int | None = 48


IMAGE = Row()


def misplaced(annotations: list[Annotation], row: RowShape = IMAGE) -> str:
    with pytest.raises(AnnotationLineError) as caught:
        check_against_row(annotations, row, 9)
    assert caught.value.line == 9
    assert str(caught.value).count("line 9:") == 1
    return caught.value.reason


@pytest.mark.parametrize(
    ("annotation", "row", "message"),
    [
        (
            Annotation("car", BOX),
            Row("TEXT", None, None),
            "bbox of 'car' does not fit the data row's mediaType TEXT; a bbox needs mediaType "
            "IMAGE, VIDEO, DICOM, GEOSPATIAL_TILE or DOCUMENT",
        ),
        (
            Annotation("eye", Point(1, 1)),
            Row("AUDIO", 64, 48),
            "point of 'eye' does not fit the data row's mediaType AUDIO; a point needs mediaType "
            "IMAGE, VIDEO, DICOM, GEOSPATIAL_TILE or DOCUMENT",
        ),
        (
            Annotation("person", Span(0, 3)),
            IMAGE,
            "location of 'person' does not fit the data row's mediaType IMAGE; a location needs "
            "mediaType TEXT, HTML, CONVERSATION, JSON or DOCUMENT",
        ),
    ],
)
def test_an_object_must_suit_its_rows_media_type(annotation: Annotation, row: Row, message: str) -> None:
    assert misplaced([annotation], row) == message


@pytest.mark.parametrize(
    ("annotation", "message"),
    [
        (
            Annotation("eye", Point(1000, -50)),
            "point of 'eye' (x 1000, y -50) lies outside the data row's image (x 0 to 64, y 0 to 48)",
        ),
        (
            Annotation("car", Box(100.0, 5.0, 10.0, 4.0)),
            "bbox of 'car' (x 100 to 110, y 5 to 9) lies entirely outside the data row's image "
            "(x 0 to 64, y 0 to 48)",
        ),
        (
            Annotation("car", Box(-20.0, -20.0, 10.5, 50.0)),
            "bbox of 'car' (x -20 to -9.5, y -20 to 30) lies entirely outside the data row's image "
            "(x 0 to 64, y 0 to 48)",
        ),
        (
            Annotation("roof", Polygon(((0, 49), (10, 49), (5, 60)))),
            "polygon of 'roof' (x 0 to 10, y 49 to 60) lies entirely outside the data row's image "
            "(x 0 to 64, y 0 to 48)",
        ),
        (
            Annotation("road", Polyline(((65, 0), (70, 48)))),
            "line of 'road' (x 65 to 70, y 0 to 48) lies entirely outside the data row's image "
            "(x 0 to 64, y 0 to 48)",
        ),
    ],
)
def test_an_object_entirely_outside_its_image_is_refused(annotation: Annotation, message: str) -> None:
    assert misplaced([annotation]) == message


def test_what_touches_or_crosses_the_image_fits() -> None:
    # COCO data has boxes partly outside their image (and points on its border).
    check_against_row(
        [
            Annotation("car", Box(-10.0, -10.0, 20.0, 20.0)),
            Annotation("car", Box(60.0, 40.0, 100.0, 100.0)),
            Annotation("car", Box(64.0, 48.0, 1.0, 1.0)),
            Annotation("eye", Point(0, 48)),
            Annotation("eye", Point(64, 0)),
            Annotation("roof", Polygon(((-5, -5), (70, -5), (30, 60)))),
            Annotation("road", Polyline(((-10, 24), (80, 24)))),
            Annotation("seg", MASK),
            Annotation("weather/rain", Answer("weather", "rain")),
            Annotation("caption", TextAnswer("caption", "x")),
        ],
        IMAGE,
        9,
    )


def test_without_a_size_only_the_media_type_is_checked() -> None:
    far = [Annotation("eye", Point(1000, -50)), Annotation("car", Box(1e6, 1e6, 1.0, 1.0))]
    check_against_row(far, Row("IMAGE", None, None), 9)
    check_against_row(far, Row(None, None, None), 9)
    assert misplaced([Annotation("person", Span(0, 2))], Row("IMAGE", None, None)).startswith(
        "location of 'person' does not fit"
    )
    # Text rows, documents and answers: spans and classifications go anywhere they fit.
    check_against_row([Annotation("person", Span(0, 2))], Row("TEXT", None, None), 9)
    check_against_row([Annotation("person", Span(0, 2)), Annotation("car", BOX)], Row("DOCUMENT", 10, 10), 9)
    check_against_row([Annotation("caption", TextAnswer("caption", "x"))], Row("AUDIO", None, None), 9)
