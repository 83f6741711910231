"""Data rows: parsing an uploaded data-row line and its typed metadata; a row as commands
check lines against it (RowInfo)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any
from urllib.parse import unquote
from uuid import UUID, uuid5

from domain.errors import AnnotationLineError, ValidationFailed
from domain.splits import Split

MEDIA_TYPES = frozenset(
    {
        "IMAGE", "TEXT", "VIDEO", "AUDIO", "DOCUMENT", "DICOM", "HTML", "JSON",
        "CONVERSATION", "GEOSPATIAL_TILE",
    }
)
MAX_GLOBAL_KEY = 1_000
MAX_METADATA_FIELDS = 100
# Labels, and predictions of one run, per data row: room for dense scenes (crowd counting
# marks thousands of heads per image), while a read model replaces one row's set in one
# short transaction.
MAX_OBJECTS_PER_ROW = 50_000
# rowData of a file the server keeps: /assets/<datasetId>/<path>, the path URL-encoded.
ASSET_PREFIX = "/assets/"
MAX_ASSET_NAME_BYTES = 255
MAX_ASSET_PATH_BYTES = 1_024


class MetadataKind(StrEnum):
    STRING = "STRING"
    NUMBER = "NUMBER"
    DATETIME = "DATETIME"
    ENUM = "ENUM"


@dataclass(frozen=True, slots=True)
class MetadataField:
    key: str
    kind: MetadataKind
    options: tuple[str, ...] = ()

    def check(self, value: Any, line: int) -> Any:
        """The stored form of `value` (datetimes as ISO 8601 UTC strings), or an error."""
        if value is None:
            return None  # null removes the key
        if self.kind is MetadataKind.NUMBER:
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                raise AnnotationLineError(line, f"metadata {self.key!r} must be a finite number, got {value!r}")
            return float(value)
        if not isinstance(value, str):
            raise AnnotationLineError(line, f"metadata {self.key!r} must be a string, got {value!r}")
        if self.kind is MetadataKind.DATETIME:
            try:
                parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                raise AnnotationLineError(line, f"metadata {self.key!r} is not an ISO 8601 datetime: {value!r}") from None
            if parsed.tzinfo is None:
                raise AnnotationLineError(line, f"metadata {self.key!r} needs a time zone: {value!r}")
            return parsed.isoformat()
        if self.kind is MetadataKind.ENUM and value not in self.options:
            raise AnnotationLineError(line, f"metadata {self.key!r} value {value!r} is not one of {list(self.options)}"
            )
        return value

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "kind": self.kind.value, "options": list(self.options)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MetadataField:
        return cls(data["key"], MetadataKind(data["kind"]), tuple(data.get("options", ())))


MAX_METADATA_KEY = 100
MAX_ENUM_OPTIONS = 1_000


def declared_metadata_field(key: Any, kind: Any, options: Any = None) -> MetadataField:
    """A field declared explicitly (the only way to a DATETIME or ENUM field)."""
    if not isinstance(key, str) or not key.strip() or len(key) > MAX_METADATA_KEY:
        raise ValidationFailed(f"a metadata key must be a non-empty string of at most {MAX_METADATA_KEY} characters, got {key!r}")
    try:
        parsed = MetadataKind(str(kind).upper())
    except ValueError:
        raise ValidationFailed(
            f"metadata {key!r}: unknown kind {kind!r}; expected one of {[k.value for k in MetadataKind]}"
        ) from None
    values = list(options or [])
    if parsed is MetadataKind.ENUM:
        if not values or len(values) > MAX_ENUM_OPTIONS:
            raise ValidationFailed(f"metadata {key!r}: an ENUM field needs 1 to {MAX_ENUM_OPTIONS} options")
        bad = [v for v in values if not isinstance(v, str) or not v]
        if bad or len(set(values)) != len(values):
            raise ValidationFailed(f"metadata {key!r}: options must be distinct non-empty strings, got {values!r}")
    elif values:
        raise ValidationFailed(f"metadata {key!r}: only ENUM fields take options")
    return MetadataField(key, parsed, tuple(values))


def infer_metadata_field(key: str, value: Any, line: int) -> MetadataField:
    """An undeclared key takes its kind from its first value: numbers and strings only;
    datetime and enum fields are declared explicitly."""
    if isinstance(value, bool) or value is None:
        raise AnnotationLineError(line, f"metadata {key!r} must be a string or a number, got {value!r}")
    if isinstance(value, int | float):
        return MetadataField(key, MetadataKind.NUMBER)
    if isinstance(value, str):
        return MetadataField(key, MetadataKind.STRING)
    raise AnnotationLineError(line, f"metadata {key!r} must be a string or a number, got {value!r}")


def asset_path_error(path: str) -> str | None:
    """Why `path` (decoded, `/`-separated) cannot name a file inside a dataset's asset
    directory, or None when it can. The asset routes apply the same rule."""
    if not path:
        return "the asset path is empty"
    if "\x00" in path:
        return f"asset path {path!r} contains a NUL character"
    if "\\" in path:
        return f"asset path {path!r} contains a backslash"
    if path.startswith("/"):
        return f"asset path {path!r} is absolute"
    if len(path.encode("utf-8", "surrogatepass")) > MAX_ASSET_PATH_BYTES:
        return f"asset path {path[:40]!r}… is longer than {MAX_ASSET_PATH_BYTES} bytes"
    for name in path.split("/"):
        if not name:
            return f"asset path {path!r} has an empty segment"
        if name in (".", ".."):
            return f"asset path {path!r} has a {name!r} segment"
        if len(name.encode("utf-8", "surrogatepass")) > MAX_ASSET_NAME_BYTES:
            return f"asset path {path!r} has a name longer than {MAX_ASSET_NAME_BYTES} bytes"
    return None


def check_asset_row_data(row_data: str, dataset_id: UUID, key: str, line: int) -> None:
    """A row may point only at its own dataset's files. Dot segments are refused too: a
    client resolving `/assets/<this>/../<other>/x` would fetch another dataset's file."""
    owner, _, path = row_data[len(ASSET_PREFIX) :].partition("/")
    if unquote(owner) != str(dataset_id):
        raise AnnotationLineError(
            line,
            f"rowData {row_data!r} of {key!r} names a file of dataset {unquote(owner)!r}; "
            f"this dataset's files are under {ASSET_PREFIX}{dataset_id}/",
        )
    problem = asset_path_error(unquote(path))
    if problem is not None:
        raise AnnotationLineError(line, f"rowData {row_data!r} of {key!r}: {problem}")


def data_row_id(dataset_id: UUID, global_key: str) -> str:
    """Ids derive from (dataset, globalKey): a global key names one row per dataset."""
    return str(uuid5(dataset_id, global_key))


@dataclass(frozen=True, slots=True)
class DataRowLine:
    id: str
    global_key: str
    row_data: str
    media_type: str
    width: int | None
    height: int | None
    metadata: dict[str, Any]


def parse_data_row_line(
    obj: Any, line_no: int, dataset_id: UUID, fields: dict[str, MetadataField]
) -> tuple[DataRowLine, list[MetadataField]]:
    """One upload line (without its labels); the metadata fields it newly declares."""
    line = line_no
    if not isinstance(obj, dict):
        raise AnnotationLineError(line, "expected a JSON object")
    key = obj.get("globalKey")
    if not isinstance(key, str) or not 1 <= len(key) <= MAX_GLOBAL_KEY:
        raise AnnotationLineError(line, f"globalKey must be a string of 1 to {MAX_GLOBAL_KEY} characters")
    row_data = obj.get("rowData")
    if not isinstance(row_data, str) or not row_data:
        raise AnnotationLineError(line, f"rowData of {key!r} must be a non-empty string")
    if row_data.startswith(ASSET_PREFIX):
        check_asset_row_data(row_data, dataset_id, key, line)
    media = obj.get("mediaType", "IMAGE")
    if not isinstance(media, str) or media.upper() not in MEDIA_TYPES:
        raise AnnotationLineError(line, f"mediaType {media!r} of {key!r} is not one of {sorted(MEDIA_TYPES)}")
    size = []
    for dim in ("width", "height"):
        value = obj.get(dim)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value <= 0):
            raise AnnotationLineError(line, f"{dim} of {key!r} must be a positive integer, got {value!r}")
        size.append(value)
    if (size[0] is None) != (size[1] is None):
        raise AnnotationLineError(line, f"{key!r} gives only one of width and height")
    metadata_in = obj.get("metadata") or {}
    if not isinstance(metadata_in, dict):
        raise AnnotationLineError(line, f"metadata of {key!r} must be an object")
    declared: list[MetadataField] = []
    metadata: dict[str, Any] = {}
    for mkey, value in metadata_in.items():
        field = fields.get(mkey)
        if field is None:
            field = infer_metadata_field(mkey, value, line)
            declared.append(field)
        metadata[mkey] = field.check(value, line)
    return (
        DataRowLine(data_row_id(dataset_id, key), key, row_data, media.upper(), size[0], size[1], metadata),
        declared,
    )


@dataclass(frozen=True, slots=True)
class RowInfo:
    """A data row as commands check lines against it (domain.annotations.validation's
    RowShape); `media_type` is None where the read model does not give it, and `split` is
    the split a run holds the row in (None for a dataset's row)."""

    id: str
    global_key: str
    width: int | None
    height: int | None
    media_type: str | None = None
    split: Split | None = None

    @property
    def size(self) -> tuple[int, int] | None:
        if self.width is None or self.height is None:
            return None
        return (self.height, self.width)
