"""COCOeval's per-image matching and its accumulation, over a table of (image, category)
groups: IoUs (pycocotools' own for masks, its operations in its order for boxes), then
evaluateImg for every group, area range and IoU threshold, then accumulate's precision and
recall. The loops run under numba.
"""

from __future__ import annotations

import numba
import numpy as np
from pycocotools import mask as mask_api

from domain.metrics.coco.detections import RLE
from domain.metrics.coco.parameters import (
    AREA_RANGES,
    IOU_THRESHOLDS,
    MAX_DETECTIONS,
    RECALL_THRESHOLDS,
)

# Columns of the group table: ground truth start and count, predictions start and count,
# start of the group's predictions × ground truth IoUs (prediction-major, as COCOeval).
GT_START, DT_START, IOU_START = 0, 2, 4


def mask_ious(
    gt_rles: list[RLE], gt_crowd: np.ndarray, dt_rles: list[RLE], groups: np.ndarray, size: int
) -> np.ndarray:
    # pycocotools' own RLE IoU, so mask IoUs are the very numbers COCOeval compares; with
    # a crowd region it is |P ∩ G| / |P|.
    ious = np.zeros(size)
    for gs, ng, ds, nd, start in groups[
        (groups[:, GT_START + 1] > 0) & (groups[:, DT_START + 1] > 0)
    ].tolist():
        crowd = gt_crowd[gs : gs + ng].astype(np.uint8).tolist()
        block = mask_api.iou(dt_rles[ds : ds + nd], gt_rles[gs : gs + ng], crowd)
        ious[start : start + nd * ng] = np.asarray(block).ravel()
    return ious


@numba.njit(cache=True)
def box_ious(
    dt_boxes: np.ndarray,
    gt_boxes: np.ndarray,
    gt_crowd: np.ndarray,
    groups: np.ndarray,
    ious: np.ndarray,
) -> None:
    # The operations of pycocotools' bbIou in its order, so every IoU is bit-identical;
    # against a crowd region the union is the prediction's own area.
    for gs, ng, ds, nd, start in groups:
        for d in range(nd):
            dx, dy, dw, dh = (
                dt_boxes[ds + d, 0],
                dt_boxes[ds + d, 1],
                dt_boxes[ds + d, 2],
                dt_boxes[ds + d, 3],
            )
            da = dw * dh
            for j in range(ng):
                gx, gy, gw, gh = (
                    gt_boxes[gs + j, 0],
                    gt_boxes[gs + j, 1],
                    gt_boxes[gs + j, 2],
                    gt_boxes[gs + j, 3],
                )
                w = min(dw + dx, gw + gx) - max(dx, gx)
                if w <= 0:
                    continue
                h = min(dh + dy, gh + gy) - max(dy, gy)
                if h <= 0:
                    continue
                i = w * h
                if gt_crowd[gs + j]:
                    ious[start + d * ng + j] = i / da
                else:
                    ious[start + d * ng + j] = i / (da + gw * gh - i)


@numba.njit(cache=True)
def match_groups(
    gt_area: np.ndarray,
    gt_crowd: np.ndarray,
    dt_area: np.ndarray,
    groups: np.ndarray,
    ious: np.ndarray,
    slot: np.ndarray,
    matched: np.ndarray,
    ignored: np.ndarray,
) -> None:
    # COCOeval.evaluateImg for every group, area range and IoU threshold.
    longest = max(1, groups[:, GT_START + 1].max()) if len(groups) else 1
    order = np.empty(longest, dtype=np.int64)
    gt_ignored = np.empty(longest, dtype=np.bool_)
    crowd = np.empty(longest, dtype=np.bool_)
    taken = np.empty(longest, dtype=np.bool_)
    for gs, ng, ds, nd, start in groups:
        for a in range(len(AREA_RANGES)):
            low, high = AREA_RANGES[a, 0], AREA_RANGES[a, 1]
            # Regular ground truth first, then ignored (crowd regions or outside the range),
            # each in upload order.
            n = 0
            for flag in (False, True):
                for j in range(ng):
                    area = gt_area[gs + j]
                    if (gt_crowd[gs + j] or area < low or area > high) == flag:
                        order[n] = j
                        gt_ignored[n] = flag
                        crowd[n] = gt_crowd[gs + j]
                        n += 1
            for t in range(len(IOU_THRESHOLDS)):
                taken[:ng] = False
                for d in range(nd):
                    best = min(IOU_THRESHOLDS[t], 1 - 1e-10)
                    m = -1
                    for k in range(ng):
                        if taken[k] and not crowd[k]:  # a crowd region matches many
                            continue
                        if m > -1 and not gt_ignored[m] and gt_ignored[k]:
                            break
                        iou = ious[start + d * ng + order[k]]
                        if iou < best:
                            continue
                        best = iou
                        m = k
                    i = slot[ds + d]
                    if m == -1:
                        ignored[a, t, i] = dt_area[ds + d] < low or dt_area[ds + d] > high
                    else:
                        taken[m] = True
                        matched[a, t, i] = True
                        ignored[a, t, i] = gt_ignored[m]


@numba.njit(cache=True)
def accumulate(
    category_start: np.ndarray,
    rank: np.ndarray,
    matched: np.ndarray,
    ignored: np.ndarray,
    regular: np.ndarray,
    precision: np.ndarray,
    recall: np.ndarray,
) -> None:
    # COCOeval.accumulate: cumulative TP/FP in ranked order, the precision envelope, then the
    # precision at the first rank reaching each recall point (0 past the last one).
    eps = np.spacing(1.0)
    longest = max(1, np.max(np.diff(category_start))) if len(category_start) > 1 else 1
    rc, pr = np.empty(longest), np.empty(longest)
    kept = np.empty(longest, dtype=np.int64)
    for k in range(len(category_start) - 1):
        start, end = category_start[k], category_start[k + 1]
        for m in range(len(MAX_DETECTIONS) - 1, -1, -1):
            nd = 0
            for i in range(start, end):
                if rank[i] < MAX_DETECTIONS[m]:
                    kept[nd] = i
                    nd += 1
            # A cut that keeps every prediction gives the same curves as the larger cut.
            same = m + 1 < len(MAX_DETECTIONS) and nd == end - start
            for a in range(len(AREA_RANGES)):
                n_regular = regular[a, k]
                if n_regular == 0:
                    continue
                if same:
                    precision[:, :, k, a, m] = precision[:, :, k, a, m + 1]
                    recall[:, k, a, m] = recall[:, k, a, m + 1]
                    continue
                for t in range(len(IOU_THRESHOLDS)):
                    tp, fp = 0.0, 0.0
                    for j in range(nd):
                        i = kept[j]
                        if not ignored[a, t, i]:
                            if matched[a, t, i]:
                                tp += 1.0
                            else:
                                fp += 1.0
                        rc[j] = tp / n_regular
                        pr[j] = tp / (fp + tp + eps)
                    recall[t, k, a, m] = rc[nd - 1] if nd else 0.0
                    for j in range(nd - 1, 0, -1):
                        if pr[j] > pr[j - 1]:
                            pr[j - 1] = pr[j]
                    j = 0
                    for r in range(len(RECALL_THRESHOLDS)):
                        while j < nd and rc[j] < RECALL_THRESHOLDS[r]:
                            j += 1
                        precision[t, r, k, a, m] = pr[j] if j < nd else 0.0
