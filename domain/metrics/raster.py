"""Polygons as pixel masks, made exactly as pycocotools makes a polygon annotation's mask.

A polygon is compared pixel by pixel wherever it meets a mask: with a mask of its feature
on its data row (docs/metrics.md §2 and §9, a POLYGON tool takes masks too), and in COCO's
"segm" evaluation (docs/metrics.md §7), which must agree with pycocotools to the bit. So both
rasterise the same way COCO's annToRLE does: the rings through `frPyObjects` at the row's
height and width, then merged. A ring of fewer than 3 vertices is left out (it has no area,
and `frPyObjects` would read a 2-vertex ring as a box); a polygon without another ring
covers nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import chain
from typing import Any

import numpy as np
from pycocotools import mask as mask_api

RLE = dict[str, Any]
Rings = Sequence[Sequence[tuple[float, float]]]


def polygon_rles(polygons: Sequence[Rings], height: int, width: int) -> list[RLE]:
    """COCO compressed RLEs of polygons (each its rings) on one height × width image.

    The single-ring polygons, the common case, go through one `frPyObjects` call; merging
    one ring's RLE would give it back unchanged.
    """
    rles: list[RLE] = [{}] * len(polygons)
    single: list[list[float]] = []
    slots: list[int] = []
    for i, rings in enumerate(polygons):
        parts = [list(chain.from_iterable(ring)) for ring in rings if len(ring) >= 3]
        if len(parts) == 1:
            single.append(parts[0])
            slots.append(i)
        elif parts:
            rles[i] = mask_api.merge(mask_api.frPyObjects(parts, height, width))
        else:
            rles[i] = _empty(height, width)
    if single:  # every ring has 6+ coordinates: all read as polygons
        for i, rle in zip(slots, mask_api.frPyObjects(single, height, width), strict=True):
            rles[i] = rle
    return rles


def _empty(height: int, width: int) -> RLE:
    rle: RLE = mask_api.encode(np.zeros((height, width, 1), dtype=np.uint8, order="F"))[0]
    return rle
