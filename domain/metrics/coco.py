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

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import chain, compress
from operator import attrgetter
from typing import Any, Literal

import numba
import numpy as np
from pycocotools import mask as mask_api

from domain.annotations.objects import Annotation, Box, Geometry, Mask, Polygon
from domain.metrics.raster import Rings, polygon_rles

IouType = Literal["bbox", "segm"]
RLE = dict[str, Any]

COCO_KEYS: tuple[str, ...] = (
    "AP", "AP50", "AP75", "APs", "APm", "APl", "AR1", "AR10", "AR100", "ARs", "ARm", "ARl",
)  # fmt: skip

# Built exactly as pycocotools builds them: thresholds are compared with IoUs bit for bit.
IOU_THRESHOLDS = np.linspace(0.5, 0.95, int(np.round((0.95 - 0.5) / 0.05)) + 1, endpoint=True)
RECALL_THRESHOLDS = np.linspace(0.0, 1.00, int(np.round((1.00 - 0.0) / 0.01)) + 1, endpoint=True)
MAX_DETECTIONS = np.array([1, 10, 100], dtype=np.int64)
AREA_RANGES = np.array([[0**2, 1e5**2], [0**2, 32**2], [32**2, 96**2], [96**2, 1e5**2]])
AREA_LABELS = ("all", "small", "medium", "large")
# What each number averages, in COCO_KEYS order, as COCOeval.summarize: precision (else
# recall), at one IoU threshold (None: all ten), over an area range, with a detection cut.
_SUMMARY: tuple[tuple[bool, float | None, str, int], ...] = (
    (True, None, "all", 100), (True, 0.5, "all", 100), (True, 0.75, "all", 100),
    (True, None, "small", 100), (True, None, "medium", 100), (True, None, "large", 100),
    (False, None, "all", 1), (False, None, "all", 10), (False, None, "all", 100),
    (False, None, "small", 100), (False, None, "medium", 100), (False, None, "large", 100),
)  # fmt: skip

_DETECTION_KINDS = (Box, Polygon, Mask)
_GEOMETRY, _FEATURE = attrgetter("geometry"), attrgetter("feature")
_CONFIDENCE = attrgetter("confidence")
_BOX_FIELDS = attrgetter("left", "top", "width", "height")


@dataclass(frozen=True, slots=True)
class _Side:
    """One side's detection objects, in image then upload order, before geometry work."""

    annotations: list[Annotation]
    geometries: list[Geometry]
    image: np.ndarray  # int64 image index
    kinds: frozenset[type]


@dataclass(frozen=True, slots=True)
class _Objects:
    """One side as columns for the evaluation."""

    image: np.ndarray  # int64 image index
    category: np.ndarray  # int64 category index
    score: np.ndarray  # float64, 1 where no confidence
    area: np.ndarray  # float64 COCO area
    crowd: np.ndarray  # bool: a crowd region (ground truth only)
    boxes: np.ndarray | None  # (n, 4) [left, top, width, height] for "bbox"
    rles: list[RLE] | None  # compressed RLEs for "segm"


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
    sides = (_gather(keys, ground_truth), _gather(keys, predictions))
    if iou_type is None:
        kinds = sides[0].kinds | sides[1].kinds
        iou_type = "segm" if any(issubclass(k, (Polygon, Mask)) for k in kinds) else "bbox"
    if iou_type not in ("bbox", "segm"):
        raise ValueError(f"iou_type must be 'bbox' or 'segm', not {iou_type!r}")
    categories: dict[str, int] = {}
    sizes = _row_sizes(keys, sides, image_sizes or {}) if iou_type == "segm" else {}
    gt = _columns(sides[0], categories, iou_type, sizes, ground_truth=True)
    dt = _columns(sides[1], categories, iou_type, sizes, ground_truth=False)
    precision, recall = _precision_recall(gt, dt, len(categories))
    return _summary(precision, recall)


# ----------------------------------------------------------------------------- objects


def _gather(keys: list[str], rows: Mapping[str, Sequence[Annotation]]) -> _Side:
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
    return _Side(annotations, geometries, image, kinds)


def _columns(
    side: _Side,
    categories: dict[str, int],
    iou_type: str,
    sizes: dict[int, tuple[int, int]],
    *,
    ground_truth: bool,
) -> _Objects:
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
        objects = _Objects(
            objects.image, objects.category, objects.score, area, crowd, objects.boxes, objects.rles
        )
    elif crowd.any():
        objects = _Objects(
            objects.image, objects.category, objects.score, objects.area, crowd, objects.boxes,
            objects.rles,
        )  # fmt: skip
    return objects


def _geometry_columns(
    side: _Side, categories: dict[str, int], iou_type: str, sizes: dict[int, tuple[int, int]]
) -> _Objects:
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
        return _Objects(
            side.image, category, score, boxes[:, 2] * boxes[:, 3], no_crowd, boxes, None
        )
    rles = _rles(side, sizes)
    # pycocotools' area() overflows a uint8 for lists past 255 under numpy 2: chunks.
    areas = [mask_api.area(rles[i : i + 255]) for i in range(0, len(rles), 255)]
    area = np.concatenate([np.zeros(0), *areas]).astype(np.float64)
    return _Objects(side.image, category, score, area, no_crowd, None, rles)


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


def _rles(side: _Side, sizes: dict[int, tuple[int, int]]) -> list[RLE]:
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


def _row_sizes(
    keys: list[str], sides: tuple[_Side, _Side], image_sizes: Mapping[str, tuple[int, int]]
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


# ----------------------------------------------------------------------------- evaluation


def _precision_recall(
    gt: _Objects, dt: _Objects, n_categories: int
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
    for column, group in ((_GT, gt_group), (_DT, dt_group)):
        groups[:, column] = np.searchsorted(group, ids, side="left")
        groups[:, column + 1] = np.searchsorted(group, ids, side="right") - groups[:, column]
    sizes = groups[:, _GT + 1] * groups[:, _DT + 1]
    groups[:, _IOU] = np.cumsum(sizes) - sizes
    gt_crowd = gt.crowd[gt_order]
    if gt.boxes is not None and dt.boxes is not None:
        ious = np.zeros(int(sizes.sum()))
        _box_ious(dt.boxes[dt_order], gt.boxes[gt_order], gt_crowd, groups, ious)
    else:
        gt_rles = [gt.rles[i] for i in gt_order] if gt.rles is not None else []
        dt_rles = [dt.rles[i] for i in dt_order] if dt.rles is not None else []
        ious = _mask_ious(gt_rles, gt_crowd, dt_rles, groups, int(sizes.sum()))

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
    _match(gt.area[gt_order], gt_crowd, dt.area[dt_order], groups, ious, slot, matched, ignored)

    category_start = np.searchsorted(category[in_category], np.arange(n_categories + 1))
    regular = np.empty((len(AREA_RANGES), n_categories), dtype=np.int64)
    for a, (low, high) in enumerate(AREA_RANGES):
        inside = (gt.area >= low) & (gt.area <= high) & ~gt.crowd
        regular[a] = np.bincount(gt.category[inside], minlength=n_categories)
    shape = (len(IOU_THRESHOLDS), n_categories, len(AREA_RANGES), len(MAX_DETECTIONS))
    precision = -np.ones((shape[0], len(RECALL_THRESHOLDS), *shape[1:]))
    recall = -np.ones(shape)
    _accumulate(category_start, rank[in_category], matched, ignored, regular, precision, recall)
    return precision, recall


# Columns of the group table: ground truth start and count, predictions start and count,
# start of the group's predictions × ground truth IoUs (prediction-major, as COCOeval).
_GT, _DT, _IOU = 0, 2, 4


def _mask_ious(
    gt_rles: list[RLE], gt_crowd: np.ndarray, dt_rles: list[RLE], groups: np.ndarray, size: int
) -> np.ndarray:
    # pycocotools' own RLE IoU, so mask IoUs are the very numbers COCOeval compares; with
    # a crowd region it is |P ∩ G| / |P|.
    ious = np.zeros(size)
    for gs, ng, ds, nd, start in groups[
        (groups[:, _GT + 1] > 0) & (groups[:, _DT + 1] > 0)
    ].tolist():
        crowd = gt_crowd[gs : gs + ng].astype(np.uint8).tolist()
        block = mask_api.iou(dt_rles[ds : ds + nd], gt_rles[gs : gs + ng], crowd)
        ious[start : start + nd * ng] = np.asarray(block).ravel()
    return ious


@numba.njit(cache=True)
def _box_ious(
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
def _match(
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
    longest = max(1, groups[:, _GT + 1].max()) if len(groups) else 1
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
def _accumulate(
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
