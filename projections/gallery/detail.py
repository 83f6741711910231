"""One data row in detail at a grid point: every annotation and prediction with its outcome,
its match partner and their IoU (docs/metrics.md §3), and the row's custom metric values.

The row is matched again on its own with the exact engine (a row's matching never depends
on other rows), from the labels and predictions the model runs read model holds for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from domain.annotations.ndjson.lines import parse_annotation_line
from domain.annotations.objects import Annotation, TextAnswer
from domain.metrics import build_objects, match

TP, FP, FN = "TP", "FP", "FN"
INACTIVE = "INACTIVE"  # a prediction below the confidence threshold
UNMATCHED = "UNMATCHED"  # a free-text answer: never matched (docs/metrics.md)
CROWD = "CROWD"  # a crowd region (docs/metrics.md §9): no object of the walk
IGNORED = "IGNORED"  # an untaken prediction a crowd region covers by more than the IoU threshold


@dataclass(frozen=True, slots=True)
class ObjectOutcome:
    index: int  # position in the row's labels or predictions, as listed
    feature: str
    confidence: float | None
    outcome: str
    partner: int | None = None  # index of the object on the other side it was paired with
    partner_feature: str | None = None
    iou: float | None = None


@dataclass(frozen=True, slots=True)
class RowDetail:
    annotations: list[ObjectOutcome]
    predictions: list[ObjectOutcome]


def _annotations(items: Sequence[dict[str, Any]]) -> list[Annotation]:
    out: list[Annotation] = []
    for item in items:
        _, parsed = parse_annotation_line({**item, "dataRow": {"globalKey": "row"}}, 0)
        out.extend(parsed)
    return out


def row_detail(
    labels: Sequence[dict[str, Any]], predictions: Sequence[dict[str, Any]], confidence: float, iou: float, point_radius: float
) -> RowDetail:
    """Outcomes at (confidence, iou). A cross-feature pair is FN for its annotation and FP for
    its prediction, each naming the other as partner."""
    ground_truth, predicted = _annotations(labels), _annotations(predictions)
    result = match(build_objects([ground_truth], [predicted]), [confidence], point_radius)
    taken = result.taken
    at = taken.at(0)
    keep = taken.iou[at] > iou
    gt_index = _listed(ground_truth)
    pred_index = _listed(predicted)
    ignored_at = result.ignored_at(result.confidence_state(0), iou)
    ignored = set() if ignored_at is None else {pred_index[p] for p in np.flatnonzero(ignored_at).tolist()}
    gt_pair: dict[int, tuple[int, float]] = {}
    pred_pair: dict[int, tuple[int, float]] = {}
    pairs = zip(taken.ann[at][keep].tolist(), taken.pred[at][keep].tolist(), taken.iou[at][keep].tolist(), strict=True)
    for a, p, value in pairs:
        gt_pair[gt_index[a]] = (pred_index[p], value)
        pred_pair[pred_index[p]] = (gt_index[a], value)
    annotations = [
        ObjectOutcome(i, a.feature, a.confidence, CROWD) if a.iscrowd else _outcome(i, a, gt_pair.get(i), predicted, FN)
        for i, a in enumerate(ground_truth)
    ]
    outcomes = [
        ObjectOutcome(i, p.feature, p.confidence, INACTIVE)
        if not (p.confidence is None or p.confidence >= confidence or isinstance(p.geometry, TextAnswer))
        else ObjectOutcome(i, p.feature, p.confidence, IGNORED)
        if i in ignored
        else _outcome(i, p, pred_pair.get(i), ground_truth, FP)
        for i, p in enumerate(predicted)
    ]
    return RowDetail(annotations, outcomes)


def _listed(annotations: list[Annotation]) -> list[int]:
    """The listed index of each object of the walk (free-text answers are not matched, crowd
    regions are kept apart)."""
    return [i for i, a in enumerate(annotations) if not (isinstance(a.geometry, TextAnswer) or a.iscrowd)]


def _outcome(
    index: int, annotation: Annotation, pair: tuple[int, float] | None, others: list[Annotation], missed: str
) -> ObjectOutcome:
    """`missed` is what an unpaired or cross-paired object counts as on its side (FN / FP)."""
    if isinstance(annotation.geometry, TextAnswer):
        return ObjectOutcome(index, annotation.feature, annotation.confidence, UNMATCHED)
    if pair is None:
        return ObjectOutcome(index, annotation.feature, annotation.confidence, missed)
    partner, value = pair
    partner_feature = others[partner].feature
    outcome = TP if partner_feature == annotation.feature else missed
    return ObjectOutcome(index, annotation.feature, annotation.confidence, outcome, partner, partner_feature, value)
