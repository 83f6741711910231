"""One hand-made case per rule of docs/metrics.md §9 (crowd regions), default rules."""

from __future__ import annotations

import numpy as np
import pytest
from pycocotools import mask as mask_api

from domain.annotations.objects import Annotation, Answer, Box, Mask, Polygon, Span
from domain.metrics import build_objects, grid, match
from tests.domain.metrics.test_rules import box, counts, run, taken


def crowd(feature: str, left: float, top: float, width: float, height: float) -> Annotation:
    return Annotation(feature, Box(left, top, width, height), None, (), True)


def confusion(result, c_index: int = 0, t: float = 0.0) -> dict[tuple, int]:  # noqa: ANN001
    labels = result.confusion_labels
    matrix = result.confusion(c_index, t)
    return {
        (labels[g], labels[f]): int(matrix[g, f]) for g, f in zip(*np.nonzero(matrix), strict=True)
    }


def test_a_crowd_region_takes_no_part_in_the_walk_and_is_no_fn() -> None:
    # The prediction equals the crowd region (IoU 1) yet is not matched with it; the
    # ordinary annotation beside it stays an FN.
    result = run(
        [[crowd("people", 0, 0, 10, 10), box("people", 50, 50, 10, 10)]],
        [[box("people", 0, 0, 10, 10, 0.9)]],
    )
    assert taken(result) == []
    assert counts(result, "people") == (0, 0, 1, 0)  # the prediction is ignored, not an FP
    assert confusion(result) == {("people", None): 1}


def test_crowd_regions_are_not_annotations_and_counted_apart() -> None:
    result = run([[crowd("people", 0, 0, 10, 10), crowd("people", 0, 0, 5, 5)], []], [[], []])
    annotations, predictions = result.object_counts(0)
    assert annotations.tolist() == [0] and predictions.tolist() == [0]
    assert result.crowd_counts().tolist() == [2]
    assert result.crowd_counts(rows=[1]).tolist() == [0]
    # A row with only crowd regions of a feature and no prediction is a TN for it.
    assert counts(result, "people") == (0, 0, 0, 2)
    assert confusion(result) == {}


def test_an_untaken_prediction_covered_by_more_than_t_is_ignored() -> None:
    # The prediction [0, 10) × [0, 10) has 60 % of its area inside the crowd region.
    result = run([[crowd("people", 4, 0, 20, 10)]], [[box("people", 0, 0, 10, 10, 0.9)]])
    for t, ignored in [(0.0, 1), (0.5, 1), (0.59, 1), (0.6, 0), (0.75, 0), (1.0, 0)]:
        assert result.ignored_counts(0, t).tolist() == [ignored], t
        assert counts(result, "people", t=t) == (0, 1 - ignored, 0, 0), t
        assert confusion(result, t=t) == ({} if ignored else {(None, "people"): 1}), t


def test_the_share_is_of_the_predictions_own_area_not_an_iou() -> None:
    # A small prediction inside a huge crowd region: IoU 1/100, share 1.
    result = run([[crowd("people", 0, 0, 100, 100)]], [[box("people", 10, 10, 10, 10, 0.5)]])
    assert result.ignored_counts(0, 0.99).tolist() == [1]
    assert counts(result, "people", t=0.99) == (0, 0, 0, 0)


def test_a_crowd_region_ignores_any_number_of_predictions() -> None:
    preds = [box("people", x, 0, 5, 5, 0.5) for x in (0, 5, 10, 15)]
    result = run([[crowd("people", 0, 0, 20, 5)]], [preds])
    assert result.ignored_counts(0, 0.5).tolist() == [4]
    assert counts(result, "people", t=0.5) == (0, 0, 0, 0)


def test_a_taken_prediction_is_not_ignored() -> None:
    # Both predictions are inside the crowd region; the one matched to the annotation is a
    # TP, the other is ignored instead of being an FP.
    result = run(
        [[crowd("people", 0, 0, 20, 20), box("people", 0, 0, 10, 10)]],
        [[box("people", 0, 0, 10, 10, 0.9), box("people", 10, 10, 10, 10, 0.8)]],
    )
    assert counts(result, "people", t=0.5) == (1, 0, 0, 0)
    assert result.ignored_counts(0, 0.5).tolist() == [1]
    assert confusion(result, t=0.5) == {("people", "people"): 1}


def test_a_prediction_taken_below_t_is_untaken_at_t_and_may_be_ignored() -> None:
    # IoU with the annotation is 1/3: taken at t = 0.2, untaken at t = 0.5, where the
    # crowd region (covering it whole) makes it ignored rather than an FP.
    result = run(
        [[box("people", 0, 0, 10, 10), crowd("people", 0, 0, 30, 30)]],
        [[box("people", 5, 0, 10, 10, 0.9)]],
    )
    assert counts(result, "people", t=0.2) == (1, 0, 0, 0)
    assert counts(result, "people", t=0.5) == (0, 0, 1, 0)
    assert result.ignored_counts(0, 0.5).tolist() == [1]


def test_a_prediction_taken_in_a_cross_feature_pair_is_not_ignored() -> None:
    result = run(
        [[box("car", 0, 0, 10, 10), crowd("truck", 0, 0, 10, 10)]],
        [[box("truck", 0, 0, 10, 10, 0.9)]],
    )
    assert counts(result, "car") == (0, 0, 1, 0)
    assert counts(result, "truck") == (0, 1, 0, 0)
    assert result.ignored_counts(0, 0.0).tolist() == [0, 0]


def test_only_a_crowd_region_of_the_predictions_feature_ignores_it() -> None:
    result = run([[crowd("car", 0, 0, 10, 10)]], [[box("truck", 0, 0, 10, 10, 0.9)]])
    assert counts(result, "truck") == (0, 1, 0, 0)
    assert counts(result, "car") == (0, 0, 0, 1)  # a crowd region is no bar to a TN


def test_inactive_predictions_are_neither_fp_nor_ignored() -> None:
    result = run(
        [[crowd("people", 0, 0, 10, 10)]],
        [[box("people", 0, 0, 10, 10, 0.3)]],
        confidences=(0.0, 0.5),
    )
    assert result.ignored_counts(0, 0.0).tolist() == [1]
    assert result.ignored_counts(1, 0.0).tolist() == [0]
    assert counts(result, "people", c_index=1) == (0, 0, 0, 1)  # no active prediction: a TN


def test_an_ignored_prediction_still_keeps_its_row_from_being_a_tn() -> None:
    # It is an active prediction of the row: the row is no true negative, and its cell has
    # no TP, FP or FN, so no IoU; the row's IoU comes from its other features.
    result = run(
        [[crowd("people", 0, 0, 10, 10), box("car", 20, 20, 10, 10)]],
        [[box("people", 0, 0, 10, 10, 0.9), box("car", 20, 20, 10, 10, 0.9)]],
    )
    assert counts(result, "people") == (0, 0, 0, 0)
    rows = result.row_metrics(0, 0.5)
    assert (rows.tp[0], rows.fp[0], rows.fn[0], rows.tn[0]) == (1, 0, 0, 0)
    assert rows.iou[0] == 1.0
    table = grid(result, (0.5,), per_row=True)
    assert table.per_row.iou[0, 0, 0] == 1.0
    report = result.feature_metrics(0, 0.5)
    k = result.features.index("people")
    assert np.isnan(report.per_feature.precision[k]) and np.isnan(report.per_feature.iou[k])


def test_nested_answers_of_crowd_regions_and_ignored_predictions_count_for_nothing() -> None:
    red = Annotation("people/color/red", Answer("people/color", "red"))
    gt = [[Annotation("people", Box(0, 0, 10, 10), None, (red,), True)]]
    pred = [[Annotation("people", Box(0, 0, 10, 10), 0.9, (red,))]]
    result = match(build_objects(gt, pred), (0.0,))
    assert counts(result, "people/color/red") == (0, 0, 0, 0)
    assert result.ignored_counts(0, 0.0).tolist() == [1, 1]
    assert counts(result, "people/color/red", t=1.0) == (0, 1, 0, 0)


def test_polygon_and_mask_crowd_regions() -> None:
    square = Polygon(((0.0, 0.0), (10.0, 0.0), (10.0, 10.0), (0.0, 10.0)))
    inside = Polygon(((0.0, 0.0), (4.0, 0.0), (4.0, 4.0), (0.0, 4.0)))
    half_out = Polygon(((5.0, 0.0), (15.0, 0.0), (15.0, 10.0), (5.0, 10.0)))
    result = match(
        build_objects(
            [[Annotation("lake", square, None, (), True)]],
            [[Annotation("lake", inside, 0.9), Annotation("lake", half_out, 0.9)]],
        ),
        (0.0,),
    )
    assert result.ignored_counts(0, 0.49).tolist() == [2]
    assert result.ignored_counts(0, 0.5).tolist() == [1]
    assert counts(result, "lake", t=0.5) == (0, 1, 0, 0)

    def mask(pixels: np.ndarray) -> Mask:
        rle = mask_api.encode(np.asfortranarray(pixels.astype(np.uint8)))
        return Mask(pixels.shape[0], pixels.shape[1], rle["counts"])

    region = np.zeros((4, 4), bool)
    region[:2] = True
    detection = np.zeros((4, 4), bool)
    detection[1:3, :2] = True  # 2 of its 4 pixels in the region
    result = match(
        build_objects(
            [[Annotation("cell", mask(region), None, (), True)]],
            [[Annotation("cell", mask(detection), 0.9)]],
        ),
        (0.0,),
    )
    assert result.ignored_counts(0, 0.49).tolist() == [1]
    assert result.ignored_counts(0, 0.5).tolist() == [0]
    assert counts(result, "cell", t=0.5) == (0, 1, 0, 0)


def test_a_crowd_region_must_be_a_box_polygon_or_mask() -> None:
    with pytest.raises(ValueError, match="crowd region of 'person' must be a box"):
        build_objects([[Annotation("person", Span(0, 3), None, (), True)]], [[]])


def test_without_crowd_regions_nothing_changes() -> None:
    result = run([[box("car", 0, 0, 10, 10)]], [[box("car", 0, 0, 10, 10, 0.9)]])
    assert result.crowd_cover is None
    assert result.ignored_counts(0, 0.5).tolist() == [0]
    assert result.crowd_counts().tolist() == [0]


def test_a_crowd_region_of_the_other_kind_covers_by_pixels() -> None:
    # A polygon feature holds polygons and masks: the share is counted on pycocotools'
    # rasterisation of the polygon at the row's size. This square covers the 16 pixels of
    # rows and columns 1 to 4 of an 8 × 8 row.
    square = Polygon(((1.0, 1.0), (5.0, 1.0), (5.0, 5.0), (1.0, 5.0)))
    pixels = np.zeros((8, 8), np.uint8)
    pixels[1:5, 0:3] = 1  # 8 of its 12 pixels in the square
    detection = Mask(8, 8, mask_api.encode(np.asfortranarray(pixels))["counts"])
    region = np.zeros((8, 8), np.uint8)
    region[0:8, 0:4] = 1  # 12 of the square's 16 pixels
    crowd_mask = Mask(8, 8, mask_api.encode(np.asfortranarray(region))["counts"])
    for gt, pred, share in [
        (Annotation("lake", square, None, (), True), Annotation("lake", detection, 0.9), 8 / 12),
        (Annotation("lake", crowd_mask, None, (), True), Annotation("lake", square, 0.9), 12 / 16),
    ]:
        result = match(build_objects([[gt]], [[pred]]), (0.0,))
        assert result.crowd_cover is not None and result.crowd_cover.tolist() == [share]
        assert result.ignored_counts(0, share - 0.01).tolist() == [1]
        assert result.ignored_counts(0, share).tolist() == [0]
