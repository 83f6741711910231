"""One line of the NDJSON annotation / prediction format (docs/uploads.md) to value objects.

The upload path calls `parse_annotation_line` about a million times per request, so this
module checks types with plain `type(...) is` tests and builds the value objects directly:
no schema library, no per-line objects beyond the results. Values come from a JSON decoder,
so exact types are all there is to accept (and `bool`, a subclass of `int`, is refused where
a number is expected, since `true` is never a coordinate).

Every rejection raises `AnnotationLineError` naming the item and the offending value.
A key the format does not know is refused, on the line and in every nested object, naming
the key and the nearest known one (`check_keys`): a typo ("confidance") would otherwise
store something else than the user meant. The one extra key taken is a line's "uuid",
which labeling platforms give every annotation of their exports; it is dropped. Two
geometries on one line are refused too, since one of them would be silently dropped.

Crowd regions and areas (docs/metrics.md §9): a ground-truth bbox, polygon or mask line may say
"iscrowd": true|false and "area": <number >= 0>; both are refused on any other kind, and on
every line of a prediction upload (`prediction=True`), each naming the line.

Names: the line's "name" is the feature (tools) or the question (answers); nested
classifications give their question's name relative to the feature they hang off, and are
stored by full path ("car/color/red", see domain.ontology_features). A "schemaId" is
resolved to the full name through the ontology's `names_by_id`.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import isfinite
from typing import Any

from domain.annotations.ndjson.answers import read_answers, read_classifications
from domain.annotations.ndjson.geometries import GEOMETRY_PARSERS
from domain.annotations.ndjson.keys import (
    DATA_ROW_KEY_SET,
    DATA_ROW_KEYS,
    GEOMETRY_KEYS,
    LINE_KEY_SET,
    LINE_KEYS,
    REGION_KEYS,
    check_keys,
)
from domain.annotations.ndjson.values import Names, read_confidence, read_name, show_value
from domain.annotations.objects import Annotation
from domain.errors import AnnotationLineError


@dataclass(frozen=True, slots=True)
class DataRowRef:
    """How a line points at its data row: by id or by global key, exactly one of them."""

    id: str | None = None
    global_key: str | None = None

    def __post_init__(self) -> None:
        if (self.id is None) == (self.global_key is None):
            raise ValueError("a data row reference needs exactly one of id and global_key")


def parse_annotation_line(
    obj: Any, line_no: int, names_by_id: Names | None = None, *, prediction: bool = False
) -> tuple[DataRowRef, list[Annotation]]:
    """The data row and the annotations of one decoded line; [] for a line with only dataRow.

    A checklist answer gives one annotation per checked answer. `names_by_id` (the model
    ontology's) resolves "schemaId"s; without it a line must use names.

    "iscrowd" and "area" (docs/metrics.md §9) are taken on a ground-truth bbox, polygon or mask;
    a `prediction` line refuses both (a detection's area is that of its geometry, as
    pycocotools' loadRes recomputes it, and a prediction is never a crowd region).
    """
    if type(obj) is not dict:
        raise AnnotationLineError(line_no, f"a line must be a JSON object, got {show_value(obj)}")
    if not obj.keys() <= LINE_KEY_SET:
        check_keys(obj, LINE_KEYS, line_no)
    row = _data_row(obj.get("dataRow"), line_no)
    present = [key for key in GEOMETRY_KEYS if key in obj]
    if not present:
        for key in ("name", "schemaId", "confidence", "classifications", "iscrowd", "area"):
            if key in obj:
                raise AnnotationLineError(
                    line_no,
                    f"{key!r} is given without a geometry; a line needs one of "
                    f"{', '.join(GEOMETRY_KEYS)}, or only a dataRow",
                )
        return row, []
    if len(present) > 1:
        raise AnnotationLineError(
            line_no, f"a line holds one geometry, got {' and '.join(map(repr, present))}"
        )
    key = present[0]
    name = read_name(obj, line_no, names_by_id, None, "the line")
    confidence = read_confidence(obj["confidence"], name, line_no) if "confidence" in obj else None
    if "iscrowd" in obj or "area" in obj:
        # Refused on anything but a bbox, polygon or mask, so never on an answer.
        iscrowd, area = _crowd_and_area(obj, key, name, line_no, prediction)
        geometry = GEOMETRY_PARSERS[key](obj[key], name, line_no)
        nested = read_classifications(obj.get("classifications"), name, line_no, names_by_id, 1)
        return row, [Annotation(name, geometry, confidence, nested, iscrowd, area)]
    if key == "answer":
        return row, read_answers(
            obj["answer"], name, confidence, obj.get("classifications"), line_no, names_by_id, 1
        )
    geometry = GEOMETRY_PARSERS[key](obj[key], name, line_no)
    nested = read_classifications(obj.get("classifications"), name, line_no, names_by_id, 1)
    return row, [Annotation(name, geometry, confidence, nested)]


def _crowd_and_area(
    obj: dict[str, Any], key: str, name: str, line: int, prediction: bool
) -> tuple[bool, float | None]:
    """The line's "iscrowd" and "area", checked (§9): ground truth on a region only."""
    for given in ("iscrowd", "area"):
        if given not in obj:
            continue
        if prediction:
            reason = (
                "a prediction is never a crowd region"
                if given == "iscrowd"
                else "a prediction's area is that of its geometry"
            )
            raise AnnotationLineError(
                line, f"{given!r} of {name!r} is taken on ground truth only; {reason}"
            )
        if key not in REGION_KEYS:
            geometry = "an answer" if key == "answer" else f"a {key}"
            raise AnnotationLineError(
                line,
                f"{given!r} of {name!r} is taken on a bbox, polygon or mask, not on {geometry}",
            )
    iscrowd = obj.get("iscrowd", False)
    if type(iscrowd) is not bool:
        raise AnnotationLineError(
            line, f"iscrowd {show_value(iscrowd)} of {name!r} must be true or false"
        )
    if "area" not in obj:
        return iscrowd, None
    value = obj["area"]
    kind = type(value)
    area = None
    if kind is float or kind is int:
        try:
            area = float(value)
        except OverflowError:
            area = None
    if area is None or not isfinite(area) or area < 0.0:
        raise AnnotationLineError(
            line, f"area {show_value(value)} of {name!r} is not a number >= 0"
        )
    return iscrowd, area


# The last reference made: an upload lists a row's predictions on consecutive lines, and
# reusing the (immutable) reference saves building one per line.
_last_row: tuple[object, object, DataRowRef] = (object(), object(), DataRowRef(id="-"))


def parse_data_row_ref(value: Any, line: int) -> DataRowRef:
    """A line's "dataRow" value, {"id": ...} or {"globalKey": ...}, worded as for any line."""
    return _data_row(value, line)


def _data_row(value: Any, line: int) -> DataRowRef:
    global _last_row
    if type(value) is not dict:
        if value is None:
            raise AnnotationLineError(line, "dataRow is missing")
        raise AnnotationLineError(line, f"dataRow must be an object, got {show_value(value)}")
    if len(value) != 1 and not value.keys() <= DATA_ROW_KEY_SET:
        check_keys(value, DATA_ROW_KEYS, line, " in dataRow")
    row_id = value.get("id")
    global_key = value.get("globalKey")
    if row_id is None and global_key is None:
        check_keys(value, DATA_ROW_KEYS, line, " in dataRow")
    last = _last_row
    if last[0] == row_id and last[1] == global_key:
        return last[2]
    if row_id is not None and global_key is not None:
        raise AnnotationLineError(
            line,
            f"dataRow gives both id {show_value(row_id)} and globalKey {show_value(global_key)}",
        )
    if row_id is not None:
        if type(row_id) is not str or not row_id:
            raise AnnotationLineError(
                line, f"dataRow id {show_value(row_id)} is not a non-empty string"
            )
        ref = DataRowRef(id=row_id)
    elif global_key is None:
        raise AnnotationLineError(line, "dataRow has neither id nor globalKey")
    elif type(global_key) is not str or not global_key:
        raise AnnotationLineError(
            line, f"dataRow globalKey {show_value(global_key)} is not a non-empty string"
        )
    else:
        ref = DataRowRef(global_key=global_key)
    _last_row = (row_id, global_key, ref)
    return ref
