"""COCO-style detection evaluation (docs/metrics.md §7): the 12 numbers of pycocotools' COCOeval.

The optional view beside the exact metrics. It follows COCOeval to the letter, quirks
included, since users compare it with pycocotools to 1e-6:

- per image and category, predictions are ranked by confidence with a stable sort (ties keep
  upload order), only the first 100 count, and each in turn takes the untaken ground truth
  of highest IoU ≥ t (on equal IoU the later ground truth wins, as in COCOeval);
- ground truth outside an area range is "ignored": tried only after every regular one; a
  prediction matched to it, or unmatched and itself outside the range, counts for nothing;
- precision at 101 recall points after the monotone envelope, averaged over IoU thresholds,
  recall points and the categories with ground truth in the range; -1 where undefined;
- across images, equal confidences rank in image order: the order rows first appear in
  `ground_truth`, then in `predictions` (image ids 1, 2, ... in that order for pycocotools).

Crowd regions and areas (docs/metrics.md §9) as COCOeval has them: ground truth with `iscrowd`
is ignored in every area range, tried after the regular ground truth, and matches any
number of predictions (each then ignored) with IoU |P ∩ G| / area(P); a ground truth's
given `area` decides its range (for boxes and masks alike, as COCO's "area" field does),
else its computed area. A prediction's area is always computed, as COCO.loadRes does:
width × height for boxes, pixel counts for masks; its `iscrowd` and `area` are not read. A
missing confidence is 1. For masks, pycocotools rasterises polygons at the data row's size:
`image_sizes` when given, else the size of the row's masks, else the smallest extent that
holds every object of the row (so nothing is clipped). A box evaluated as a mask is the
4-vertex polygon COCO gives box results; a polygon of fewer than 3 vertices covers nothing.
Objects of other kinds (points, lines, spans, answers) have no COCO meaning: left out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

import numpy as np

from domain.annotations.objects import Annotation, Mask, Polygon
from domain.metrics.coco.detections import (
    DetectionColumns,
    detection_columns,
    gather_detections,
    row_sizes,
)
from domain.metrics.coco.matching import (
    DT_START,
    GT_START,
    IOU_START,
    accumulate,
    box_ious,
    mask_ious,
    match_groups,
)
from domain.metrics.coco.parameters import (
    AREA_LABELS,
    AREA_RANGES,
    IOU_THRESHOLDS,
    MAX_DETECTIONS,
    RECALL_THRESHOLDS,
)

IouType = Literal["bbox", "segm"]

COCO_KEYS: tuple[str, ...] = (
    "AP", "AP50", "AP75", "APs", "APm", "APl", "AR1", "AR10", "AR100", "ARs", "ARm", "ARl",
)  # fmt: skip

# What each number averages, in COCO_KEYS order, as COCOeval.summarize: precision (else
# recall), at one IoU threshold (None: all ten), over an area range, with a detection cut.
_SUMMARY: tuple[tuple[bool, float | None, str, int], ...] = (
    (True, None, "all", 100), (True, 0.5, "all", 100), (True, 0.75, "all", 100),
    (True, None, "small", 100), (True, None, "medium", 100), (True, None, "large", 100),
    (False, None, "all", 1), (False, None, "all", 10), (False, None, "all", 100),
    (False, None, "small", 100), (False, None, "medium", 100), (False, None, "large", 100),
)  # fmt: skip


def evaluate_coco(
    ground_truth: Mapping[str, Sequence[Annotation]],
    predictions: Mapping[str, Sequence[Annotation]],
    iou_type: IouType | None = None,
    *,
    image_sizes: Mapping[str, tuple[int, int]] | None = None,
) -> dict[str, float]:
    """The 12 COCO numbers (`COCO_KEYS`) of `predictions` against `ground_truth`.

    Both map a data row's key to its objects. `iou_type` None picks "segm" when any object
    is a polygon or a mask, else "bbox". `image_sizes` gives (height, width) per row.
    """
    keys = list(dict.fromkeys([*ground_truth, *predictions]))
    sides = (gather_detections(keys, ground_truth), gather_detections(keys, predictions))
    if iou_type is None:
        kinds = sides[0].kinds | sides[1].kinds
        iou_type = "segm" if any(issubclass(k, (Polygon, Mask)) for k in kinds) else "bbox"
    if iou_type not in ("bbox", "segm"):
        raise ValueError(f"iou_type must be 'bbox' or 'segm', not {iou_type!r}")
    categories: dict[str, int] = {}
    sizes = row_sizes(keys, sides, image_sizes or {}) if iou_type == "segm" else {}
    gt = detection_columns(sides[0], categories, iou_type, sizes, ground_truth=True)
    dt = detection_columns(sides[1], categories, iou_type, sizes, ground_truth=False)
    precision, recall = _precision_recall(gt, dt, len(categories))
    return _summary(precision, recall)


def _precision_recall(
    gt: DetectionColumns, dt: DetectionColumns, n_categories: int
) -> tuple[np.ndarray, np.ndarray]:
    """COCOeval's `eval["precision"]` (T×R×K×A×M) and `eval["recall"]` (T×K×A×M)."""
    # Ground truth by (image, category) in upload order; predictions by (image, category),
    # then confidence descending with upload order on ties, cut to the best 100 per group.
    gt_key, dt_key = gt.image * n_categories + gt.category, dt.image * n_categories + dt.category
    gt_order = np.argsort(gt_key, kind="stable")
    by_score = np.argsort(-dt.score, kind="stable")
    dt_order = by_score[np.argsort(dt_key[by_score], kind="stable")]
    gt_group, dt_group = gt_key[gt_order], dt_key[dt_order]
    first = np.flatnonzero(np.diff(dt_group, prepend=-1))
    rank = np.arange(len(dt_group)) - np.repeat(first, np.diff(np.append(first, len(dt_group))))
    kept = rank < MAX_DETECTIONS[-1]
    dt_order, dt_group, rank = dt_order[kept], dt_group[kept], rank[kept]

    # One row per (image, category): where its ground truth, predictions and IoUs start.
    ids = np.union1d(gt_group, dt_group)
    groups = np.empty((len(ids), 5), dtype=np.int64)
    for column, group in ((GT_START, gt_group), (DT_START, dt_group)):
        groups[:, column] = np.searchsorted(group, ids, side="left")
        groups[:, column + 1] = np.searchsorted(group, ids, side="right") - groups[:, column]
    sizes = groups[:, GT_START + 1] * groups[:, DT_START + 1]
    groups[:, IOU_START] = np.cumsum(sizes) - sizes
    gt_crowd = gt.crowd[gt_order]
    if gt.boxes is not None and dt.boxes is not None:
        ious = np.zeros(int(sizes.sum()))
        box_ious(dt.boxes[dt_order], gt.boxes[gt_order], gt_crowd, groups, ious)
    else:
        gt_rles = [gt.rles[i] for i in gt_order] if gt.rles is not None else []
        dt_rles = [dt.rles[i] for i in dt_order] if dt.rles is not None else []
        ious = mask_ious(gt_rles, gt_crowd, dt_rles, groups, int(sizes.sum()))

    # Per category over all images: confidence descending, ties in image then per-image
    # order, as COCOeval's stable sort of the concatenated per-image lists gives. The
    # matching writes each prediction's outcome straight into its slot of that order.
    position = np.full(len(dt.score), -1)
    position[dt_order] = np.arange(len(dt_order))
    ranked = position[by_score]
    ranked = ranked[ranked >= 0]
    category = dt.category[dt_order]
    in_category = ranked[np.argsort(category[ranked], kind="stable")]
    slot = np.empty(len(dt_order), dtype=np.int64)
    slot[in_category] = np.arange(len(dt_order))
    matched = np.zeros((len(AREA_RANGES), len(IOU_THRESHOLDS), len(dt_order)), dtype=np.bool_)
    ignored = np.zeros_like(matched)
    match_groups(
        gt.area[gt_order], gt_crowd, dt.area[dt_order], groups, ious, slot, matched, ignored
    )

    category_start = np.searchsorted(category[in_category], np.arange(n_categories + 1))
    regular = np.empty((len(AREA_RANGES), n_categories), dtype=np.int64)
    for a, (low, high) in enumerate(AREA_RANGES):
        inside = (gt.area >= low) & (gt.area <= high) & ~gt.crowd
        regular[a] = np.bincount(gt.category[inside], minlength=n_categories)
    shape = (len(IOU_THRESHOLDS), n_categories, len(AREA_RANGES), len(MAX_DETECTIONS))
    precision = -np.ones((shape[0], len(RECALL_THRESHOLDS), *shape[1:]))
    recall = -np.ones(shape)
    accumulate(category_start, rank[in_category], matched, ignored, regular, precision, recall)
    return precision, recall


def _summary(precision: np.ndarray, recall: np.ndarray) -> dict[str, float]:
    """COCOeval.summarize for detections: means over the defined (> -1) cells."""
    values = {}
    for key, (ap, iou, area, max_dets) in zip(COCO_KEYS, _SUMMARY, strict=True):
        cells = precision if ap else recall
        if iou is not None:
            cells = cells[np.where(iou == IOU_THRESHOLDS)[0]]
        m = int(np.flatnonzero(MAX_DETECTIONS == max_dets)[0])
        cells = cells[..., AREA_LABELS.index(area), m]
        defined = cells[cells > -1]
        values[key] = float(np.mean(defined)) if defined.size else -1.0
    return values
