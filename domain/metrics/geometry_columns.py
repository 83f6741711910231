"""The objects' values as checked arrays, one table per kind (domain.metrics.objects).

A missing confidence becomes 1, and a confidence, a box or a coordinate must be finite; a box
has no negative side, a span ends after it starts, a mask has a size. Polygons, points and
polylines become shapely geometries, made column-wise from flat coordinates rather than one
object at a time: a polygon repaired with make_valid, reduced to its polygonal part and its
rings unioned, a one-vertex polyline a point.
"""

from __future__ import annotations

import numpy as np
import shapely

from domain.metrics.objects import RLE


def confidences(values: list[float | None]) -> np.ndarray:
    """A missing confidence is 1 (docs/metrics.md §3)."""
    confidence = np.asarray([1.0 if v is None else v for v in values], dtype=np.float64)
    if not np.isfinite(confidence).all():
        raise ValueError("a confidence must be a finite number")
    return confidence


def boxes(values: list[tuple[float, float, float, float]]) -> np.ndarray:
    boxes = np.asarray(values, dtype=np.float64).reshape(-1, 4)
    if not np.isfinite(boxes).all():
        raise ValueError("a box must have finite coordinates")
    if (boxes[:, 2:] < 0).any():
        raise ValueError("a box must have a width and a height >= 0")
    return boxes


def spans(values: list[tuple[int, int]]) -> np.ndarray:
    spans = np.asarray(values, dtype=np.int64).reshape(-1, 2)
    if (spans[:, 0] >= spans[:, 1]).any():
        raise ValueError("a span must have start < end")
    return spans


def masks(values: list[RLE]) -> tuple[RLE, ...]:
    for rle in values:
        h, w = rle["size"]
        if h <= 0 or w <= 0:
            raise ValueError("a mask must have a positive height and width")
    return tuple(values)


def _vertex_columns(
    shapes: list[tuple[tuple[float, float], ...]], minimum: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Flat coordinates of the shapes with at least `minimum` vertices, their shape ids."""
    lengths = np.fromiter((len(s) for s in shapes), dtype=np.int64, count=len(shapes))
    full = np.flatnonzero(lengths >= minimum)
    flat = [xy for i in full.tolist() for xy in shapes[i]]
    coords = np.asarray(flat, dtype=np.float64).reshape(-1, 2)
    if not np.isfinite(coords).all():
        raise ValueError("coordinates must be finite")
    ids = np.repeat(np.arange(full.size), lengths[full])
    return coords, ids, full


def polygon_shapes(shapes: list[tuple[tuple[tuple[float, float], ...], ...]]) -> np.ndarray:
    """Polygons (each its rings) as shapely geometries: each ring repaired with make_valid,
    its polygonal part kept, and an object's rings unioned.

    A ring of fewer than 3 vertices has no area: it is the empty polygon.
    """
    counts = np.fromiter((len(rings) for rings in shapes), dtype=np.int64, count=len(shapes))
    flat = [ring for rings in shapes for ring in rings]
    out = np.full(len(flat), shapely.Polygon(), dtype=object)
    coords, ids, full = _vertex_columns(flat, 3)
    if full.size:
        rings = shapely.linearrings(coords, indices=ids)
        out[full] = polygonal_part(shapely.make_valid(shapely.polygons(rings)))
    if (counts == 1).all():
        return out
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    merged: np.ndarray = out[starts]
    for i in np.flatnonzero(counts > 1).tolist():
        union = shapely.union_all(out[starts[i] : starts[i] + counts[i]])
        merged[i] = polygonal_part(np.asarray([union], dtype=object))[0]
    return merged


def polygonal_part(geometries: np.ndarray) -> np.ndarray:
    """Each geometry reduced to its polygons: make_valid may add lines or points."""
    out = np.asarray(geometries, dtype=object).copy()
    types = shapely.get_type_id(out)
    polygonal = (types == shapely.GeometryType.POLYGON) | (
        types == shapely.GeometryType.MULTIPOLYGON
    )
    for i in np.flatnonzero(~polygonal).tolist():
        parts = shapely.get_parts(out[i])
        parts = shapely.get_parts(parts[np.isin(shapely.get_type_id(parts), (3, 6))])
        out[i] = shapely.multipolygons(parts) if parts.size else shapely.Polygon()
    return out


def points(values: list[tuple[float, float]]) -> np.ndarray:
    coords = np.asarray(values, dtype=np.float64).reshape(-1, 2)
    if not np.isfinite(coords).all():
        raise ValueError("coordinates must be finite")
    return shapely.points(coords) if len(values) else np.empty(0, dtype=object)


def polylines(shapes: list[tuple[tuple[float, float], ...]]) -> np.ndarray:
    out = np.full(len(shapes), shapely.LineString(), dtype=object)
    coords, ids, full = _vertex_columns(shapes, 2)
    if full.size:
        out[full] = shapely.linestrings(coords, indices=ids)
    single = [i for i, s in enumerate(shapes) if len(s) == 1]
    if single:
        out[single] = shapely.points(np.asarray([shapes[i][0] for i in single], dtype=np.float64))
    return out
