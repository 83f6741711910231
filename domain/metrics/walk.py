"""The greedy walk of docs/metrics.md §3, once per confidence threshold.

The candidate order (IoU descending; same-feature before cross-feature; prediction confidence
descending; annotation upload order; prediction upload order) depends neither on the
confidence threshold c nor on the IoU threshold t. So the pairs are sorted once, and each c
walks the same sorted list, skipping inactive predictions. The IoU axis is a cut: the order
puts every pair with IoU > t before every pair with IoU <= t, so the decisions the walk over
all pairs of IoU > 0 makes on that prefix are exactly the walk over the candidates at t. The
pairs taken at (c, t) are the pairs taken at c whose IoU is > t.

A pair never joins two data rows, so a single walk over all rows at once takes the same
pairs as one walk per row.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from domain.metrics.iou import CandidatePairs
from domain.metrics.objects import EvaluationObjects


@dataclass(frozen=True, slots=True, eq=False)
class TakenPairs:
    """The pairs taken by the walk, for every confidence threshold, as columns.

    Threshold i owns entries offsets[i]:offsets[i + 1], in walk order.
    """

    offsets: np.ndarray  # int64 (C + 1,)
    row: np.ndarray  # int64 data row
    ann: np.ndarray  # int64 position in the ground truth
    pred: np.ndarray  # int64 position in the predictions
    ann_feature: np.ndarray  # int64
    pred_feature: np.ndarray  # int64
    iou: np.ndarray  # float64
    confidence: np.ndarray  # float64, the prediction's

    def at(self, c_index: int) -> slice:
        return slice(int(self.offsets[c_index]), int(self.offsets[c_index + 1]))


@numba.njit(cache=True)
def _before(
    i: int, j: int, iou: np.ndarray, cross: np.ndarray, conf: np.ndarray,
    ann: np.ndarray, pred: np.ndarray,
) -> bool:  # fmt: skip
    """Whether candidate i comes before candidate j: the five keys of §2, step 3.

    Positions are upload ranks: objects are stored in upload order within a data row.
    """
    if iou[i] != iou[j]:
        return bool(iou[i] > iou[j])
    if cross[i] != cross[j]:
        return bool(cross[i] < cross[j])
    if conf[i] != conf[j]:
        return bool(conf[i] > conf[j])
    if ann[i] != ann[j]:
        return bool(ann[i] < ann[j])
    return bool(pred[i] < pred[j])


@numba.njit(cache=True)
def _sort_groups(
    offsets: np.ndarray, index: np.ndarray, iou: np.ndarray, cross: np.ndarray,
    conf: np.ndarray, ann: np.ndarray, pred: np.ndarray,
) -> None:  # fmt: skip
    """Sorts `index` in place within each group offsets[g]:offsets[g + 1] (bottom-up merge)."""
    buffer = np.empty_like(index)
    for g in range(offsets.size - 1):
        lo, hi = offsets[g], offsets[g + 1]
        n = hi - lo
        if n < 2:
            continue
        src, dst = index[lo:hi], buffer[lo:hi]
        in_buffer = False
        width = 1
        while width < n:
            for start in range(0, n, 2 * width):
                mid, end = min(start + width, n), min(start + 2 * width, n)
                a, b, k = start, mid, start
                while a < mid and b < end:
                    if _before(src[b], src[a], iou, cross, conf, ann, pred):
                        dst[k] = src[b]
                        b += 1
                    else:
                        dst[k] = src[a]
                        a += 1
                    k += 1
                while a < mid:
                    dst[k] = src[a]
                    a += 1
                    k += 1
                while b < end:
                    dst[k] = src[b]
                    b += 1
                    k += 1
            src, dst = dst, src
            in_buffer = not in_buffer
            width *= 2
        if in_buffer:
            index[lo:hi] = buffer[lo:hi]


@numba.njit(cache=True)
def _walk(
    order: np.ndarray, ann: np.ndarray, pred: np.ndarray, conf: np.ndarray,
    thresholds: np.ndarray, n_ann: int, n_pred: int,
) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    n_c = thresholds.size
    # A mark holds the index of the threshold whose walk took the object: no reset per c.
    ann_mark = np.full(n_ann, -1, np.int64)
    pred_mark = np.full(n_pred, -1, np.int64)
    # Each walk takes at most one pair per annotation, per prediction and per candidate.
    taken = np.empty(n_c * min(n_ann, n_pred, order.size), np.int64)
    offsets = np.zeros(n_c + 1, np.int64)
    k = 0
    for ci in range(n_c):
        c = thresholds[ci]
        for q in range(order.size):
            p = order[q]
            if not conf[p] >= c:
                continue
            a, b = ann[p], pred[p]
            if ann_mark[a] == ci or pred_mark[b] == ci:
                continue
            ann_mark[a] = ci
            pred_mark[b] = ci
            taken[k] = p
            k += 1
        offsets[ci + 1] = k
    return taken[:k], offsets


def candidate_order(objects: EvaluationObjects, pairs: CandidatePairs) -> np.ndarray:
    """The candidates' positions in walk order, grouped by data row."""
    gt, pred = objects.ground_truth, objects.predictions
    row = gt.row[pairs.ann]
    index = np.argsort(row, kind="stable")
    offsets = np.searchsorted(row[index], np.arange(objects.n_rows + 1)).astype(np.int64)
    cross = (gt.feature[pairs.ann] != pred.feature[pairs.pred]).astype(np.int8)
    conf = pred.confidence[pairs.pred]
    _sort_groups(offsets, index, pairs.iou, cross, conf, pairs.ann, pairs.pred)
    return index


def walk(
    objects: EvaluationObjects, pairs: CandidatePairs, confidence_thresholds: np.ndarray
) -> TakenPairs:
    """The pairs taken at each confidence threshold, over all candidates of IoU > 0."""
    gt, pred = objects.ground_truth, objects.predictions
    order = candidate_order(objects, pairs)
    conf = pred.confidence[pairs.pred]
    taken, offsets = _walk(
        order, pairs.ann, pairs.pred, conf, confidence_thresholds, gt.size, pred.size
    )
    ann, pred_index = pairs.ann[taken], pairs.pred[taken]
    return TakenPairs(
        offsets=offsets,
        row=gt.row[ann],
        ann=ann,
        pred=pred_index,
        ann_feature=gt.feature[ann],
        pred_feature=pred.feature[pred_index],
        iou=pairs.iou[taken],
        confidence=conf[taken],
    )
