"""The COCO numbers against pycocotools' COCOeval itself, run in memory on the same data."""

from __future__ import annotations

import contextlib
import io
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pytest
from pycocotools import mask as mask_api
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from domain.annotations.objects import Annotation, Box, Geometry, Mask, Point, Polygon
from domain.metrics.coco.evaluation import COCO_KEYS, evaluate_coco

Rows = dict[str, list[Annotation]]


# ----------------------------------------------------------------------------- reference


def _segmentation(geometry: Geometry, height: int, width: int) -> Any:
    if isinstance(geometry, Mask):
        return {"size": [geometry.height, geometry.width], "counts": geometry.counts}
    if isinstance(geometry, Polygon):
        return [[c for point in ring for c in point] for ring in geometry.rings]
    assert isinstance(geometry, Box)
    x1, y1 = geometry.left, geometry.top
    x2, y2 = x1 + geometry.width, y1 + geometry.height
    return [[x1, y1, x1, y2, x2, y2, x2, y1]]


def _to_rle(segmentation: Any, height: int, width: int) -> dict[str, Any]:
    if isinstance(segmentation, dict):
        return segmentation
    rle: dict[str, Any] = mask_api.merge(mask_api.frPyObjects(segmentation, height, width))
    return rle


def reference(
    ground_truth: Mapping[str, Sequence[Annotation]],
    predictions: Mapping[str, Sequence[Annotation]],
    iou_type: str,
    sizes: Mapping[str, tuple[int, int]] | None = None,
) -> dict[str, float]:
    """COCOeval's stats: image ids 1, 2, ... in order of first appearance, as documented."""
    keys = list(dict.fromkeys([*ground_truth, *predictions]))
    features = sorted(
        {a.feature for rows in (ground_truth, predictions) for r in rows.values() for a in r}
    )
    category = {name: n + 1 for n, name in enumerate(features)}
    size = {key: (sizes or {}).get(key, (1000, 1000)) for key in keys}
    images = [{"id": n + 1, "height": size[k][0], "width": size[k][1]} for n, k in enumerate(keys)]
    annotations: list[dict[str, Any]] = []
    results: list[dict[str, Any]] = []
    for n, key in enumerate(keys):
        height, width = size[key]
        for a in ground_truth.get(key, ()):
            entry: dict[str, Any] = {
                "id": len(annotations) + 1,
                "image_id": n + 1,
                "iscrowd": int(a.iscrowd),
                "category_id": category[a.feature],
            }
            if iou_type == "bbox":
                assert isinstance(a.geometry, Box)
                box = a.geometry
                entry["bbox"] = [box.left, box.top, box.width, box.height]
                entry["area"] = box.width * box.height
            else:
                entry["segmentation"] = _segmentation(a.geometry, height, width)
                rle = _to_rle(entry["segmentation"], height, width)
                entry["area"] = float(mask_api.area(rle))
                entry["bbox"] = mask_api.toBbox(rle).tolist()
            if a.area is not None:  # §9: a given area is COCO's "area" field
                entry["area"] = a.area
            annotations.append(entry)
        for a in predictions.get(key, ()):
            score = 1.0 if a.confidence is None else a.confidence
            result: dict[str, Any] = {"image_id": n + 1, "category_id": category[a.feature]}
            result["score"] = score
            if iou_type == "bbox":
                assert isinstance(a.geometry, Box)
                box = a.geometry
                result["bbox"] = [box.left, box.top, box.width, box.height]
            else:
                # Results must be compressed RLE for COCO.loadRes.
                result["segmentation"] = _to_rle(
                    _segmentation(a.geometry, height, width), height, width
                )
            results.append(result)
    categories = [{"id": i, "name": name} for name, i in category.items()]
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO()
        gt.dataset = {"images": images, "categories": categories, "annotations": annotations}
        gt.createIndex()
        if results:
            dt = gt.loadRes(results)
        else:  # loadRes cannot take an empty list
            dt = COCO()
            dt.dataset = {"images": images, "categories": categories, "annotations": []}
            dt.createIndex()
        evaluation = COCOeval(gt, dt, iou_type)
        evaluation.evaluate()
        evaluation.accumulate()
        evaluation.summarize()
    return dict(zip(COCO_KEYS, (float(v) for v in evaluation.stats), strict=True))


def assert_agrees(
    ground_truth: Rows,
    predictions: Rows,
    iou_type: str = "bbox",
    sizes: Mapping[str, tuple[int, int]] | None = None,
) -> dict[str, float]:
    ours = evaluate_coco(ground_truth, predictions, iou_type, image_sizes=sizes)  # type: ignore[arg-type]
    theirs = reference(ground_truth, predictions, iou_type, sizes)
    assert list(ours) == list(COCO_KEYS)
    for key in COCO_KEYS:
        assert ours[key] == pytest.approx(theirs[key], abs=1e-6, rel=0), (key, ours, theirs)
    return ours


def box(
    feature: str,
    left: float,
    top: float,
    width: float,
    height: float,
    confidence: float | None = None,
) -> Annotation:
    return Annotation(feature, Box(left, top, width, height), confidence)


# ----------------------------------------------------------------------------- by hand


def test_one_perfect_small_box() -> None:
    ours = assert_agrees({"a": [box("cat", 0, 0, 10, 10)]}, {"a": [box("cat", 0, 0, 10, 10, 0.3)]})
    defined = {"AP", "AP50", "AP75", "APs", "AR1", "AR10", "AR100", "ARs"}
    # Precision is tp / (tp + fp + eps) in COCOeval, hence approx.
    assert ours == pytest.approx({key: 1.0 if key in defined else -1.0 for key in COCO_KEYS})


def test_precision_envelope_by_hand() -> None:
    # TP, FP, TP over 2 ground truths: recall 0.5 at precision 1, then 1.0 at 2/3.
    gt = {"a": [box("cat", 0, 0, 50, 50), box("cat", 100, 100, 50, 50)]}
    pred = {
        "a": [
            box("cat", 0, 0, 50, 50, 0.9),
            box("cat", 300, 300, 50, 50, 0.8),
            box("cat", 100, 100, 50, 50, 0.7),
        ]
    }
    ours = assert_agrees(gt, pred)
    assert ours["AP"] == pytest.approx((51 * 1.0 + 50 * 2 / 3) / 101, abs=1e-12)
    assert ours["AR1"] == 0.5 and ours["AR100"] == 1.0


def test_equal_scores_keep_upload_order_within_an_image() -> None:
    gt = {"a": [box("cat", 0, 0, 40, 40)]}
    hit, miss = box("cat", 0, 0, 40, 40, 0.5), box("cat", 200, 200, 40, 40, 0.5)
    first = assert_agrees(gt, {"a": [hit, miss]})
    second = assert_agrees(gt, {"a": [miss, hit]})
    assert first["AP"] == pytest.approx(1.0) and second["AP"] == pytest.approx(0.5)
    assert first["AR1"] == 1.0 and second["AR1"] == 0.0


def test_equal_scores_across_images_follow_image_order() -> None:
    gt: Rows = {"a": [], "b": [box("cat", 0, 0, 40, 40)]}
    pred = {"a": [box("cat", 0, 0, 40, 40, 0.5)], "b": [box("cat", 0, 0, 40, 40, 0.5)]}
    miss_first = assert_agrees(gt, pred)
    hit_first = assert_agrees({"b": gt["b"], "a": []}, pred)
    assert hit_first["AP"] == pytest.approx(1.0) and miss_first["AP"] == pytest.approx(0.5)


def test_empty_images_and_images_with_only_predictions() -> None:
    gt: Rows = {"empty": [], "a": [box("cat", 10, 10, 30, 30)], "b": [box("dog", 5, 5, 100, 100)]}
    pred: Rows = {
        "empty": [],
        "a": [box("cat", 12, 10, 30, 30, 0.8)],
        "only": [box("cat", 0, 0, 30, 30, 0.9), box("dog", 0, 0, 100, 100, 0.95)],
    }
    assert_agrees(gt, pred)


def test_no_predictions_at_all() -> None:
    ours = assert_agrees({"a": [box("cat", 0, 0, 10, 10)]}, {})
    assert ours["AP"] == 0.0 and ours["APm"] == -1.0


def test_area_ranges_are_inclusive_at_both_ends() -> None:
    # 32² and 96² belong to two ranges each, as in COCOeval's [low, high] test.
    gt = {
        "a": [
            box("cat", 0, 0, 32, 32),
            box("cat", 100, 0, 96, 96),
            box("cat", 300, 0, 31, 33),
            box("cat", 0, 300, 97, 95),
            box("cat", 400, 400, 150, 120),
        ]
    }
    pred = {
        "a": [
            box("cat", 0, 0, 32, 32, 0.9),
            box("cat", 103, 2, 96, 96, 0.4),
            box("cat", 300, 0, 31, 33, 0.7),
            box("cat", 2, 302, 80, 95, 0.6),
            box("cat", 700, 700, 20, 20, 0.95),
            box("cat", 700, 0, 200, 200, 0.5),
            box("cat", 400, 400, 140, 110, 0.8),
        ]
    }
    assert_agrees(gt, pred)


def test_a_prediction_matched_to_ignored_ground_truth_is_ignored() -> None:
    # For "small", the large ground truth is ignored: its match counts neither way.
    gt = {"a": [box("cat", 0, 0, 20, 20), box("cat", 100, 100, 200, 200)]}
    pred = {
        "a": [
            box("cat", 100, 100, 200, 200, 0.9),
            box("cat", 0, 0, 20, 20, 0.5),
            box("cat", 400, 400, 10, 10, 0.7),
            box("cat", 400, 0, 150, 150, 0.8),
        ]
    }
    ours = assert_agrees(gt, pred)
    assert ours["APs"] < 1.0 and ours["ARs"] == 1.0


def test_regular_ground_truth_wins_over_a_better_ignored_one() -> None:
    # For "medium" the 30×30 truth is ignored: the 40×40 one (IoU 0.64) is taken although the
    # ignored one overlaps more (IoU 0.88); for "all" the better one is taken.
    gt = {"a": [box("cat", 0, 0, 40, 40), box("cat", 0, 0, 30, 30)]}
    pred = {"a": [box("cat", 0, 0, 32, 32, 0.9)]}
    ours = assert_agrees(gt, pred)
    assert ours["ARm"] == pytest.approx(0.3) and ours["AR100"] == pytest.approx(0.4)


def test_crowded_category_with_equal_ious() -> None:
    # Duplicated ground truth gives equal IoUs: COCOeval lets the later one win.
    gt = {
        "a": [box("cat", 10 * i % 60, 0, 50, 50) for i in range(12)]
        + [box("cat", 0, 0, 50, 50)] * 3
    }
    pred = {"a": [box("cat", 3 * i, i % 4, 50, 48, round(0.1 * (i % 5), 1)) for i in range(30)]}
    assert_agrees(gt, pred)


def test_more_than_a_hundred_predictions_per_image_and_category() -> None:
    gt = {"a": [box("cat", 500, 500, 40, 40), box("dog", 0, 0, 40, 40)]}
    noise = [box("cat", 5 * i, 0, 10, 10, 0.9 - i / 1000) for i in range(150)]
    late_hit = box("cat", 500, 500, 40, 40, 0.1)
    dogs = [box("dog", 0, 0, 40, 41, 0.5) for _ in range(120)]
    ours = assert_agrees(gt, {"a": [*noise, late_hit, *dogs]})
    without = evaluate_coco(gt, {"a": [*noise, *dogs]})
    assert ours == without  # the 151st cat prediction is never seen


def test_missing_confidence_counts_as_one() -> None:
    gt = {"a": [box("cat", 0, 0, 40, 40)]}
    pred = {"a": [box("cat", 300, 0, 40, 40, 0.99), box("cat", 0, 0, 40, 40)]}
    assert assert_agrees(gt, pred)["AP"] == pytest.approx(1.0)


def test_categories_do_not_match_each_other_and_unknown_ones_change_nothing() -> None:
    gt = {"a": [box("cat", 0, 0, 40, 40)]}
    ours = assert_agrees(gt, {"a": [box("dog", 0, 0, 40, 40, 0.9), box("cat", 1, 1, 40, 40, 0.2)]})
    assert ours == evaluate_coco(gt, {"a": [box("cat", 1, 1, 40, 40, 0.2)]})


def test_kinds_without_coco_meaning_are_left_out() -> None:
    gt = {"a": [box("cat", 0, 0, 40, 40), Annotation("pin", Point(3, 4))]}
    pred = {"a": [box("cat", 2, 0, 40, 40, 0.5), Annotation("pin", Point(3, 4), 0.9)]}
    assert evaluate_coco(gt, pred) == assert_agrees({"a": gt["a"][:1]}, {"a": pred["a"][:1]})


def test_iou_exactly_at_a_threshold_matches() -> None:
    # IoUs of exactly 0.5 and 0.75 (both representable): each counts at its threshold.
    gt = {"a": [box("cat", 0, 0, 100, 100), box("cat", 300, 0, 100, 100)]}
    pred = {"a": [box("cat", 0, 0, 50, 100, 0.9), box("cat", 300, 0, 100, 75, 0.8)]}
    ours = assert_agrees(gt, pred)
    assert ours["AP50"] == pytest.approx(1.0)
    assert ours["AP75"] == pytest.approx(0.5 * 51 / 101, abs=1e-12)  # FP then TP


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="iou_type"):
        evaluate_coco({}, {}, "keypoints")  # type: ignore[arg-type]
    small = mask_api.encode(np.zeros((4, 4), dtype=np.uint8, order="F"))["counts"]
    with pytest.raises(ValueError, match="mask on a data row of 10×10"):
        evaluate_coco({"a": [Annotation("m", Mask(4, 4, small))]}, {}, image_sizes={"a": (10, 10)})


def test_nothing_at_all() -> None:
    assert evaluate_coco({}, {}) == {key: -1.0 for key in COCO_KEYS}


def test_masks_polygons_and_boxes_as_segmentation() -> None:
    sizes = {"a": (60, 80)}
    disk = np.zeros((60, 80), dtype=np.uint8)
    yy, xx = np.mgrid[:60, :80]
    disk[(yy - 30) ** 2 + (xx - 40) ** 2 < 15**2] = 1
    rle = mask_api.encode(np.asfortranarray(disk))
    gt = {
        "a": [
            Annotation("blob", Mask(60, 80, rle["counts"])),
            Annotation("tri", Polygon(((5, 5), (30, 5), (5, 40)))),
            box("cat", 50, 2, 25, 20),
        ]
    }
    pred = {
        "a": [
            Annotation("blob", Polygon(((25, 15), (55, 15), (55, 45), (25, 45))), 0.7),
            Annotation("tri", Polygon(((6, 5), (30, 6), (5, 38))), 0.6),
            box("cat", 52, 2, 25, 20, 0.9),
            box("cat", 0, 0, 10, 10, 0.95),
        ]
    }
    ours = assert_agrees(gt, pred, "segm", sizes)
    assert evaluate_coco(gt, pred, image_sizes=sizes) == ours  # masks choose "segm"


def test_polygons_of_several_rings_are_their_union() -> None:
    # COCO's segmentation of one object is a list of rings; its region is their union.
    sizes = {"a": (60, 80), "b": (60, 80)}
    two = Polygon(((5, 5), (30, 5), (5, 40)), (((40, 10), (70, 10), (70, 30), (40, 30)),))
    gt = {
        "a": [Annotation("p", two)],
        "b": [Annotation("p", Polygon(((10, 10), (50, 10), (50, 50)), (((0, 0), (8, 0), (8, 8)), ((20, 30), (60, 50), (20, 55)))))],
    }
    pred = {
        "a": [
            Annotation("p", Polygon(((6, 5), (30, 6), (5, 38))), 0.9),  # the first ring only
            Annotation("p", Polygon(((6, 5), (30, 6), (5, 38)), (((41, 10), (70, 11), (69, 30), (40, 29)),)), 0.6),
        ],
        "b": [Annotation("p", Polygon(((12, 10), (50, 12), (48, 50)), (((21, 30), (60, 52), (20, 54)),)), 0.8)],
    }
    ours = assert_agrees(gt, pred, "segm", sizes)
    assert ours["AP"] > 0


def test_polygons_and_masks_as_boxes_are_their_bounding_boxes() -> None:
    disk = np.zeros((60, 80), dtype=np.uint8, order="F")
    disk[10:30, 20:45] = 1
    counts = mask_api.encode(disk)["counts"]
    gt = {
        "a": [
            Annotation("m", Mask(60, 80, counts)),
            Annotation("p", Polygon(((1, 2), (9, 4), (5, 12)))),
        ]
    }
    pred = {"a": [box("m", 21, 10, 25, 19, 0.8), box("p", 1, 2, 8, 9, 0.7)]}
    as_boxes = {"a": [box("m", 20, 10, 25, 20), box("p", 1, 2, 8, 10)]}
    assert evaluate_coco(gt, pred, "bbox") == assert_agrees(as_boxes, pred)


def rectangle(
    feature: str, right: float, bottom: float, confidence: float | None = None
) -> Annotation:
    corners = ((0.6, 0.6), (right, 0.6), (right, bottom), (0.6, bottom))
    return Annotation(feature, Polygon(corners), confidence)


def test_polygons_without_a_size_use_their_extent() -> None:
    # Each prediction's last pixel row (or column) lies at the edge of the row's extent: IoU
    # 0.909 with it, 1 if the extent clipped it, which would count at IoU 0.95.
    gt = {
        "a": [Annotation("tri", Polygon(((5.5, 5), (130, 5), (5, 40.2))))],
        "b": [rectangle("tall", 9.6, 10.6)],
        "c": [rectangle("wide", 10.6, 9.6)],
    }
    pred = {
        "a": [Annotation("tri", Polygon(((8, 5), (120.7, 9), (5, 38))), 0.6)],
        "b": [rectangle("tall", 9.6, 11.6, 0.5)],
        "c": [rectangle("wide", 11.6, 9.6, 0.5)],
    }
    sizes = {key: (500, 500) for key in gt}
    assert evaluate_coco(gt, pred) == assert_agrees(gt, pred, "segm", sizes)


def test_a_box_as_a_mask_is_its_rectangle() -> None:
    # 100 and 50 pixels: IoU exactly 0.5, so any change to either mask shows.
    gt = {"a": [box("cat", 0, 0, 10, 10)]}
    pred = {"a": [box("cat", 0, 0, 10, 5, 0.5)]}
    ours = assert_agrees(gt, pred, "segm", {"a": (30, 30)})
    assert ours["AP50"] == pytest.approx(1.0) and ours["AP75"] == 0.0


def test_the_comparison_notices_a_changed_prediction() -> None:
    gt, pred = random_boxes(np.random.default_rng(5), 40)
    theirs = reference(gt, pred, "bbox")
    # Relabel the predictions of the row with the most ground truth: its hits become misses.
    key = max(gt, key=lambda k: len(gt[k]))
    relabelled = [Annotation("elsewhere", a.geometry, a.confidence) for a in pred.get(key, [])]
    ours = evaluate_coco(gt, {**pred, key: relabelled})
    assert any(not math.isclose(ours[k], theirs[k], abs_tol=1e-6) for k in COCO_KEYS)


# ----------------------------------------------------------------------------- random


def random_boxes(rng: np.random.Generator, n_images: int) -> tuple[Rows, Rows]:
    """Boxes of every size, jittered copies with relabels, ties in score, crowded rows."""
    gt: Rows = {}
    pred: Rows = {}
    for i in range(n_images):
        key = f"row-{i}"
        gts: list[Annotation] = []
        for _ in range(int(rng.integers(0, 12))):
            side = float(np.exp(rng.uniform(np.log(4), np.log(300))))
            w, h = side * rng.uniform(0.5, 2), side * rng.uniform(0.5, 2)
            x, y = rng.uniform(0, 640 - min(w, 600)), rng.uniform(0, 480 - min(h, 400))
            if rng.random() < 0.3:  # integer pixels make exact IoU ties
                x, y, w, h = round(x), round(y), max(1, round(w)), max(1, round(h))
            gts.append(box(f"c{rng.integers(0, 6)}", x, y, w, h))
        preds: list[Annotation] = []
        for g in gts:
            for _ in range(int(rng.integers(0, 3))):
                assert isinstance(g.geometry, Box)
                b = g.geometry
                feature = g.feature if rng.random() > 0.1 else f"c{rng.integers(0, 6)}"
                jitter = rng.normal(0, 0.08, 4) * [b.width, b.height, b.width, b.height]
                preds.append(
                    box(
                        feature,
                        b.left + jitter[0],
                        b.top + jitter[1],
                        max(0.5, b.width + jitter[2]),
                        max(0.5, b.height + jitter[3]),
                        _score(rng),
                    )
                )
        for _ in range(int(rng.integers(0, 140 if rng.random() < 0.05 else 25))):
            x, y, w, h = rng.uniform(0, 500, 2).tolist() + rng.uniform(2, 250, 2).tolist()
            preds.append(box(f"c{rng.integers(0, 3)}", x, y, w, h, _score(rng)))
        order = rng.permutation(len(preds))
        if rng.random() > 0.1:
            gt[key] = gts
        if rng.random() > 0.05:
            pred[key] = [preds[j] for j in order]
    return gt, pred


def _score(rng: np.random.Generator) -> float | None:
    draw = rng.random()
    if draw < 0.05:
        return None
    if draw < 0.5:
        return round(float(rng.random()), 1)  # many exact ties
    return float(rng.random())


def random_shapes(
    rng: np.random.Generator, n_images: int, as_masks: bool | None
) -> tuple[Rows, Rows]:
    """Star-shaped polygons (or their RLE masks) on 48×64 images, with jittered copies;
    `as_masks` None: each shape a polygon or a mask at random (a POLYGON tool takes both)."""
    height, width = 48, 64

    def shape(cx: float, cy: float, r: float) -> list[tuple[float, float]]:
        angles = np.sort(rng.uniform(0, 2 * np.pi, int(rng.integers(3, 12))))
        radii = r * rng.uniform(0.5, 1.0, len(angles))
        return [
            (float(cx + a * np.cos(t)), float(cy + a * np.sin(t)))
            for a, t in zip(radii, angles, strict=True)
        ]

    def geometry(points: list[tuple[float, float]]) -> Geometry:
        if not (rng.random() < 0.5 if as_masks is None else as_masks):
            return Polygon(tuple(points))
        flat = [c for p in points for c in p]
        rle = mask_api.merge(mask_api.frPyObjects([flat], height, width))
        return Mask(height, width, rle["counts"])

    gt: Rows = {}
    pred: Rows = {}
    for i in range(n_images):
        gts, preds = [], []
        for _ in range(int(rng.integers(0, 6))):
            cx, cy, r = rng.uniform(0, width), rng.uniform(0, height), rng.uniform(2, 30)
            feature = f"c{rng.integers(0, 3)}"
            gts.append(Annotation(feature, geometry(shape(cx, cy, r))))
            for _ in range(int(rng.integers(0, 3))):
                jittered = shape(
                    cx + rng.normal(0, 1.5), cy + rng.normal(0, 1.5), r * rng.uniform(0.8, 1.2)
                )
                preds.append(Annotation(feature, geometry(jittered), _score(rng)))
        for _ in range(int(rng.integers(0, 4))):
            points = shape(rng.uniform(0, width), rng.uniform(0, height), rng.uniform(2, 20))
            preds.append(Annotation(f"c{rng.integers(0, 3)}", geometry(points), _score(rng)))
        gt[f"row-{i}"], pred[f"row-{i}"] = gts, preds
    return gt, pred


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_boxes(seed: int) -> None:
    gt, pred = random_boxes(np.random.default_rng(seed), 300)
    assert_agrees(gt, pred)


@pytest.mark.parametrize("as_masks", [True, False, None])
def test_random_masks_and_polygons(as_masks: bool | None) -> None:
    gt, pred = random_shapes(np.random.default_rng(11), 200, as_masks)
    sizes = {key: (48, 64) for key in gt}
    assert_agrees(gt, pred, "segm", sizes)


# ----------------------------------------------------------------------------- §9: crowd and area


def crowd(feature: str, left: float, top: float, width: float, height: float) -> Annotation:
    return Annotation(feature, Box(left, top, width, height), None, (), True)


def test_a_crowd_region_matches_any_number_of_predictions_which_are_ignored() -> None:
    gt = {"a": [box("person", 0, 0, 10, 10), crowd("person", 100, 100, 200, 200)]}
    preds = [box("person", 0, 0, 10, 10, 0.5)] + [
        box("person", 100 + 20 * i, 100, 20, 20, 0.9 - 0.1 * i) for i in range(5)
    ]
    ours = assert_agrees(gt, {"a": preds})
    # The five inside the crowd region are no false positives.
    assert ours["AP"] == pytest.approx(1.0)


def test_a_crowd_region_is_no_ground_truth_to_find() -> None:
    ours = assert_agrees({"a": [crowd("person", 0, 0, 10, 10)]}, {"a": [box("person", 0, 0, 10, 10, 0.9)]})
    assert ours["AP"] == -1.0


def test_a_given_area_decides_the_range_in_bbox_and_segm() -> None:
    # A 10 × 10 box declared large, and a 200 × 200 one declared small.
    gt = {
        "a": [
            Annotation("car", Box(0, 0, 10, 10), area=10000.0),
            Annotation("car", Box(300, 300, 200, 200), area=50.0),
        ]
    }
    pred = {"a": [box("car", 0, 0, 10, 10, 0.9), box("car", 300, 300, 200, 200, 0.8)]}
    ours = assert_agrees(gt, pred)
    assert ours["APl"] == pytest.approx(1.0) and ours["APs"] == pytest.approx(1.0)
    assert ours["APm"] == -1.0
    assert_agrees(gt, pred, "segm", {"a": (600, 600)})


def _with_crowds_and_areas(rng: np.random.Generator, rows: Rows, regions: bool) -> Rows:
    """Some ground truth made crowd regions (a few large boxes added when `regions`),
    and explicit areas on about half of it, spanning COCO's range bounds."""
    out: Rows = {}
    for key, objects in rows.items():
        changed = []
        for a in objects:
            area = None
            if rng.random() < 0.5:
                area = float(rng.choice([0.0, 500.0, 1024.0, 3000.0, 9216.0, 20000.0, rng.uniform(0, 30000)]))
            changed.append(Annotation(a.feature, a.geometry, None, (), bool(rng.random() < 0.2), area))
        if regions and rng.random() < 0.5:
            x, y = rng.uniform(0, 300, 2).tolist()
            changed.insert(int(rng.integers(0, len(changed) + 1)), crowd(f"c{rng.integers(0, 3)}", x, y, 300.0, 300.0))
        out[key] = changed
    return out


@pytest.mark.parametrize("seed", [4, 5])
def test_random_boxes_with_crowd_regions_and_areas(seed: int) -> None:
    rng = np.random.default_rng(seed)
    gt, pred = random_boxes(rng, 300)
    gt = _with_crowds_and_areas(rng, gt, regions=True)
    assert any(a.iscrowd for row in gt.values() for a in row)
    assert_agrees(gt, pred)
    sizes = {key: (800, 800) for key in {*gt, *pred}}
    assert_agrees(gt, pred, "segm", sizes)


@pytest.mark.parametrize("as_masks", [True, False, None])
def test_random_masks_and_polygons_with_crowd_regions_and_areas(as_masks: bool | None) -> None:
    # None: polygon and mask ground truth of one category, crowd RLE masks among them.
    rng = np.random.default_rng(12)
    gt, pred = random_shapes(rng, 200, as_masks)
    gt = _with_crowds_and_areas(rng, gt, regions=False)
    crowd_kinds = {type(a.geometry) for row in gt.values() for a in row if a.iscrowd}
    assert crowd_kinds == {True: {Mask}, False: {Polygon}, None: {Mask, Polygon}}[as_masks]
    sizes = {key: (48, 64) for key in gt}
    assert_agrees(gt, pred, "segm", sizes)
