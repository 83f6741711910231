"""How much of each prediction the crowd regions of its feature cover (docs/metrics.md §9).

A crowd region is no object of the walk: it only makes a prediction it covers by more than
t of the prediction's own area *ignored* at t (domain.metrics.result), so that share is
computed once per prediction, for every t. It is found with the pair machinery of
domain.metrics.iou: boxes and polygons in continuous coordinates, masks by pixel counts,
and a polygon with a mask of its feature rasterised as for their IoU.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import shapely
from pycocotools import mask as mask_api

from domain.metrics.iou import across_kinds, all_pairs, box_corners, concat, one_size, row_offsets
from domain.metrics.objects import BOX, MASK, POLYGON, RLE, EvaluationObjects


def crowd_cover(objects: EvaluationObjects) -> np.ndarray | None:
    """Per prediction, the largest share of its own area a crowd region of its feature on
    its data row covers: |P ∩ G| / area(P), 0 when none overlaps or P has no area (§9).

    None when the evaluation has no crowd region. Boxes and polygons compute like their
    IoUs (continuous coordinates, shapely); masks by pixel counts (pycocotools' iou with
    iscrowd 1, which is exactly |P ∩ G| / |P|, one call per data row), and so do a polygon
    and a mask of one feature, the polygon rasterised as for their IoU.
    """
    crowd, pred, n_rows = objects.crowd, objects.predictions, objects.n_rows
    if not crowd.size:
        return None
    cover = np.zeros(pred.size, np.float64)
    for kind in (BOX, POLYGON, MASK):
        c_pos, p_pos = crowd.of_kind(kind), pred.of_kind(kind)
        if not (c_pos.size and p_pos.size):
            continue
        c_off, p_off = row_offsets(crowd, c_pos, n_rows), row_offsets(pred, p_pos, n_rows)
        if kind == MASK:
            ci, pj, share = _mask_cover(crowd.masks, c_off, pred.masks, p_off)
        else:
            ci, pj = all_pairs(c_off, p_off)
            if kind == BOX:
                share = _box_cover(box_corners(crowd.boxes)[ci], box_corners(pred.boxes)[pj])
            else:
                c_shapes, p_shapes = crowd.polygons[ci], pred.polygons[pj]
                inter = shapely.area(shapely.intersection(c_shapes, p_shapes))
                own = shapely.area(p_shapes)
                with np.errstate(divide="ignore", invalid="ignore"):
                    share = np.where(own > 0.0, inter / own, 0.0)
        same = crowd.feature[c_pos[ci]] == pred.feature[p_pos[pj]]
        np.maximum.at(cover, p_pos[pj[same]], np.minimum(share[same], 1.0))
    _, p_at, share = across_kinds(crowd, pred, len(objects.features), _mask_cover)
    np.maximum.at(cover, p_at, np.minimum(share, 1.0))
    return cover


def _box_cover(c: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Element-wise |P ∩ G| / area(P) of corner rows (x0, y0, x1, y1)."""
    iw = np.minimum(c[:, 2], p[:, 2]) - np.maximum(c[:, 0], p[:, 0])
    ih = np.minimum(c[:, 3], p[:, 3]) - np.maximum(c[:, 1], p[:, 1])
    overlap = (iw > 0.0) & (ih > 0.0)
    inter = np.where(overlap, iw * ih, 0.0)
    own = (p[:, 2] - p[:, 0]) * (p[:, 3] - p[:, 1])
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(overlap & (own > 0.0), inter / own, 0.0)


def _mask_cover(
    c_masks: Sequence[RLE], c_off: np.ndarray, p_masks: Sequence[RLE], p_off: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    for g in np.flatnonzero((np.diff(c_off) > 0) & (np.diff(p_off) > 0)).tolist():
        c0, c1, p0, p1 = int(c_off[g]), int(c_off[g + 1]), int(p_off[g]), int(p_off[g + 1])
        one_size(c_masks[c0:c1], p_masks[p0:p1])
        block = np.asarray(
            mask_api.iou(list(p_masks[p0:p1]), list(c_masks[c0:c1]), [1] * (c1 - c0)),
            dtype=np.float64,
        ).reshape(p1 - p0, c1 - c0)
        pj, ci = np.nonzero(np.nan_to_num(block) > 0.0)
        parts.append((ci + c0, pj + p0, block[pj, ci]))
    return concat(parts)
