"""What the gallery keeps of an upload chunk: per data row, its objects' features and
confidences, nothing of their geometry (the model runs read model has that).

A part is one side (annotations or predictions) of one chunk event, stored as plain arrays
(never pickled): row keys (16-byte ids), row ends, a feature index per object
into the part's feature names, and a float64 confidence per object (NaN = none). A part with
rows and no objects clears those rows' side: removed rows, or rows whose labels are taken
again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson

from domain.annotations.columns import column
from projections.row_keys import row_keys

ANNOTATIONS = "ann"
PREDICTIONS = "pred"


@dataclass(frozen=True, eq=False)
class Part:
    keys: np.ndarray  # S16 per row
    ends: np.ndarray  # int64: objects up to the end of each row
    features: np.ndarray  # int32 index into names, per object
    confidences: np.ndarray  # float64 per object, NaN = none
    names: list[str]


def part_of_payload(payload: dict[str, Any]) -> Part:
    """The objects of an annotation columns payload (domain.annotations.columns), nested
    classifications included: each is a feature of its own."""
    features = column(payload, "feature").astype(np.int32)
    confidence = column(payload, "confidence")
    confidences = confidence.astype(np.float64) if confidence.size else np.full(features.size, np.nan)
    children = column(payload, "children")
    # A nested classification is active exactly when its top-level object is (docs/metrics.md §8):
    # it takes that object's confidence.
    roots = _roots(children.astype(np.int64)) if children.size and children.any() else None
    if roots is not None:
        confidences = confidences[roots]
    ends = column(payload, "row_ends").astype(np.int64)
    if "crowd" in payload:
        # Crowd regions (docs/metrics.md §9) are no annotations: not counted, not filtered on, and
        # neither are the answers nested under them (a crowd region is a top-level object).
        crowd = column(payload, "crowd").astype(bool)
        keep = ~(crowd if roots is None else crowd[roots])
        row = np.repeat(np.arange(ends.size), np.diff(ends, prepend=0))
        ends = np.cumsum(np.bincount(row[keep], minlength=ends.size)).astype(np.int64)
        features, confidences = features[keep], confidences[keep]
    return Part(
        keys=row_keys(payload["rows"]),
        ends=ends,
        features=features,
        confidences=confidences,
        names=list(payload["strings"]),
    )


def _roots(children: np.ndarray) -> np.ndarray:
    """Each object's top-level object (itself at the top level). Objects come depth first,
    each followed by its `children` direct nested ones."""
    roots = np.arange(children.size)
    open_parents: list[list[int]] = []  # [nested ones still to come, their top-level object]
    for i, count in enumerate(children.tolist()):
        if open_parents:
            open_parents[-1][0] -= 1
            roots[i] = open_parents[-1][1]
        if count:
            open_parents.append([count, int(roots[i])])
        while open_parents and open_parents[-1][0] == 0:
            open_parents.pop()
    return roots


def cleared(row_ids: list[str]) -> Part:
    keys = row_keys(row_ids)
    return Part(keys, np.zeros(keys.size, np.int64), np.empty(0, np.int32), np.empty(0, np.float64), [])


def pack(part: Part) -> bytes:
    """A JSON header line (counts, feature names) and the arrays' bytes, in a fixed layout:
    the same part always packs to the same bytes (replay compares them)."""
    header = orjson.dumps({"rows": int(part.keys.size), "objects": int(part.features.size), "names": part.names})
    return b"".join(
        (
            header,
            b"\n",
            part.keys.astype("S16").tobytes(),
            part.ends.astype("<i8").tobytes(),
            part.features.astype("<i4").tobytes(),
            part.confidences.astype("<f8").tobytes(),
        )
    )


def unpack(data: bytes) -> Part:
    end = data.index(b"\n")
    header = orjson.loads(data[:end])
    rows, objects = header["rows"], header["objects"]
    at = end + 1
    arrays = []
    for dtype, count, size in (("S16", rows, 16), ("<i8", rows, 8), ("<i4", objects, 4), ("<f8", objects, 8)):
        arrays.append(np.frombuffer(data, dtype=dtype, count=count, offset=at))
        at += count * size
    keys, ends, features, confidences = arrays
    return Part(keys, ends.astype(np.int64), features.astype(np.int32), confidences.astype(np.float64), header["names"])
