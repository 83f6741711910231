"""One side of a COCO evaluation (ground truth or predictions) as columns: the detection
objects of every data row in image then upload order, their categories, scores, areas,
crowd flags, and boxes (for "bbox") or compressed RLEs (for "segm").

Objects of other kinds (points, lines, spans, answers) have no COCO meaning: left out.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import chain, compress
from operator import attrgetter
from typing import Any

import numpy as np
from pycocotools import mask as mask_api

from domain.annotations.objects import Annotation, Box, Geometry, Mask, Polygon
from domain.metrics.raster import Rings, polygon_rles

RLE = dict[str, Any]


_DETECTION_KINDS = (Box, Polygon, Mask)
_GEOMETRY, _FEATURE = attrgetter("geometry"), attrgetter("feature")
_CONFIDENCE = attrgetter("confidence")
_BOX_FIELDS = attrgetter("left", "top", "width", "height")


@dataclass(frozen=True, slots=True)
class Detections:
    """One side's detection objects, in image then upload order, before geometry work."""

    annotations: list[Annotation]
    geometries: list[Geometry]
    image: np.ndarray  # int64 image index
    kinds: frozenset[type]


@dataclass(frozen=True, slots=True)
class DetectionColumns:
    """One side as columns for the evaluation."""

    image: np.ndarray  # int64 image index
    category: np.ndarray  # int64 category index
    score: np.ndarray  # float64, 1 where no confidence
    area: np.ndarray  # float64 COCO area
    crowd: np.ndarray  # bool: a crowd region (ground truth only)
    boxes: np.ndarray | None  # (n, 4) [left, top, width, height] for "bbox"
    rles: list[RLE] | None  # compressed RLEs for "segm"


def gather_detections(keys: list[str], rows: Mapping[str, Sequence[Annotation]]) -> Detections:
    per_row = [rows.get(key, ()) for key in keys]
    annotations = [a for row in per_row for a in row]
    image = np.repeat(np.arange(len(keys), dtype=np.int64), [len(row) for row in per_row])
    geometries = list(map(_GEOMETRY, annotations))
    kinds = frozenset(map(type, geometries))
    if not kinds <= frozenset(_DETECTION_KINDS):
        keep = [isinstance(g, _DETECTION_KINDS) for g in geometries]
        annotations, geometries = (
            list(compress(annotations, keep)),
            list(compress(geometries, keep)),
        )
        image = image[np.array(keep, dtype=np.bool_)]
        kinds = frozenset(map(type, geometries))
    return Detections(annotations, geometries, image, kinds)


def detection_columns(
    side: Detections,
    categories: dict[str, int],
    iou_type: str,
    sizes: dict[int, tuple[int, int]],
    *,
    ground_truth: bool,
) -> DetectionColumns:
    objects = _geometry_columns(side, categories, iou_type, sizes)
    if not ground_truth:
        return objects
    crowd = np.fromiter((a.iscrowd for a in side.annotations), np.bool_, len(side.annotations))
    given = [a.area for a in side.annotations]
    if any(area is not None for area in given):
        computed = objects.area.tolist()
        area = np.array(
            [c if g is None else g for g, c in zip(given, computed, strict=True)], np.float64
        )
        objects = DetectionColumns(
            objects.image, objects.category, objects.score, area, crowd, objects.boxes, objects.rles
        )
    elif crowd.any():
        objects = DetectionColumns(
            objects.image, objects.category, objects.score, objects.area, crowd, objects.boxes,
            objects.rles,
        )  # fmt: skip
    return objects


def _geometry_columns(
    side: Detections, categories: dict[str, int], iou_type: str, sizes: dict[int, tuple[int, int]]
) -> DetectionColumns:
    features = list(map(_FEATURE, side.annotations))
    no_crowd = np.zeros(len(features), np.bool_)
    for name in dict.fromkeys(features):
        categories.setdefault(name, len(categories))
    category = np.fromiter(map(categories.__getitem__, features), np.int64, len(features))
    confidences = [1.0 if c is None else c for c in map(_CONFIDENCE, side.annotations)]
    score = np.array(confidences, dtype=np.float64)
    if iou_type == "bbox":
        fields = map(_BOX_FIELDS if side.kinds <= {Box} else _box, side.geometries)
        n = 4 * len(side.geometries)
        boxes = np.fromiter(chain.from_iterable(fields), np.float64, n).reshape(-1, 4)
        return DetectionColumns(
            side.image, category, score, boxes[:, 2] * boxes[:, 3], no_crowd, boxes, None
        )
    rles = _rles(side, sizes)
    # pycocotools' area() overflows a uint8 for lists past 255 under numpy 2: chunks.
    areas = [mask_api.area(rles[i : i + 255]) for i in range(0, len(rles), 255)]
    area = np.concatenate([np.zeros(0), *areas]).astype(np.float64)
    return DetectionColumns(side.image, category, score, area, no_crowd, None, rles)


def _box(geometry: Geometry) -> tuple[float, float, float, float]:
    if isinstance(geometry, Box):
        return (geometry.left, geometry.top, geometry.width, geometry.height)
    if isinstance(geometry, Polygon) and geometry.points:
        xs, ys = [x for x, _ in geometry.vertices], [y for _, y in geometry.vertices]
        return (min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys))
    if isinstance(geometry, Mask):
        x, y, w, h = mask_api.toBbox(_mask_rle(geometry)).tolist()
        return (x, y, w, h)
    return (0.0, 0.0, 0.0, 0.0)


def _rles(side: Detections, sizes: dict[int, tuple[int, int]]) -> list[RLE]:
    rles: list[RLE] = [{}] * len(side.geometries)
    starts = np.flatnonzero(np.diff(side.image, prepend=-1)).tolist()
    for start, end in zip(starts, [*starts[1:], len(rles)], strict=True):
        height, width = sizes[int(side.image[start])]
        shapes: list[Rings] = []
        slots: list[int] = []
        for j in range(start, end):
            geometry = side.geometries[j]
            if isinstance(geometry, Mask):
                if (geometry.height, geometry.width) != (height, width):
                    size = f"{geometry.height}×{geometry.width}"
                    raise ValueError(f"a {size} mask on a data row of {height}×{width}")
                rles[j] = _mask_rle(geometry)
                continue
            if isinstance(geometry, Box):
                # The polygon pycocotools' loadRes gives a box result.
                x1, y1 = geometry.left, geometry.top
                x2, y2 = x1 + geometry.width, y1 + geometry.height
                shapes.append((((x1, y1), (x1, y2), (x2, y2), (x2, y1)),))
            else:
                assert isinstance(geometry, Polygon)
                shapes.append(geometry.rings)
            slots.append(j)
        for j, rle in zip(slots, polygon_rles(shapes, height, width), strict=True):
            rles[j] = rle
    return rles


def _mask_rle(mask: Mask) -> RLE:
    return {"size": [mask.height, mask.width], "counts": mask.counts}


def row_sizes(
    keys: list[str],
    sides: tuple[Detections, Detections],
    image_sizes: Mapping[str, tuple[int, int]],
) -> dict[int, tuple[int, int]]:
    """(height, width) per image index: given, else of its first mask, else its extent."""
    sizes = {i: image_sizes[key] for i, key in enumerate(keys) if key in image_sizes}
    far: dict[int, tuple[float, float]] = {}
    for side in sides:
        for i, geometry in zip(side.image.tolist(), side.geometries, strict=True):
            if i in sizes:
                continue
            if isinstance(geometry, Mask):
                sizes[i] = (geometry.height, geometry.width)
                continue
            if isinstance(geometry, Box):
                corner = (geometry.left + geometry.width, geometry.top + geometry.height)
            else:
                assert isinstance(geometry, Polygon)
                xs, ys = [x for x, _ in geometry.vertices], [y for _, y in geometry.vertices]
                corner = (max(xs, default=0.0), max(ys, default=0.0))
            right, bottom = far.get(i, (1.0, 1.0))
            far[i] = (max(right, corner[0]), max(bottom, corner[1]))
    for i, (right, bottom) in far.items():
        sizes.setdefault(i, (math.ceil(bottom), math.ceil(right)))
    return sizes
