"""Nested classifications (docs/metrics.md §8): their answers paired on the pairs the walk took.

A question nested under a feature T is evaluated on the objects of T once T's pool has been
matched. Its answers pair only within a taken pair (g, p) of T's own feature, and only
answers of the same question: the same answer on both sides is a TP; for a radio, g's
answer against p's other answer is a cross pair (an FN and an FP, confusion cell (g's, p's)),
while a checklist never pairs two different answers. Every answer left unpaired, and every
answer of an object that is untaken or taken in a cross-feature pair, is then an FN
(annotation) or an FP (active prediction), which the counts give as "objects - TP", as for
top-level features.

Deeper questions follow the same rule, recursively, read the only way the ontology's names
allow: a question nested under the answer "car/color/red" is a question of the feature
"car/color/red", whose objects are the nested "red" answers (of cars), and whose taken
same-feature pairs are the (red, red) pairs just made. So "car/color/red/shade/dark" is a
TP on a taken (car, car) pair whose two sides both say red and both say dark; when one says
blue, the red side's shade is an FN like any answer of an object taken in a cross-feature
pair. A question under a top-level classification answer ("weather/sunny/intensity") works
the same way on the taken (sunny, sunny) pairs of the "weather" pool.

Which nested pairs a taken pair makes depends only on the two objects, not on (c, t): it is
derived once per distinct taken pair, and a nested pair is taken at (c, t) exactly when its
root pair is. Nested pairs therefore carry their root pair's IoU (for the cut `IoU > t`, not
for ΣIoU: a nested answer has no geometry) and confidence, in the layout of the walk's
`TakenPairs`, with positions into the `NestedObjects` of each side.

Defined numbers for input that validation refuses (a radio answered twice on one object, a
checklist answer repeated): the answers of the two objects pair one to one, same answer
first, then (radio only) different answers, each in upload order.
"""

from __future__ import annotations

import numba
import numpy as np

from domain.metrics.objects import EvaluationObjects, NestedObjects
from domain.metrics.walk import TakenPairs


@numba.njit(cache=True)
def _derive(
    root_ann: np.ndarray, root_pred: np.ndarray,
    g_start: np.ndarray, g_child: np.ndarray, g_top: int, g_feature: np.ndarray,
    g_question: np.ndarray,
    p_start: np.ndarray, p_child: np.ndarray, p_top: int, p_feature: np.ndarray,
    p_question: np.ndarray,
    checklist: np.ndarray, capacity: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    """The nested pairs of each root pair, grouped by root in root order.

    Nodes number the top-level objects 0 .. top - 1, then the nested answers: the children
    of node k are g_child[g_start[k]:g_start[k + 1]] (nested positions, in upload order).
    """
    out_root = np.empty(capacity, np.int64)
    out_ann = np.empty(capacity, np.int64)
    out_pred = np.empty(capacity, np.int64)
    # Marks hold the number of the (g, p) step that paired an answer: no reset per step.
    g_mark = np.full(g_feature.size, -1, np.int64)
    p_mark = np.full(p_feature.size, -1, np.int64)
    stack_g = np.empty(g_feature.size + 1, np.int64)
    stack_p = np.empty(g_feature.size + 1, np.int64)
    k = 0
    step = 0
    for r in range(root_ann.size):
        depth = 1
        stack_g[0], stack_p[0] = root_ann[r], root_pred[r]
        while depth > 0:
            depth -= 1
            g, p = stack_g[depth], stack_p[depth]
            gs, ge, ps, pe = g_start[g], g_start[g + 1], p_start[p], p_start[p + 1]
            if gs == ge or ps == pe:
                continue
            step += 1
            first = k
            # The same answer first: a TP, whose own nested questions are compared next.
            for i in range(gs, ge):
                a = g_child[i]
                for j in range(ps, pe):
                    b = p_child[j]
                    if p_mark[b] != step and p_feature[b] == g_feature[a]:
                        g_mark[a] = step
                        p_mark[b] = step
                        out_root[k], out_ann[k], out_pred[k] = r, a, b
                        k += 1
                        break
            same = k
            # Then a radio's two different answers: one cross pair.
            for i in range(gs, ge):
                a = g_child[i]
                if g_mark[a] == step or checklist[g_question[a]]:
                    continue
                for j in range(ps, pe):
                    b = p_child[j]
                    if p_mark[b] != step and p_question[b] == g_question[a]:
                        g_mark[a] = step
                        p_mark[b] = step
                        out_root[k], out_ann[k], out_pred[k] = r, a, b
                        k += 1
                        break
            for q in range(first, same):
                stack_g[depth], stack_p[depth] = g_top + out_ann[q], p_top + out_pred[q]
                depth += 1
    return out_root[:k], out_ann[:k], out_pred[:k]


def _children(nested: NestedObjects, n_top: int) -> tuple[np.ndarray, np.ndarray]:
    """(start, child): the children of each node, as CSR over node numbers (see `_derive`)."""
    parent = np.where(nested.parent < 0, nested.root, n_top + nested.parent)
    child = np.argsort(parent, kind="stable")
    start = np.searchsorted(parent[child], np.arange(n_top + nested.size + 1))
    return start.astype(np.int64), child.astype(np.int64)


def nested_pairs(objects: EvaluationObjects, taken: TakenPairs) -> TakenPairs:
    """The nested pairs taken at each confidence threshold, in the layout of `taken`.

    `ann` and `pred` are positions in `nested_ground_truth` and `nested_predictions`; `iou`
    and `confidence` are those of the root pair.
    """
    gt, pred = objects.nested_ground_truth, objects.nested_predictions
    n_gt, n_pred = objects.ground_truth.size, objects.predictions.size
    # Only same-feature pairs whose two objects both carry nested answers make nested pairs.
    g_has = np.bincount(gt.root, minlength=n_gt) > 0
    p_has = np.bincount(pred.root, minlength=n_pred) > 0
    entries = np.flatnonzero(
        (taken.ann_feature == taken.pred_feature) & g_has[taken.ann] & p_has[taken.pred]
    )
    if not entries.size:
        return _empty(taken.offsets.size)
    keys = taken.ann[entries] * n_pred + taken.pred[entries]
    unique, inverse = np.unique(keys, return_inverse=True)
    root_ann, root_pred = np.divmod(unique, n_pred)
    g_start, g_child = _children(gt, n_gt)
    p_start, p_child = _children(pred, n_pred)
    # A nested pair uses a nested answer of each side once per root pair.
    g_count = np.bincount(gt.root, minlength=n_gt)
    p_count = np.bincount(pred.root, minlength=n_pred)
    capacity = int(np.minimum(g_count[root_ann], p_count[root_pred]).sum())
    root_of, ann, pred_index = _derive(
        root_ann, root_pred,
        g_start, g_child, n_gt, gt.feature, gt.question,
        p_start, p_child, n_pred, pred.feature, pred.question,
        objects.checklist, capacity,
    )  # fmt: skip
    # Each taken entry gets its root pair's nested pairs, in the entry's place.
    per_root = np.bincount(root_of, minlength=unique.size)
    root_start = np.cumsum(per_root) - per_root
    count = per_root[inverse]
    total = int(count.sum())
    entry = np.repeat(entries, count)
    within = np.arange(total) - np.repeat(np.cumsum(count) - count, count)
    index = np.repeat(root_start[inverse], count) + within
    ann, pred_index = ann[index], pred_index[index]
    return TakenPairs(
        offsets=np.searchsorted(entry, taken.offsets).astype(np.int64),
        row=gt.row[ann],
        ann=ann,
        pred=pred_index,
        ann_feature=gt.feature[ann],
        pred_feature=pred.feature[pred_index],
        iou=taken.iou[entry],
        confidence=taken.confidence[entry],
    )


def _empty(n_offsets: int) -> TakenPairs:
    empty = np.empty(0, np.int64)
    return TakenPairs(
        offsets=np.zeros(n_offsets, np.int64),
        row=empty,
        ann=empty,
        pred=empty,
        ann_feature=empty,
        pred_feature=empty,
        iou=np.empty(0),
        confidence=np.empty(0),
    )
