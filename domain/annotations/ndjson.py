"""One line of the NDJSON annotation / prediction format (docs/uploads.md) to value objects and back.

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
stored by full path ("car/color/red", see domain.ontology). A "schemaId" is resolved to the
full name through the ontology's `names_by_id`.
"""

from __future__ import annotations

import base64
import binascii
import difflib
import io
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from math import isfinite
from typing import Any, Final

import numpy as np
from PIL import Image
from pycocotools import mask as coco_mask

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
from domain.errors import AnnotationLineError
from domain.ontology import MAX_NESTING

# pycocotools keeps run lengths in 32 bits; no real data row comes near this.
MAX_MASK_PIXELS: Final = 2**31 - 1
# Character offsets stay exact in a float64 and in any JSON client.
MAX_OFFSET: Final = 2**53

GEOMETRY_KEYS: Final = ("bbox", "polygon", "point", "line", "mask", "location", "answer")

# The keys each object of the format takes, in the order messages list them.
LINE_KEYS: Final = (
    "dataRow", "name", "schemaId", *GEOMETRY_KEYS, "confidence", "classifications", "iscrowd",
    "area", "uuid",
)
# The geometries a ground-truth line may mark as a crowd region or give an area (§9).
REGION_KEYS: Final = ("bbox", "polygon", "mask")
DATA_ROW_KEYS: Final = ("id", "globalKey")
BOX_KEYS: Final = ("top", "left", "height", "width")
XY_KEYS: Final = ("x", "y")
LOCATION_KEYS: Final = ("start", "end")
MASK_KEYS: Final = ("png", "colorRGB", "rle")
RLE_KEYS: Final = ("size", "counts")
ANSWER_KEYS: Final = ("name", "schemaId", "confidence", "classifications")
CLASSIFICATION_KEYS: Final = ("name", "schemaId", "answer", "confidence", "classifications")
_LINE_KEYS: Final = frozenset(LINE_KEYS)
_DATA_ROW_KEYS: Final = frozenset(DATA_ROW_KEYS)
_BOX_KEYS: Final = frozenset(BOX_KEYS)
_XY_KEYS: Final = frozenset(XY_KEYS)
_LOCATION_KEYS: Final = frozenset(LOCATION_KEYS)
_MASK_KEYS: Final = frozenset(MASK_KEYS)
_RLE_KEYS: Final = frozenset(RLE_KEYS)
_ANSWER_KEYS: Final = frozenset(ANSWER_KEYS)
_CLASSIFICATION_KEYS: Final = frozenset(CLASSIFICATION_KEYS)

# Words other formats (and habits) use for a key of this one, too far apart to be found by
# spelling: suggested only where the object takes the key they point at.
KEY_ALIASES: Final[Mapping[str, str]] = {
    "annotations": "labels",
    "objects": "labels",
    "key": "globalKey",
    "externalId": "globalKey",
    "external_id": "globalKey",
    "url": "rowData",
    "uri": "rowData",
    "image": "rowData",
    "score": "confidence",
    "label": "name",
    "class": "name",
    "category": "name",
    "box": "bbox",
    "segmentation": "polygon",
    "value": "metricValue",
    "embedding": "vector",
}

Names = Mapping[str, str]


@dataclass(frozen=True, slots=True)
class DataRowRef:
    """How a line points at its data row: by id or by global key, exactly one of them."""

    id: str | None = None
    global_key: str | None = None

    def __post_init__(self) -> None:
        if (self.id is None) == (self.global_key is None):
            raise ValueError("a data row reference needs exactly one of id and global_key")


def nearest_key(key: str, known: Collection[str]) -> str | None:
    """The known key `key` is most likely a misspelling of, if any is near enough."""
    alias = KEY_ALIASES.get(key)
    if alias is not None and alias in known:
        return alias
    folded = {_fold(k): k for k in known}
    same = folded.get(_fold(key))
    if same is not None:
        return same  # "Confidence", "global_key", "schema-id"
    if len(key) >= 3:
        # A key cut short ("meta", "conf") is too short for a close match.
        starting = [k for f, k in folded.items() if f.startswith(_fold(key))]
        if len(starting) == 1:
            return starting[0]
    close = difflib.get_close_matches(key, list(known), n=1, cutoff=0.7)
    if close:
        return close[0]
    close = difflib.get_close_matches(_fold(key), list(folded), n=1, cutoff=0.7)
    return folded[close[0]] if close else None


def _fold(key: str) -> str:
    return key.lower().replace("_", "").replace("-", "").replace(" ", "")


def unknown_key_message(key: str, known: Collection[str], where: str = "") -> str:
    """The message for a key an object does not take: `where` says which object (" in
    bbox of 'car'"), empty for the line itself."""
    near = nearest_key(key, known)
    if near is not None:
        return f"unknown key {_quoted(key)}{where}; did you mean {_quoted(near)}?"
    return f"unknown key {_quoted(key)}{where}; known keys: {', '.join(known)}"


def check_keys(obj: dict[str, Any], known: Collection[str], line: int, where: str = "") -> None:
    """Refuse the first key of `obj` (in the user's order) that `known` does not hold."""
    for key in obj:
        if key not in known:
            raise AnnotationLineError(line, unknown_key_message(key, known, where))


def _quoted(key: str) -> str:
    """A key as JSON writes it, cut short like any value in a message."""
    text = key if len(key) <= 40 else key[:37] + "..."
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


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
        raise AnnotationLineError(line_no, f"a line must be a JSON object, got {_show(obj)}")
    if not obj.keys() <= _LINE_KEYS:
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
    name = _name(obj, line_no, names_by_id, None, "the line")
    confidence = _confidence(obj["confidence"], name, line_no) if "confidence" in obj else None
    if "iscrowd" in obj or "area" in obj:
        # Refused on anything but a bbox, polygon or mask, so never on an answer.
        iscrowd, area = _crowd_and_area(obj, key, name, line_no, prediction)
        geometry = _GEOMETRY_PARSERS[key](obj[key], name, line_no)
        nested = _nested(obj.get("classifications"), name, line_no, names_by_id, 1)
        return row, [Annotation(name, geometry, confidence, nested, iscrowd, area)]
    if key == "answer":
        return row, _answers(
            obj["answer"], name, confidence, obj.get("classifications"), line_no, names_by_id, 1
        )
    geometry = _GEOMETRY_PARSERS[key](obj[key], name, line_no)
    nested = _nested(obj.get("classifications"), name, line_no, names_by_id, 1)
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
            kind = "an answer" if key == "answer" else f"a {key}"
            raise AnnotationLineError(
                line,
                f"{given!r} of {name!r} is taken on a bbox, polygon or mask, not on {kind}",
            )
    iscrowd = obj.get("iscrowd", False)
    if type(iscrowd) is not bool:
        raise AnnotationLineError(
            line, f"iscrowd {_show(iscrowd)} of {name!r} must be true or false"
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
        raise AnnotationLineError(line, f"area {_show(value)} of {name!r} is not a number >= 0")
    return iscrowd, area


def annotation_to_line(row: DataRowRef, annotation: Annotation) -> dict[str, Any]:
    """The line `parse_annotation_line` reads back as this annotation (for exports)."""
    line: dict[str, Any] = {
        "dataRow": {"id": row.id} if row.id is not None else {"globalKey": row.global_key}
    }
    line.update(_to_item(annotation, None))
    return line


# The last reference made: an upload lists a row's predictions on consecutive lines, and
# reusing the (immutable) reference saves building one per line.
_last_row: tuple[object, object, DataRowRef] = (object(), object(), DataRowRef(id="-"))


def parse_data_row_ref(value: Any, line: int) -> DataRowRef:
    """A line's "dataRow" value, {"id": ...} or {"globalKey": ...}, worded as for any line."""
    return _data_row(value, line)


def show_value(value: Any) -> str:
    """A value as the user wrote it in JSON, cut short, for a message."""
    return _show(value)


def _data_row(value: Any, line: int) -> DataRowRef:
    global _last_row
    if type(value) is not dict:
        if value is None:
            raise AnnotationLineError(line, "dataRow is missing")
        raise AnnotationLineError(line, f"dataRow must be an object, got {_show(value)}")
    if len(value) != 1 and not value.keys() <= _DATA_ROW_KEYS:
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
            line, f"dataRow gives both id {_show(row_id)} and globalKey {_show(global_key)}"
        )
    if row_id is not None:
        if type(row_id) is not str or not row_id:
            raise AnnotationLineError(line, f"dataRow id {_show(row_id)} is not a non-empty string")
        ref = DataRowRef(id=row_id)
    elif global_key is None:
        raise AnnotationLineError(line, "dataRow has neither id nor globalKey")
    elif type(global_key) is not str or not global_key:
        raise AnnotationLineError(
            line, f"dataRow globalKey {_show(global_key)} is not a non-empty string"
        )
    else:
        ref = DataRowRef(global_key=global_key)
    _last_row = (row_id, global_key, ref)
    return ref


def _name(
    item: dict[str, Any], line: int, names: Names | None, parent: str | None, what: str
) -> str:
    """The full feature or question name an item points at by name or schemaId."""
    name = item.get("name")
    schema_id = item.get("schemaId")
    if name is not None:
        if type(name) is not str or not name:
            raise AnnotationLineError(
                line, f"name {_show(name)} of {what} is not a non-empty string"
            )
        full = name if parent is None else f"{parent}/{name}"
        if schema_id is not None and names is not None and names.get(schema_id) != full:
            raise AnnotationLineError(
                line, f"schemaId {_show(schema_id)} of {what} does not name {full!r}"
            )
        return full
    if schema_id is None:
        raise AnnotationLineError(line, f"{what} has neither name nor schemaId")
    resolved = names.get(schema_id) if names is not None and type(schema_id) is str else None
    if resolved is None:
        raise AnnotationLineError(line, f"schemaId {_show(schema_id)} of {what} is unknown")
    return resolved


def _confidence(value: Any, name: str, line: int) -> float | None:
    if value is None:
        return None
    kind = type(value)
    if kind is float or kind is int:
        try:
            number = float(value)
        except OverflowError:
            number = float("inf")
        if not isfinite(number):
            raise AnnotationLineError(
                line, f"confidence {_show(value)} of {name!r} is not a finite number"
            )
        if 0.0 <= number <= 1.0:
            return number
        raise AnnotationLineError(line, f"confidence {_show(value)} of {name!r} is outside [0, 1]")
    raise AnnotationLineError(line, f"confidence {_show(value)} of {name!r} is not a number")


def _coordinate(value: Any, what: str, name: str, line: int) -> float:
    kind = type(value)
    if kind is float:
        if isfinite(value):
            return value  # type: ignore[no-any-return]
    elif kind is int:
        try:
            return float(value)
        except OverflowError:
            pass
    elif value is None:
        raise AnnotationLineError(line, f"{what} of {name!r} is missing")
    else:
        raise AnnotationLineError(line, f"{what} {_show(value)} of {name!r} is not a number")
    raise AnnotationLineError(line, f"{what} {_show(value)} of {name!r} is not a finite number")


def _offset(value: Any, what: str, name: str, line: int) -> int:
    kind = type(value)
    if kind is int:
        number: int = value
    elif kind is float and isfinite(value) and value.is_integer():
        number = int(value)
    elif value is None:
        raise AnnotationLineError(line, f"{what} of {name!r} is missing")
    else:
        raise AnnotationLineError(line, f"{what} {_show(value)} of {name!r} is not an integer")
    if number < 0:
        raise AnnotationLineError(line, f"{what} {_show(value)} of {name!r} is negative")
    if number > MAX_OFFSET:
        raise AnnotationLineError(
            line, f"{what} {_show(value)} of {name!r} is too large; at most {MAX_OFFSET}"
        )
    return number


def _object(
    value: Any, what: str, name: str, line: int, keys: frozenset[str] | None = None
) -> dict[str, Any]:
    """`value` if it is an object (whose keys are among `keys`, when given)."""
    if type(value) is not dict:
        raise AnnotationLineError(line, f"{what} of {name!r} must be an object, got {_show(value)}")
    if keys is not None and not value.keys() <= keys:
        check_keys(value, _KEY_ORDER[keys], line, f" in {what} of {name!r}")
    return value


def _box(value: Any, name: str, line: int) -> Box:
    if type(value) is dict:
        # Fast path for the bulk case (four finite floats, positive sides); anything else
        # takes the checks below, which also word the error.
        top, left = value.get("top"), value.get("left")
        height, width = value.get("height"), value.get("width")
        if (
            type(top) is float
            and type(left) is float
            and type(height) is float
            and type(width) is float
            and len(value) == 4
            and isfinite(top + left + height + width)
            and width > 0.0
            and height > 0.0
        ):
            return Box(left, top, width, height)
    value = _object(value, "bbox", name, line, _BOX_KEYS)
    top = _coordinate(value.get("top"), "bbox top", name, line)
    left = _coordinate(value.get("left"), "bbox left", name, line)
    height = _coordinate(value.get("height"), "bbox height", name, line)
    width = _coordinate(value.get("width"), "bbox width", name, line)
    if width <= 0.0 or height <= 0.0:
        raise AnnotationLineError(
            line,
            f"bbox of {name!r} has width {_show(width)} and height {_show(height)}; "
            "both must be > 0",
        )
    return Box(left, top, width, height)


def _point(value: Any, name: str, line: int) -> Point:
    value = _object(value, "point", name, line, _XY_KEYS)
    return Point(
        _coordinate(value.get("x"), "point x", name, line),
        _coordinate(value.get("y"), "point y", name, line),
    )


def _vertices(value: Any, what: str, name: str, line: int) -> list[tuple[float, float]]:
    if type(value) is not list:
        raise AnnotationLineError(
            line, f"{what} of {name!r} must be a list of {{x, y}} points, got {_show(value)}"
        )
    vertices = []
    for number, vertex in enumerate(value, 1):
        if type(vertex) is dict and vertex.keys() <= _XY_KEYS:
            # Fast path for the bulk case (two finite floats); the rest words the error.
            x, y = vertex.get("x"), vertex.get("y")
            if type(x) is float and type(y) is float and isfinite(x) and isfinite(y):
                vertices.append((x, y))
                continue
        vertex = _object(vertex, f"{what} point {number}", name, line, _XY_KEYS)
        vertices.append(
            (
                _coordinate(vertex.get("x"), f"{what} point {number} x", name, line),
                _coordinate(vertex.get("y"), f"{what} point {number} y", name, line),
            )
        )
    return vertices


def _polygon(value: Any, name: str, line: int) -> Polygon:
    """One ring (a list of {x, y} points) or several (a list of such lists: COCO's rings of
    one object, unioned)."""
    if type(value) is list and value and all(type(ring) is list for ring in value):
        rings = [
            _ring(ring, f"polygon ring {number}", name, line)
            for number, ring in enumerate(value, 1)
        ]
        return Polygon(rings[0], tuple(rings[1:]))
    return Polygon(_ring(value, "polygon", name, line))


def _ring(value: Any, what: str, name: str, line: int) -> tuple[tuple[float, float], ...]:
    vertices = _vertices(value, what, name, line)
    # The value object holds an open ring; many exporters close it by repeating vertex 1.
    if len(vertices) > 1 and vertices[0] == vertices[-1]:
        vertices.pop()
    if len(vertices) < 3:
        raise AnnotationLineError(
            line, f"{what} of {name!r} has {len(vertices)} distinct points; it needs at least 3"
        )
    return tuple(vertices)


def polygon_value(polygon: Polygon) -> list[Any]:
    """A polygon as uploaded: a list of {x, y} points, or a list of rings when it has several."""
    rings = [[{"x": x, "y": y} for x, y in ring] for ring in polygon.rings]
    return rings if polygon.more else rings[0]


def _polyline(value: Any, name: str, line: int) -> Polyline:
    vertices = _vertices(value, "line", name, line)
    if len(vertices) < 2:
        raise AnnotationLineError(
            line, f"line of {name!r} has {len(vertices)} points; it needs at least 2"
        )
    return Polyline(tuple(vertices))


def _span(value: Any, name: str, line: int) -> Span:
    value = _object(value, "location", name, line, _LOCATION_KEYS)
    start = _offset(value.get("start"), "location start", name, line)
    end = _offset(value.get("end"), "location end", name, line)
    if start >= end:
        raise AnnotationLineError(
            line, f"location of {name!r} has start {start} >= end {end}; start must be < end"
        )
    return Span(start, end)


def _mask(value: Any, name: str, line: int) -> Mask:
    value = _object(value, "mask", name, line)
    if "png" in value and "rle" in value:
        raise AnnotationLineError(line, f"mask of {name!r} gives both png and rle")
    if "png" not in value and "rle" not in value:
        raise AnnotationLineError(
            line, f"mask of {name!r} must give png or rle (masks are not fetched from URLs)"
        )
    _object(value, "mask", name, line, _MASK_KEYS)
    if "png" in value:
        return _png_mask(value["png"], value.get("colorRGB"), name, line)
    if "colorRGB" in value:
        raise AnnotationLineError(line, f"mask colorRGB of {name!r} goes with a png, not an rle")
    return _rle_mask(value["rle"], name, line)


def _png_mask(data: Any, color: Any, name: str, line: int) -> Mask:
    if type(data) is not str:
        raise AnnotationLineError(line, f"mask png of {name!r} must be a base64 string")
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise AnnotationLineError(line, f"mask png of {name!r} is not valid base64") from None
    try:
        with Image.open(io.BytesIO(raw)) as image:
            if image.format != "PNG":
                raise ValueError(image.format)
            if color is not None:
                # A composite mask: this instance is the pixels of exactly this colour.
                if not _is_rgb(color):
                    raise AnnotationLineError(
                        line, f"mask colorRGB {_show(color)} of {name!r} is not [r, g, b]"
                    )
                pixels = np.asarray(image.convert("RGB")) == np.asarray(color, dtype=np.uint8)
                binary = pixels.all(axis=2)
            elif len(image.getbands()) == 1:
                binary = np.asarray(image) != 0
            else:
                # Colour images (and palettes, whose indices are the encoder's choice) are
                # read as RGBA: a pixel is in the mask when it has colour and is not fully
                # transparent, so an opaque black background is not mistaken for the mask.
                rgba = np.asarray(image.convert("RGBA"))
                binary = rgba[:, :, :3].any(axis=2) & (rgba[:, :, 3] != 0)
    except AnnotationLineError:
        raise
    except Exception:
        # Pillow reports corrupt images through several exception types (OSError,
        # SyntaxError, ValueError, DecompressionBombError); to the user each is a bad PNG.
        raise AnnotationLineError(line, f"mask png of {name!r} is not a readable PNG") from None
    height, width = binary.shape
    encoded = coco_mask.encode(np.asfortranarray(binary, dtype=np.uint8))
    return Mask(height, width, encoded["counts"])


def _is_rgb(color: Any) -> bool:
    return (
        type(color) is list
        and len(color) == 3
        and all(type(c) is int and 0 <= c <= 255 for c in color)
    )


def _rle_mask(rle: Any, name: str, line: int) -> Mask:
    rle = _object(rle, "mask rle", name, line, _RLE_KEYS)
    size = rle.get("size")
    if not (type(size) is list and len(size) == 2 and all(type(n) is int and n > 0 for n in size)):
        raise AnnotationLineError(
            line, f"mask rle size {_show(size)} of {name!r} is not [height, width] > 0"
        )
    height, width = size
    pixels = height * width
    if pixels > MAX_MASK_PIXELS:
        raise AnnotationLineError(
            line, f"mask rle size {_show(size)} of {name!r} exceeds {MAX_MASK_PIXELS} pixels"
        )
    counts = rle.get("counts")
    if type(counts) is str:
        runs = _compressed_runs(counts)
        if runs is None:
            raise AnnotationLineError(
                line, f"mask rle counts of {name!r} are not a valid compressed RLE string"
            )
    elif type(counts) is list:
        if not all(type(run) is int and run >= 0 for run in counts):
            raise AnnotationLineError(
                line, f"mask rle counts of {name!r} must be non-negative integers"
            )
        runs = counts
    else:
        raise AnnotationLineError(
            line, f"mask rle counts of {name!r} must be a string or a list, got {_show(counts)}"
        )
    covered = sum(runs)
    if covered != pixels:
        raise AnnotationLineError(
            line,
            f"mask rle counts of {name!r} cover {covered} pixels, not {height}x{width} = {pixels}",
        )
    if type(counts) is str:
        return Mask(height, width, counts.encode("ascii"))
    compressed = coco_mask.frPyObjects({"size": size, "counts": counts}, height, width)
    return Mask(height, width, compressed["counts"])


def _compressed_runs(counts: str) -> list[int] | None:
    """The runs of a COCO compressed RLE string, or None if it is malformed.

    pycocotools trusts the string: a malformed one decodes past its buffer. This mirrors
    its reader (5 bits a character, continuation bit 0x20, sign bit 0x10, runs from the
    fourth on stored as a difference to the run two before) so it can be checked first.
    """
    runs: list[int] = []
    value = 0
    shift = 0
    for char in counts:
        code = ord(char) - 48
        if not 0 <= code < 64:
            return None
        value |= (code & 0x1F) << shift
        shift += 5
        if code & 0x20:
            continue
        if code & 0x10:
            value |= -1 << shift
        if len(runs) > 2:
            value += runs[-2]
        if value < 0:
            return None
        runs.append(value)
        value = 0
        shift = 0
    return runs if shift == 0 else None


_KEY_ORDER: Final[dict[frozenset[str], tuple[str, ...]]] = {
    _BOX_KEYS: BOX_KEYS,
    _XY_KEYS: XY_KEYS,
    _LOCATION_KEYS: LOCATION_KEYS,
    _MASK_KEYS: MASK_KEYS,
    _RLE_KEYS: RLE_KEYS,
}

_GEOMETRY_PARSERS: Final[dict[str, Callable[[Any, str, int], Geometry]]] = {
    "bbox": _box,
    "polygon": _polygon,
    "point": _point,
    "line": _polyline,
    "mask": _mask,
    "location": _span,
}


def _answers(
    value: Any,
    question: str,
    confidence: float | None,
    classifications: Any,
    line: int,
    names: Names | None,
    depth: int,
) -> list[Annotation]:
    """The annotations of one question's answer: free text, radio (object) or checklist (list)."""
    kind = type(value)
    if kind is dict:
        return [_answer(value, question, confidence, classifications, line, names, depth)]
    if classifications is not None:
        raise AnnotationLineError(
            line,
            f"classifications of {question!r} belong inside its answer objects",
        )
    if kind is str:
        return [Annotation(question, TextAnswer(question, value), confidence)]
    if kind is list:
        return [_answer(item, question, confidence, None, line, names, depth) for item in value]
    raise AnnotationLineError(
        line,
        f"answer {_show(value)} of {question!r} must be a text, an object or a list of objects",
    )


def _answer(
    item: Any,
    question: str,
    confidence: float | None,
    classifications: Any,
    line: int,
    names: Names | None,
    depth: int,
) -> Annotation:
    if type(item) is dict and not item.keys() <= _ANSWER_KEYS:
        check_keys(item, ANSWER_KEYS, line, f" in an answer of {question!r}")
    item = _object(item, "answer", question, line)
    full = _name(item, line, names, question, f"an answer of {question!r}")
    if not full.startswith(question + "/"):
        raise AnnotationLineError(line, f"{full!r} is not an answer of {question!r}")
    if "confidence" in item:
        confidence = _confidence(item["confidence"], full, line)
    nested = item.get("classifications")
    if classifications is not None:
        if nested is not None:
            raise AnnotationLineError(
                line, f"classifications of {full!r} are given both on the line and in its answer"
            )
        nested = classifications
    children = _nested(nested, full, line, names, depth + 1)
    return Annotation(full, Answer(question, full[len(question) + 1 :]), confidence, children)


def _nested(
    items: Any, parent: str, line: int, names: Names | None, depth: int
) -> tuple[Annotation, ...]:
    if items is None:
        return ()
    if type(items) is not list:
        raise AnnotationLineError(
            line, f"classifications of {parent!r} must be a list, got {_show(items)}"
        )
    if depth > MAX_NESTING:
        raise AnnotationLineError(
            line, f"classifications of {parent!r} are nested deeper than {MAX_NESTING} levels"
        )
    annotations: list[Annotation] = []
    for number, item in enumerate(items, 1):
        item = _object(item, f"classification {number}", parent, line)
        extra = [key for key in GEOMETRY_KEYS if key in item and key != "answer"]
        if not extra and not item.keys() <= _CLASSIFICATION_KEYS:
            check_keys(item, CLASSIFICATION_KEYS, line, f" in classification {number} of {parent!r}")
        question = _name(item, line, names, parent, f"classification {number} of {parent!r}")
        if extra:
            # A geometry is a known word of the format: say why it does not belong here.
            raise AnnotationLineError(
                line, f"nested classification {question!r} must hold an answer, not {extra[0]!r}"
            )
        if "answer" not in item:
            raise AnnotationLineError(line, f"nested classification {question!r} must hold an answer")
        confidence = (
            _confidence(item["confidence"], question, line) if "confidence" in item else None
        )
        annotations.extend(
            _answers(
                item["answer"],
                question,
                confidence,
                item.get("classifications"),
                line,
                names,
                depth,
            )
        )
    return tuple(annotations)


def _show(value: Any) -> str:
    """A value as the user wrote it in JSON, cut short: messages must stay readable."""
    if value is None:
        return "null"
    if type(value) is bool:
        return "true" if value else "false"
    if type(value) is float and value.is_integer():
        text = str(int(value)) if abs(value) < 1e16 else repr(value)
    else:
        text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _to_item(annotation: Annotation, parent: str | None) -> dict[str, Any]:
    geometry = annotation.geometry
    item: dict[str, Any]
    if isinstance(geometry, Answer | TextAnswer):
        item = {"name": _relative(geometry.question, parent)}
        if isinstance(geometry, TextAnswer):
            item["answer"] = geometry.text
            if annotation.confidence is not None:
                item["confidence"] = annotation.confidence
            return item
        answer: dict[str, Any] = {"name": geometry.answer}
        if annotation.confidence is not None:
            answer["confidence"] = annotation.confidence
        if annotation.classifications:
            answer["classifications"] = _to_items(annotation)
        item["answer"] = answer
        return item
    if parent is not None:
        raise ValueError(f"a nested classification cannot be a {type(geometry).__name__}")
    key, value = _geometry_value(geometry)
    item = {"name": annotation.feature, key: value}
    if annotation.confidence is not None:
        item["confidence"] = annotation.confidence
    if annotation.classifications:
        item["classifications"] = _to_items(annotation)
    if annotation.iscrowd:
        item["iscrowd"] = True
    if annotation.area is not None:
        item["area"] = annotation.area
    return item


def _to_items(annotation: Annotation) -> list[dict[str, Any]]:
    return [_to_item(child, annotation.feature) for child in annotation.classifications]


def _relative(name: str, parent: str | None) -> str:
    if parent is None:
        return name
    if not name.startswith(parent + "/"):
        raise ValueError(f"nested question {name!r} is not under {parent!r}")
    return name[len(parent) + 1 :]


def _geometry_value(geometry: Geometry) -> tuple[str, Any]:
    if isinstance(geometry, Box):
        box = {"top": geometry.top, "left": geometry.left}
        return "bbox", box | {"height": geometry.height, "width": geometry.width}
    if isinstance(geometry, Polygon):
        return "polygon", polygon_value(geometry)
    if isinstance(geometry, Point):
        return "point", {"x": geometry.x, "y": geometry.y}
    if isinstance(geometry, Polyline):
        return "line", [{"x": x, "y": y} for x, y in geometry.points]
    if isinstance(geometry, Mask):
        rle = {"size": [geometry.height, geometry.width], "counts": geometry.counts.decode("ascii")}
        return "mask", {"rle": rle}
    if isinstance(geometry, Span):
        return "location", {"start": geometry.start, "end": geometry.end}
    raise ValueError(f"not an object geometry: {geometry!r}")
