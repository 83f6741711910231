"""Checks of parsed annotations against a model's ontology and their data row.

Parsing (domain.annotations.ndjson) checks what a line says on its own; this module checks
what it means for one model: that every feature exists and is used with its own tool (a
POLYGON tool takes masks as well as polygons), that answers belong to their question, that
nested classifications hang where the ontology puts them, and that a mask has its data
row's size (docs/metrics.md §2 compares masks pixel by pixel, and a polygon with a mask on its
row is rasterised at that size).

`check_against_row` checks what an object means for its data row, ontology or not:
- its kind suits the row's mediaType: pixel geometries (bbox, polygon, point, line, mask)
  go on IMAGE, VIDEO, DICOM, GEOSPATIAL_TILE and DOCUMENT rows, character spans (location)
  on TEXT, HTML, CONVERSATION, JSON and DOCUMENT rows; answers go on any row;
- when the row has a width and a height, the object is not entirely outside its image,
  the rectangle x 0..width, y 0..height (borders included). A bbox, polygon or line is
  outside when the rectangle its coordinates span does not meet the image; a point when it
  is not in it. Objects partly outside fit (COCO data has boxes crossing the border). A
  mask has the row's size, so it is never outside.
A row without a mediaType or a size gets only the checks it has the facts for.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final, Protocol

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
from domain.errors import AnnotationLineError, NotFound
from domain.ontology import Ontology
from domain.ontology_features import ClassificationKind, Feature, Question, Tool

# The geometries each tool takes. A POLYGON tool takes masks too, and a MASK tool polygons:
# COCO keeps ordinary objects as polygons and crowds (and some objects) as RLE masks of one
# category, whichever tool an ontology gives that category.
TOOL_GEOMETRY: Final[dict[Tool, tuple[type, ...]]] = {
    Tool.BBOX: (Box,),
    Tool.POLYGON: (Polygon, Mask),
    Tool.MASK: (Mask, Polygon),
    Tool.POINT: (Point,),
    Tool.POLYLINE: (Polyline,),
    Tool.NER: (Span,),
}

# The NDJSON key a user wrote for each geometry, so a message speaks the upload's words.
_WORDS: Final[dict[type, str]] = {
    Box: "bbox",
    Polygon: "polygon",
    Point: "point",
    Polyline: "line",
    Mask: "mask",
    Span: "location",
    Answer: "answer",
    TextAnswer: "free-text answer",
}


# The media types each kind of object goes on (mediaType of a data row, see docs/uploads.md).
PIXEL_MEDIA: Final = ("IMAGE", "VIDEO", "DICOM", "GEOSPATIAL_TILE", "DOCUMENT")
TEXT_MEDIA: Final = ("TEXT", "HTML", "CONVERSATION", "JSON", "DOCUMENT")
_MEDIA: Final[dict[type, tuple[str, ...]]] = {
    Box: PIXEL_MEDIA,
    Polygon: PIXEL_MEDIA,
    Point: PIXEL_MEDIA,
    Polyline: PIXEL_MEDIA,
    Mask: PIXEL_MEDIA,
    Span: TEXT_MEDIA,
}


class RowShape(Protocol):
    """What `check_against_row` needs of a data row; None where it is not known."""

    @property
    def media_type(self) -> str | None: ...

    @property
    def width(self) -> int | None: ...

    @property
    def height(self) -> int | None: ...


def resolve_feature(ontology: Ontology, reference: str) -> Feature:
    """The feature a user names by its name or by its id (schemaId); names win."""
    feature = ontology.feature_named(reference) or ontology.feature_with_id(reference)
    if feature is None:
        raise NotFound(f"unknown feature {reference!r}")
    return feature


def validate_annotations(
    annotations: Sequence[Annotation],
    ontology: Ontology,
    row_size: tuple[int, int] | None,
    line_no: int,
) -> None:
    """Raise AnnotationLineError for the first annotation of a line that does not fit.

    `row_size` is the data row's (height, width), None when the row has no size.
    """
    _check(annotations, ontology, row_size, line_no, None)


def _check(
    annotations: Sequence[Annotation],
    ontology: Ontology,
    row_size: tuple[int, int] | None,
    line: int,
    parent: str | None,
) -> None:
    answered: set[str] = set()
    for annotation in annotations:
        geometry = annotation.geometry
        confidence = annotation.confidence
        # Parsers reject these already; checked again because other importers (COCO)
        # build annotations too, and NaN fails both comparisons.
        if confidence is not None and not 0.0 <= confidence <= 1.0:
            raise AnnotationLineError(
                line, f"confidence {confidence!r} of {annotation.feature!r} is outside [0, 1]"
            )
        if isinstance(geometry, Answer):
            _check_answer(annotation, geometry, ontology, line, parent, answered)
        elif isinstance(geometry, TextAnswer):
            question = _question(ontology, geometry.question, line, parent)
            if question.kind is not ClassificationKind.TEXT:
                raise AnnotationLineError(
                    line,
                    f"question {question.name!r} is a {question.kind} question, "
                    "got a free-text answer",
                )
            if annotation.feature != question.name:
                raise AnnotationLineError(
                    line,
                    f"feature {annotation.feature!r} does not match its question {question.name!r}",
                )
        else:
            _check_object(annotation, ontology, row_size, line, parent)
        if annotation.classifications:
            _check(annotation.classifications, ontology, row_size, line, annotation.feature)


def _check_answer(
    annotation: Annotation,
    geometry: Answer,
    ontology: Ontology,
    line: int,
    parent: str | None,
    answered: set[str],
) -> None:
    question = _question(ontology, geometry.question, line, parent)
    if question.kind is ClassificationKind.TEXT:
        raise AnnotationLineError(
            line,
            f"question {question.name!r} takes free text, got the answer {geometry.answer!r}",
        )
    expected = f"{question.name}/{geometry.answer}"
    feature = ontology.feature_named(expected)
    if feature is None or feature.question != question.name:
        raise AnnotationLineError(
            line, f"{geometry.answer!r} is not an answer of question {question.name!r}"
        )
    if annotation.feature != expected:
        raise AnnotationLineError(
            line, f"feature {annotation.feature!r} does not match its answer {expected!r}"
        )
    if question.kind is ClassificationKind.RADIO:
        if question.name in answered:
            raise AnnotationLineError(
                line, f"radio question {question.name!r} takes one answer, got several"
            )
        answered.add(question.name)


def _question(ontology: Ontology, name: str, line: int, parent: str | None) -> Question:
    question = ontology.question_named(name)
    if question is None:
        feature = ontology.feature_named(name)
        if feature is not None and feature.tool is not None:
            raise AnnotationLineError(
                line, f"feature {name!r} is a {feature.tool} tool, got an answer"
            )
        raise AnnotationLineError(line, f"unknown classification {name!r}")
    if question.parent != parent:
        if parent is None:
            raise AnnotationLineError(
                line,
                f"classification {name!r} is nested under {question.parent!r}; "
                "send it in that feature's classifications",
            )
        raise AnnotationLineError(line, f"classification {name!r} is not nested under {parent!r}")
    return question


def _check_object(
    annotation: Annotation,
    ontology: Ontology,
    row_size: tuple[int, int] | None,
    line: int,
    parent: str | None,
) -> None:
    name = annotation.feature
    geometry = annotation.geometry
    word = _WORDS[type(geometry)]
    if parent is not None:
        raise AnnotationLineError(
            line, f"classifications of {parent!r} hold answers only, got a {word} of {name!r}"
        )
    feature = ontology.feature_named(name)
    if feature is None:
        raise AnnotationLineError(line, f"unknown feature {name!r}")
    tool = feature.tool
    if tool is None:
        raise AnnotationLineError(line, f"feature {name!r} is a classification, got a {word}")
    if type(geometry) not in TOOL_GEOMETRY[tool]:
        raise AnnotationLineError(line, f"feature {name!r} is a {tool} tool, got a {word}")
    if isinstance(geometry, Mask):
        if row_size is None:
            raise AnnotationLineError(
                line,
                f"mask of {name!r} needs the data row's height and width, and the row has none",
            )
        if (geometry.height, geometry.width) != tuple(row_size):
            raise AnnotationLineError(
                line,
                f"mask of {name!r} is {geometry.height}x{geometry.width} (height x width), "
                f"the data row is {row_size[0]}x{row_size[1]}",
            )


def check_against_row(annotations: Sequence[Annotation], row: RowShape, line_no: int) -> None:
    """Raise AnnotationLineError for the first object of a line that does not fit its data
    row: of a kind its mediaType does not take, or entirely outside its image (see above)."""
    for annotation in annotations:
        message = row_error(annotation.feature, annotation.geometry, row)
        if message is not None:
            raise AnnotationLineError(line_no, message)


def row_error(name: str, geometry: object, row: RowShape) -> str | None:
    """Why an object of feature `name` does not fit the row, None when it fits."""
    media = _MEDIA.get(type(geometry))
    if media is None:
        return None  # answers fit any row
    word = _WORDS[type(geometry)]
    media_type = row.media_type
    if media_type is not None and media_type.upper() not in media:
        return (
            f"{word} of {name!r} does not fit the data row's mediaType {media_type}; "
            f"a {word} needs mediaType {', '.join(media[:-1])} or {media[-1]}"
        )
    width, height = row.width, row.height
    if width is None or height is None or media is not PIXEL_MEDIA:
        return None
    image = f"the data row's image (x 0 to {_number(width)}, y 0 to {_number(height)})"
    if isinstance(geometry, Point):
        if 0.0 <= geometry.x <= width and 0.0 <= geometry.y <= height:
            return None
        where = f"x {_number(geometry.x)}, y {_number(geometry.y)}"
        return f"point of {name!r} ({where}) lies outside {image}"
    if isinstance(geometry, Box):
        x0, y0 = geometry.left, geometry.top
        x1, y1 = x0 + geometry.width, y0 + geometry.height
    elif isinstance(geometry, Polygon | Polyline):
        vertices = geometry.vertices if isinstance(geometry, Polygon) else geometry.points
        xs = [x for x, _ in vertices]
        ys = [y for _, y in vertices]
        x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    else:
        return None
    if x0 <= width and x1 >= 0.0 and y0 <= height and y1 >= 0.0:
        return None
    span = f"x {_number(x0)} to {_number(x1)}, y {_number(y0)} to {_number(y1)}"
    return f"{word} of {name!r} ({span}) lies entirely outside {image}"


def _number(value: float) -> str:
    """A coordinate as a user wrote it: 64, not 64.0."""
    return str(int(value)) if float(value).is_integer() and abs(value) < 1e16 else repr(value)
