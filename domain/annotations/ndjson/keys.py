"""The keys each object of the NDJSON format takes, and how an unknown one is refused.

A key the format does not know is refused, on the line and in every nested object, naming
the key and the nearest known one (`check_keys`): a typo ("confidance") would otherwise
store something else than the user meant.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Mapping
from typing import Any, Final

from domain.errors import AnnotationLineError

GEOMETRY_KEYS: Final = ("bbox", "polygon", "point", "line", "mask", "location", "answer")

# The keys each object of the format takes, in the order messages list them.
LINE_KEYS: Final = (
    "dataRow", "name", "schemaId", *GEOMETRY_KEYS, "confidence", "classifications", "iscrowd",
    "area", "uuid",
)  # fmt: skip
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
LINE_KEY_SET: Final = frozenset(LINE_KEYS)
DATA_ROW_KEY_SET: Final = frozenset(DATA_ROW_KEYS)
BOX_KEY_SET: Final = frozenset(BOX_KEYS)
XY_KEY_SET: Final = frozenset(XY_KEYS)
LOCATION_KEY_SET: Final = frozenset(LOCATION_KEYS)
MASK_KEY_SET: Final = frozenset(MASK_KEYS)
RLE_KEY_SET: Final = frozenset(RLE_KEYS)
ANSWER_KEY_SET: Final = frozenset(ANSWER_KEYS)
CLASSIFICATION_KEY_SET: Final = frozenset(CLASSIFICATION_KEYS)


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


KEY_ORDER: Final[dict[frozenset[str], tuple[str, ...]]] = {
    BOX_KEY_SET: BOX_KEYS,
    XY_KEY_SET: XY_KEYS,
    LOCATION_KEY_SET: LOCATION_KEYS,
    MASK_KEY_SET: MASK_KEYS,
    RLE_KEY_SET: RLE_KEYS,
}
