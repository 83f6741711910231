"""IoU of the (annotation, prediction) pairs of each pool (docs/metrics.md §2).

Only pairs with IoU > 0 are kept: every IoU threshold is >= 0 and compared strictly, so a
pair of IoU 0 is never a candidate. Boxes are computed by a compiled kernel; polygons,
points and polylines by shapely's vectorised operations on the pairs whose bounding boxes
overlap; masks by pycocotools, one call per data row; spans with numpy; every pair of a
classification pool has IoU 1.

A polygon and a mask of one feature on one data row are a pair too (a POLYGON tool takes
masks; each object stays in its own pool otherwise): the polygon is rasterised at the mask's
size as pycocotools rasterises a polygon annotation (domain.metrics.raster), once for all its
partners, and the pair's IoU is the mask IoU of the two pixel masks, by the same pycocotools
call as masks. Only the polygons with such a partner are rasterised: a scene without mixing
pays for a few look-ups of the kind column and, when it holds both polygons and masks, one
comparison of their (data row, feature) keys.

For every kind the union is area(A) + area(B) - area(A ∩ B), and the ratio is capped at 1:
rounding in a geometric overlay may put the intersection a hair above an operand's area,
and an IoU above 1 would be matched at t = 1, which matches nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numba
import numpy as np
import shapely
from pycocotools import mask as mask_api

from domain.metrics.objects import (
    ANSWER,
    BOX,
    MASK,
    POINT,
    POLYGON,
    POLYLINE,
    RLE,
    SPAN,
    EvaluationObjects,
    Side,
)
from domain.metrics.raster import Rings, polygon_rles

QUAD_SEGMENTS = 16


@dataclass(frozen=True, slots=True, eq=False)
class CandidatePairs:
    """Pairs of the same data row and pool with IoU > 0, in no particular order."""

    ann: np.ndarray  # int64 position in EvaluationObjects.ground_truth
    pred: np.ndarray  # int64 position in EvaluationObjects.predictions
    iou: np.ndarray  # float64 in (0, 1]


def box_corners(boxes: np.ndarray) -> np.ndarray:
    """(left, top, width, height) -> (x0, y0, x1, y1): computed once, so every pair and every
    area of a box uses the same rounded edges."""
    corners = boxes.copy()
    corners[:, 2] = boxes[:, 0] + boxes[:, 2]
    corners[:, 3] = boxes[:, 1] + boxes[:, 3]
    return corners


@numba.njit(cache=True)
def _box_iou(a: np.ndarray, b: np.ndarray) -> float:
    iw = min(a[2], b[2]) - max(a[0], b[0])
    if not iw > 0.0:
        return 0.0
    ih = min(a[3], b[3]) - max(a[1], b[1])
    if not ih > 0.0:
        return 0.0
    inter: float = iw * ih
    union: float = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    if not union > 0.0:
        return 0.0
    return min(inter / union, 1.0)


@numba.njit(cache=True)
def _box_pairs(
    a_off: np.ndarray, a_corners: np.ndarray, p_off: np.ndarray, p_corners: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    # Two passes (count, then fill) keep memory at the kept pairs, not at all pairs.
    count = 0
    for g in range(a_off.size - 1):
        for i in range(a_off[g], a_off[g + 1]):
            for j in range(p_off[g], p_off[g + 1]):
                if _box_iou(a_corners[i], p_corners[j]) > 0.0:
                    count += 1
    ai = np.empty(count, np.int64)
    pj = np.empty(count, np.int64)
    iou = np.empty(count, np.float64)
    k = 0
    for g in range(a_off.size - 1):
        for i in range(a_off[g], a_off[g + 1]):
            for j in range(p_off[g], p_off[g + 1]):
                v = _box_iou(a_corners[i], p_corners[j])
                if v > 0.0:
                    ai[k] = i
                    pj[k] = j
                    iou[k] = v
                    k += 1
    return ai, pj, iou


@numba.njit(cache=True)
def _overlap_pairs(
    a_off: np.ndarray, a_bounds: np.ndarray, p_off: np.ndarray, p_bounds: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Pairs of a group whose bounds overlap with positive area (NaN bounds never do)."""
    count = 0
    for g in range(a_off.size - 1):
        for i in range(a_off[g], a_off[g + 1]):
            for j in range(p_off[g], p_off[g + 1]):
                if _box_iou(a_bounds[i], p_bounds[j]) > 0.0:
                    count += 1
    ai = np.empty(count, np.int64)
    pj = np.empty(count, np.int64)
    k = 0
    for g in range(a_off.size - 1):
        for i in range(a_off[g], a_off[g + 1]):
            for j in range(p_off[g], p_off[g + 1]):
                if _box_iou(a_bounds[i], p_bounds[j]) > 0.0:
                    ai[k] = i
                    pj[k] = j
                    k += 1
    return ai, pj


@numba.njit(cache=True)
def all_pairs(a_off: np.ndarray, p_off: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    total = 0
    for g in range(a_off.size - 1):
        total += (a_off[g + 1] - a_off[g]) * (p_off[g + 1] - p_off[g])
    ai = np.empty(total, np.int64)
    pj = np.empty(total, np.int64)
    k = 0
    for g in range(a_off.size - 1):
        for i in range(a_off[g], a_off[g + 1]):
            for j in range(p_off[g], p_off[g + 1]):
                ai[k] = i
                pj[k] = j
                k += 1
    return ai, pj


def row_offsets(side: Side, positions: np.ndarray, n_rows: int) -> np.ndarray:
    return np.searchsorted(side.row[positions], np.arange(n_rows + 1)).astype(np.int64)


def buffered(shapes: np.ndarray, radius: float) -> np.ndarray:
    """Points and polylines as the polygons they are compared as. 16 segments per quarter
    circle is shapely's default for a geometry's own `buffer`; the vectorised function's
    default is 8, so it is spelled out."""
    polygons: np.ndarray = shapely.buffer(shapes, radius, quad_segs=QUAD_SEGMENTS)
    return polygons


def shape_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Element-wise IoU of two arrays of shapely polygonal geometries."""
    inter = shapely.area(shapely.intersection(a, b))
    union = shapely.area(a) + shapely.area(b) - inter
    with np.errstate(divide="ignore", invalid="ignore"):
        iou = np.where(union > 0.0, inter / union, 0.0)
    return np.minimum(iou, 1.0)


def _shape_pairs(
    a_shapes: np.ndarray, a_off: np.ndarray, p_shapes: np.ndarray, p_off: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    # Disjoint bounding boxes mean an empty intersection: only the rest go to GEOS.
    ai, pj = _overlap_pairs(a_off, shapely.bounds(a_shapes), p_off, shapely.bounds(p_shapes))
    iou = shape_iou(a_shapes[ai], p_shapes[pj])
    keep = iou > 0.0
    return ai[keep], pj[keep], iou[keep]


def _mask_pairs(
    a_masks: Sequence[RLE], a_off: np.ndarray, p_masks: Sequence[RLE], p_off: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    # pycocotools computes a group's whole block of pairs in one call (exact pixel counts,
    # |A ∩ B| / |A ∪ B| with iscrowd 0); the loop is per group (a data row, or a data row's
    # feature), never per pair.
    for g in np.flatnonzero((np.diff(a_off) > 0) & (np.diff(p_off) > 0)).tolist():
        a0, a1, p0, p1 = int(a_off[g]), int(a_off[g + 1]), int(p_off[g]), int(p_off[g + 1])
        one_size(a_masks[a0:a1], p_masks[p0:p1])
        block = np.asarray(
            mask_api.iou(list(p_masks[p0:p1]), list(a_masks[a0:a1]), [0] * (a1 - a0)),
            dtype=np.float64,
        ).reshape(p1 - p0, a1 - a0)
        pj, ai = np.nonzero(block > 0.0)
        parts.append((ai + a0, pj + p0, np.minimum(block[pj, ai], 1.0)))
    return concat(parts)


def one_size(a_masks: Sequence[RLE], p_masks: Sequence[RLE]) -> None:
    """Masks are compared pixel by pixel, so those of one data row must share its size."""
    sizes = {tuple(m["size"]) for m in (*a_masks, *p_masks)}
    if len(sizes) > 1:
        raise ValueError(f"masks of different sizes on one data row: {sorted(sizes)}")


def _key_groups(
    a_key: np.ndarray, p_key: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Both sides ordered by key, upload order within a key, with offsets over every key
    either side has: group g of side a is a_order[a_off[g]:a_off[g + 1]]."""
    a_order = np.argsort(a_key, kind="stable")
    p_order = np.argsort(p_key, kind="stable")
    keys = np.union1d(a_key, p_key)
    a_off = np.append(np.searchsorted(a_key[a_order], keys), a_key.size).astype(np.int64)
    p_off = np.append(np.searchsorted(p_key[p_order], keys), p_key.size).astype(np.int64)
    return a_order, a_off, p_order, p_off


# The pixel computation of groups of masks: `_mask_pairs` (IoU) or domain.metrics.crowd's
# `_mask_cover` (crowd share).
PixelBlocks = Callable[
    [Sequence[RLE], np.ndarray, Sequence[RLE], np.ndarray],
    tuple[np.ndarray, np.ndarray, np.ndarray],
]


def across_kinds(
    a: Side, p: Side, n_features: int, blocks: PixelBlocks
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`blocks` over the pairs of a polygon and a mask of one feature on one data row, either
    side holding either kind: positions in `a` and `p`, and the value of each kept pair."""
    return concat(
        [
            _polygon_mask_pairs(a, a_kind, p, p_kind, n_features, blocks)
            for a_kind, p_kind in ((POLYGON, MASK), (MASK, POLYGON))
        ]
    )


def _polygon_mask_pairs(
    a: Side, a_kind: int, p: Side, p_kind: int, n_features: int, blocks: PixelBlocks
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One direction of `across_kinds`: `a_kind` objects of `a` with `p_kind` objects of `p`.

    Groups are (data row, feature); only objects whose group the other side has too are
    kept, so a scene without mixing stops at the key comparison and rasterises nothing.
    """
    a_pos, p_pos = a.of_kind(a_kind), p.of_kind(p_kind)
    if not (a_pos.size and p_pos.size):
        return concat([])
    a_key = a.row[a_pos] * n_features + a.feature[a_pos]
    p_key = p.row[p_pos] * n_features + p.feature[p_pos]
    # Indices into the kinds' tables (the j-th object of its kind) of the objects kept.
    a_j = np.flatnonzero(np.isin(a_key, p_key))
    if not a_j.size:
        return concat([])
    p_j = np.flatnonzero(np.isin(p_key, a_key))
    a_order, a_off, p_order, p_off = _key_groups(a_key[a_j], p_key[p_j])
    a_j, p_j = a_j[a_order], p_j[p_order]
    if a_kind == MASK:
        a_rles = [a.masks[j] for j in a_j.tolist()]
        p_rles = _rasterised([p.polygon_rings[j] for j in p_j.tolist()], p_off, a_rles, a_off)
    else:
        p_rles = [p.masks[j] for j in p_j.tolist()]
        a_rles = _rasterised([a.polygon_rings[j] for j in a_j.tolist()], a_off, p_rles, p_off)
    ai, pj, value = blocks(a_rles, a_off, p_rles, p_off)
    return a_pos[a_j[ai]], p_pos[p_j[pj]], value


def _rasterised(
    rings: list[Rings], off: np.ndarray, masks: list[RLE], mask_off: np.ndarray
) -> list[RLE]:
    """Each group's polygons as RLEs at the size of the group's first mask (its row's size;
    `blocks` refuses a group whose masks differ)."""
    out: list[RLE] = []
    for g in range(off.size - 1):
        height, width = masks[int(mask_off[g])]["size"]
        out.extend(polygon_rles(rings[off[g] : off[g + 1]], int(height), int(width)))
    return out


def span_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Element-wise IoU of (n, 2) arrays of [start, end) spans."""
    overlap = np.maximum(np.minimum(a[:, 1], b[:, 1]) - np.maximum(a[:, 0], b[:, 0]), 0)
    union = (a[:, 1] - a[:, 0]) + (b[:, 1] - b[:, 0]) - overlap
    iou: np.ndarray = overlap / union
    return iou


def concat(
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if not parts:
        empty = np.empty(0, np.int64)
        return empty, empty.copy(), np.empty(0, np.float64)
    ann, pred, iou = (np.concatenate(column) for column in zip(*parts, strict=True))
    return ann, pred, iou


def candidate_pairs(objects: EvaluationObjects, point_radius: float) -> CandidatePairs:
    """Every pair of the same data row and pool with IoU > 0.

    Points and polylines are buffered by `point_radius` (shapely's default 16 segments per
    quarter circle) and compared as polygons.
    """
    gt, pred, n_rows = objects.ground_truth, objects.predictions, objects.n_rows
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []

    def per_row(kind: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        a_pos, p_pos = gt.of_kind(kind), pred.of_kind(kind)
        return a_pos, row_offsets(gt, a_pos, n_rows), p_pos, row_offsets(pred, p_pos, n_rows)

    a_pos, a_off, p_pos, p_off = per_row(BOX)
    if a_pos.size and p_pos.size:
        ai, pj, iou = _box_pairs(a_off, box_corners(gt.boxes), p_off, box_corners(pred.boxes))
        parts.append((a_pos[ai], p_pos[pj], iou))

    shapes = {
        POLYGON: (gt.polygons, pred.polygons),
        POINT: (gt.points, pred.points),
        POLYLINE: (gt.polylines, pred.polylines),
    }
    for kind, (a_shapes, p_shapes) in shapes.items():
        a_pos, a_off, p_pos, p_off = per_row(kind)
        if not (a_pos.size and p_pos.size):
            continue
        if kind != POLYGON:
            a_shapes = buffered(a_shapes, point_radius)
            p_shapes = buffered(p_shapes, point_radius)
        ai, pj, iou = _shape_pairs(a_shapes, a_off, p_shapes, p_off)
        parts.append((a_pos[ai], p_pos[pj], iou))

    a_pos, a_off, p_pos, p_off = per_row(MASK)
    if a_pos.size and p_pos.size:
        ai, pj, iou = _mask_pairs(gt.masks, a_off, pred.masks, p_off)
        parts.append((a_pos[ai], p_pos[pj], iou))

    parts.append(across_kinds(gt, pred, len(objects.features), _mask_pairs))

    a_pos, a_off, p_pos, p_off = per_row(SPAN)
    if a_pos.size and p_pos.size:
        ai, pj = all_pairs(a_off, p_off)
        iou = span_iou(gt.spans[ai], pred.spans[pj])
        keep = iou > 0.0
        parts.append((a_pos[ai[keep]], p_pos[pj[keep]], iou[keep]))

    a_pos, p_pos = gt.of_kind(ANSWER), pred.of_kind(ANSWER)
    if a_pos.size and p_pos.size:
        # One pool per question: group the answers by (data row, question).
        stride = int(max(gt.pool.max(initial=0), pred.pool.max(initial=0))) + 1
        a_key = gt.row[a_pos] * stride + gt.pool[a_pos]
        p_key = pred.row[p_pos] * stride + pred.pool[p_pos]
        a_order, a_off, p_order, p_off = _key_groups(a_key, p_key)
        ai, pj = all_pairs(a_off, p_off)
        parts.append((a_pos[a_order[ai]], p_pos[p_order[pj]], np.ones(ai.size, np.float64)))

    ann, pred_index, iou = concat(parts)
    return CandidatePairs(ann=ann, pred=pred_index, iou=iou)
