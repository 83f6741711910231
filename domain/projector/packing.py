"""Compact per-point columns for clients that draw 100,000+ points.

Everything is little-endian and base64-encoded: coordinates as float32 pairs, numbers as
float32 (NaN where a point has no value), categories as codes into a legend (uint8, or
uint16 past 255 values), point sets as uint32 indexes. A browser reads each with one
`new Float32Array(...)` / `Uint8Array` / `Uint32Array` over the decoded bytes.
"""

from __future__ import annotations

import base64
import binascii
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from domain.errors import ValidationFailed


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def pack_xy(xy: NDArray[np.float32]) -> str:
    """x0, y0, x1, y1, ... as float32."""
    return b64(np.ascontiguousarray(xy, dtype="<f4").tobytes())


def pack_indexes(indexes: Sequence[int] | NDArray[np.integer]) -> str:
    return b64(np.asarray(indexes, dtype="<u4").tobytes())


def unpack_indexes(packed: str, points: int) -> NDArray[np.int64]:
    """Point indexes sent by a client (base64 uint32), each checked against the projection."""
    try:
        raw = base64.b64decode(packed.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeError, ValueError):
        raise ValidationFailed("point indexes must be base64 of little-endian uint32 values") from None
    if len(raw) % 4:
        raise ValidationFailed(f"point indexes hold {len(raw)} bytes, not a whole number of uint32 values")
    indexes = np.frombuffer(raw, dtype="<u4").astype(np.int64)
    outside = indexes[indexes >= points]
    if outside.size:
        raise ValidationFailed(f"point index {int(outside[0])} is outside the projection's {points} points")
    return np.unique(indexes)


@dataclass(frozen=True, slots=True)
class Categories:
    """Each point's value as a code: `legend[code]` (a null value has its own code)."""

    legend: list[str | None]
    codes: str  # base64
    bytes_per_code: int


def categories(values: Sequence[Any]) -> Categories:
    legend: list[str | None] = []
    position: dict[str | None, int] = {}
    codes = np.empty(len(values), dtype=np.int64)
    for i, value in enumerate(values):
        shown = None if value is None else str(value)
        code = position.get(shown)
        if code is None:
            code = position[shown] = len(legend)
            legend.append(shown)
        codes[i] = code
    dtype = "<u1" if len(legend) <= 256 else "<u2"
    if len(legend) > 65_536:
        raise ValidationFailed(f"{len(legend)} distinct values are too many to colour by")
    return Categories(legend, b64(codes.astype(dtype).tobytes()), 1 if dtype == "<u1" else 2)


def numbers(values: Sequence[Any]) -> str | None:
    """float32 per point, NaN where there is no number; None when no value is a number."""
    out = np.full(len(values), np.nan, dtype="<f4")
    found = False
    for i, value in enumerate(values):
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
            out[i] = value
            found = True
    return b64(out.tobytes()) if found else None
