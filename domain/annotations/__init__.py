"""Ground-truth labels and predictions: geometry value objects, parsing and validation."""

from domain.annotations.column_decoding import decode_rows
from domain.annotations.columns import chunk_rows, encode_rows, payload_size
from domain.annotations.ndjson.encoding import annotation_to_line
from domain.annotations.ndjson.lines import DataRowRef, parse_annotation_line
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
from domain.annotations.validation import resolve_feature, validate_annotations

__all__ = [
    "Annotation",
    "Answer",
    "Box",
    "DataRowRef",
    "Geometry",
    "Mask",
    "Point",
    "Polygon",
    "Polyline",
    "Span",
    "TextAnswer",
    "annotation_to_line",
    "chunk_rows",
    "decode_rows",
    "encode_rows",
    "parse_annotation_line",
    "payload_size",
    "resolve_feature",
    "validate_annotations",
]
