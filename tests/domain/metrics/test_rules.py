"""One hand-made case per rule of docs/metrics.md §3 (matching at a grid point) and §4 (nulls)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from domain.annotations.objects import Annotation, Answer, Box, Polygon, TextAnswer
from domain.metrics import MatchResult, build_objects, match


def box(
    feature: str,
    left: float,
    top: float,
    width: float,
    height: float,
    confidence: float | None = None,
) -> Annotation:
    return Annotation(feature, Box(left, top, width, height), confidence)


def run(
    gt: list[list[Annotation]],
    pred: list[list[Annotation]],
    features: list[str] | None = None,
    confidences: tuple[float, ...] = (0.0,),
) -> MatchResult:
    return match(build_objects(gt, pred, features), confidences)


def counts(
    result: MatchResult, feature: str, c_index: int = 0, t: float = 0.0
) -> tuple[int, int, int, int]:
    k = result.features.index(feature)
    c = result.feature_counts(c_index, t)
    return int(c.tp[k]), int(c.fp[k]), int(c.fn[k]), int(c.tn[k])


def taken(result: MatchResult, c_index: int = 0, t: float = 0.0) -> list[tuple[int, int]]:
    """(annotation position, prediction position) of the pairs taken at (c, t)."""
    at = result.taken_at(c_index, t)
    return list(zip(result.taken.ann[at].tolist(), result.taken.pred[at].tolist(), strict=True))


# A 10 × 10 box and one sharing half of it: IoU 50 / 150 = 1/3 exactly; no +1 on widths.
HALF = (box("car", 0, 0, 10, 10), box("car", 5, 0, 10, 10, 0.9))
# IoU exactly 1/2: [0, 4) × [0, 2) against [0, 2) × [0, 2).
ONE_HALF = (box("car", 0, 0, 4, 2), box("car", 0, 0, 2, 2, 0.9))


def test_box_iou_is_on_continuous_coordinates() -> None:
    result = run([[HALF[0]]], [[HALF[1]]])
    assert result.taken.iou[result.taken_at(0, 0.0)].tolist() == [1 / 3]


def test_an_iou_equal_to_the_threshold_does_not_match() -> None:
    result = run([[ONE_HALF[0]]], [[ONE_HALF[1]]])
    assert counts(result, "car", t=0.5) == (0, 1, 1, 0)
    assert counts(result, "car", t=0.49) == (1, 0, 0, 0)


def test_t_zero_matches_any_overlap_and_t_one_matches_nothing() -> None:
    touching = box("car", 10, 0, 10, 10, 0.9)  # shares only an edge: IoU 0
    sliver = box("car", 9.5, 0, 10, 10, 0.9)
    same = box("car", 0, 0, 10, 10, 0.9)
    gt = [[box("car", 0, 0, 10, 10)]] * 3
    result = run(gt, [[touching], [sliver], [same]])
    assert counts(result, "car", t=0.0) == (2, 1, 1, 0)
    assert counts(result, "car", t=1.0) == (0, 3, 3, 0)


def test_predictions_at_or_above_the_confidence_threshold_are_active() -> None:
    gt = [[box("car", 0, 0, 10, 10)]]
    pred = [[box("car", 0, 0, 10, 10, 0.5)]]
    result = run(gt, pred, confidences=(0.5, 0.6))
    assert counts(result, "car", c_index=0) == (1, 0, 0, 0)
    # Inactive, the prediction is not an FP: it is not there at all.
    assert counts(result, "car", c_index=1) == (0, 0, 1, 0)


def test_a_missing_confidence_is_one() -> None:
    result = run([[box("car", 0, 0, 10, 10)]], [[box("car", 0, 0, 10, 10)]], confidences=(1.0,))
    assert counts(result, "car") == (1, 0, 0, 0)
    assert result.taken.confidence.tolist() == [1.0]


def test_higher_iou_is_taken_first_even_if_greedy_is_not_optimal() -> None:
    # A1 overlaps P1 most; once P1 is taken by A1, A2 (which only overlaps P1) stays
    # unmatched, though the assignment A1-P2, A2-P1 would have made two TPs.
    a1, a2 = box("car", 0, 0, 10, 10), box("car", 3, 0, 10, 10)
    p1, p2 = box("car", 1, 0, 10, 10, 0.5), box("car", -6, 0, 10, 10, 0.9)
    result = run([[a1, a2]], [[p1, p2]])
    assert taken(result, t=0.2) == [(0, 0)]
    assert counts(result, "car", t=0.2) == (1, 1, 1, 0)


def test_same_feature_pairs_come_before_cross_feature_pairs_at_equal_iou() -> None:
    gt = [[box("car", 0, 0, 10, 10)]]
    # The truck comes first and is more confident, yet the car of equal IoU is taken.
    pred = [[box("truck", 0, 0, 10, 10, 0.99), box("car", 0, 0, 10, 10, 0.1)]]
    result = run(gt, pred)
    assert taken(result) == [(0, 1)]
    assert counts(result, "car") == (1, 0, 0, 0)
    assert counts(result, "truck") == (0, 1, 0, 0)


def test_a_higher_iou_cross_feature_pair_comes_before_a_same_feature_pair() -> None:
    gt = [[box("car", 0, 0, 10, 10)]]
    pred = [[box("car", 1, 0, 10, 10, 0.9), box("truck", 0, 0, 10, 10, 0.9)]]
    result = run(gt, pred)
    assert taken(result) == [(0, 1)]


def test_more_confident_prediction_first_at_equal_iou_and_feature() -> None:
    gt = [[box("car", 0, 0, 10, 10)]]
    pred = [[box("car", 0, 0, 10, 10, 0.6), box("car", 0, 0, 10, 10, 0.9)]]
    result = run(gt, pred)
    assert taken(result) == [(0, 1)]


def test_annotation_upload_order_then_prediction_upload_order() -> None:
    gt = [[box("car", 0, 0, 10, 10), box("car", 0, 0, 10, 10)]]
    pred = [[box("car", 0, 0, 10, 10, 0.5)]]
    assert taken(run(gt, pred)) == [(0, 0)]
    gt = [[box("car", 0, 0, 10, 10)]]
    pred = [[box("car", 0, 0, 10, 10, 0.5), box("car", 0, 0, 10, 10, 0.5)]]
    assert taken(run(gt, pred)) == [(0, 0)]


def test_upload_order_is_per_data_row_and_counts_other_kinds() -> None:
    # The second box annotation was uploaded after an answer: still after the first box.
    answer = Annotation("q/a", Answer("q", "a"))
    gt = [[], [box("car", 0, 0, 10, 10), answer, box("car", 0, 0, 10, 10)]]
    pred = [[box("car", 0, 0, 10, 10, 0.5)], [box("car", 0, 0, 10, 10, 0.5)]]
    result = run(gt, pred)
    assert taken(result) == [(0, 1)]  # ground-truth positions 0, 1, 2 are all row 1's


def test_a_cross_feature_pair_is_an_fn_and_an_fp_and_fills_its_confusion_cell() -> None:
    gt = [[box("car", 0, 0, 10, 10)]]
    pred = [[box("truck", 0, 0, 10, 10, 0.8)]]
    result = run(gt, pred)
    assert counts(result, "car") == (0, 0, 1, 0)
    assert counts(result, "truck") == (0, 1, 0, 0)
    assert result.confusion_labels == ("car", "truck", None)
    np.testing.assert_array_equal(result.confusion(0, 0.0), [[0, 1, 0], [0, 0, 0], [0, 0, 0]])
    # Above the pair's IoU, both sides are untaken: the None cells.
    np.testing.assert_array_equal(result.confusion(0, 1.0), [[0, 0, 1], [0, 0, 0], [0, 1, 0]])


def test_untaken_objects_go_to_the_none_cells() -> None:
    gt = [[box("car", 0, 0, 10, 10), box("car", 50, 50, 10, 10)]]
    pred = [[box("car", 0, 0, 10, 10, 0.8), box("truck", 90, 90, 5, 5, 0.8)]]
    result = run(gt, pred)
    np.testing.assert_array_equal(result.confusion(0, 0.0), [[1, 0, 1], [0, 0, 0], [0, 1, 0]])


def test_true_negatives_per_data_row_and_feature() -> None:
    gt = [[box("car", 0, 0, 10, 10)], [], []]
    pred = [[], [box("truck", 0, 0, 10, 10, 0.3)], []]
    result = run(gt, pred, features=["car", "truck", "bus"], confidences=(0.0, 0.5))
    # car: rows 1 and 2 have none; truck: rows 0 and 2; bus: every row.
    assert [counts(result, f)[3] for f in ("car", "truck", "bus")] == [2, 2, 3]
    # At c = 0.5 the truck prediction is inactive: row 1 becomes a TN for it.
    assert [counts(result, f, c_index=1)[3] for f in ("car", "truck", "bus")] == [2, 3, 3]
    rows = result.row_metrics(0, 0.0)
    assert rows.tn.tolist() == [2, 2, 3]


def test_ratios_are_null_when_their_denominator_is_zero() -> None:
    gt = [[box("car", 0, 0, 10, 10)]]
    pred = [[box("truck", 50, 50, 10, 10, 0.9)]]
    report = run(gt, pred, features=["bus", "car", "truck"]).feature_metrics(0, 0.0)
    bus, car, truck = 0, 1, 2
    m = report.per_feature
    assert all(math.isnan(v[bus]) for v in (m.precision, m.recall, m.f1, m.iou))
    assert math.isnan(m.precision[car]) and m.recall[car] == 0.0 and m.f1[car] == 0.0
    assert m.precision[truck] == 0.0 and math.isnan(m.recall[truck])
    assert m.iou[car] == 0.0 and m.iou[truck] == 0.0
    assert report.all.precision == 0.0 and report.all.recall == 0.0
    assert report.macro.precision == 0.0 and report.macro.recall == 0.0  # means of defined ones
    empty = run([[]], [[]], features=["car"]).feature_metrics(0, 0.0)
    assert (empty.all.precision, empty.all.recall, empty.all.f1, empty.all.iou) == (None,) * 4
    assert empty.all.tn == 1
    assert empty.macro.precision is None


def test_metrics_from_counts() -> None:
    gt = [[box("car", 0, 0, 10, 10), box("car", 100, 0, 10, 10)], [box("bus", 0, 0, 4, 2)]]
    pred = [
        [box("car", 5, 0, 10, 10, 0.9), box("car", 200, 0, 1, 1, 0.8)],
        [box("bus", 0, 0, 2, 2, 0.7)],
    ]
    report = run(gt, pred).feature_metrics(0, 0.0)
    bus, car = 0, 1
    m = report.per_feature
    assert (m.tp[car], m.fp[car], m.fn[car], m.tn[car]) == (1, 1, 1, 1)
    assert m.precision[car] == 0.5 and m.recall[car] == 0.5 and m.f1[car] == 0.5
    assert m.iou[car] == (1 / 3) / 3
    assert m.iou[bus] == 0.5 and m.tn[bus] == 1
    assert (report.all.tp, report.all.fp, report.all.fn, report.all.tn) == (2, 1, 1, 2)
    assert report.all.precision == 2 / 3 and report.all.f1 == 4 / 6
    assert report.all.iou == ((1 / 3) + 0.5) / 4
    assert report.macro.precision == (1.0 + 0.5) / 2
    assert report.macro.iou == (0.5 + (1 / 3) / 3) / 2


def test_data_row_iou_is_the_unweighted_mean_of_its_features_ious() -> None:
    gt = [[box("car", 0, 0, 10, 10), box("car", 100, 0, 10, 10), box("bus", 0, 0, 4, 2)], []]
    pred = [[box("car", 0, 0, 10, 10, 0.9), box("bus", 0, 0, 2, 2, 0.9)], []]
    rows = run(gt, pred, features=["bus", "car", "truck"]).row_metrics(0, 0.0)
    # car: ΣIoU 1 over TP + FP + FN = 2; bus: 0.5 over 1; truck: null, left out.
    assert rows.iou[0] == (0.5 + 0.5) / 2
    assert (rows.tp[0], rows.fp[0], rows.fn[0], rows.tn[0]) == (2, 0, 1, 1)
    assert rows.precision[0] == 1.0 and rows.recall[0] == 2 / 3
    assert math.isnan(rows.iou[1]) and math.isnan(rows.precision[1]) and rows.tn[1] == 3


def test_rows_selection() -> None:
    gt = [[box("car", 0, 0, 10, 10)], [box("car", 0, 0, 10, 10)], []]
    pred = [[box("car", 0, 0, 10, 10, 0.9)], [], [box("car", 0, 0, 1, 1, 0.9)]]
    result = run(gt, pred)
    only = result.feature_counts(0, 0.0, rows=np.array([1, 2]))
    assert (only.tp[0], only.fp[0], only.fn[0], only.tn[0]) == (0, 1, 1, 0)
    mask = np.array([True, False, False])
    assert result.feature_counts(0, 0.0, rows=mask).tp.tolist() == [1]
    np.testing.assert_array_equal(result.confusion(0, 0.0, rows=mask), [[1, 0], [0, 0]])


def test_pr_curve_re_matches_at_each_confidence() -> None:
    # At c = 0 a low-confidence truck of higher IoU takes the car; at c = 0.5 it is inactive
    # and the car prediction takes it: recall rises with c. Nothing is monotone in c.
    gt = [[box("car", 0, 0, 10, 10)]]
    pred = [[box("truck", 0, 0, 10, 10, 0.2), box("car", 1, 0, 10, 10, 0.9)]]
    result = run(gt, pred, confidences=(0.0, 0.5, 1.0))
    curve = result.pr_curve(0.5)
    assert [(p.confidence, p.precision, p.recall) for p in curve] == [
        (0.0, 0.0, 0.0),
        (0.5, 1.0, 1.0),
        (1.0, None, 0.0),
    ]
    car = result.pr_curve(0.5, feature="car")
    assert [(p.precision, p.recall) for p in car] == [(0.0, 0.0), (1.0, 1.0), (None, 0.0)]
    truck = result.pr_curve(0.5, feature="truck")
    assert [(p.precision, p.recall) for p in truck] == [(0.0, None), (None, None), (None, None)]


def test_checklist_answers_pair_within_their_question() -> None:
    def answer(question: str, name: str, confidence: float | None = None) -> Annotation:
        return Annotation(f"{question}/{name}", Answer(question, name), confidence)

    gt = [[answer("tags", "a"), answer("tags", "b"), answer("weather", "sunny")]]
    pred = [[answer("tags", "c", 0.9), answer("tags", "a", 0.4), answer("other", "b", 0.9)]]
    result = run(gt, pred)
    labels = result.features
    assert labels == ("other/b", "tags/a", "tags/b", "tags/c", "weather/sunny")
    # tags/a with tags/a first (same feature), then tags/b with tags/c (cross feature);
    # weather and "other" are other questions: never paired.
    assert taken(result) == [(0, 1), (1, 0)]
    assert counts(result, "tags/a") == (1, 0, 0, 0)
    assert counts(result, "tags/b") == (0, 0, 1, 0)
    assert counts(result, "tags/c") == (0, 1, 0, 0)
    assert counts(result, "other/b") == (0, 1, 0, 0)
    assert counts(result, "weather/sunny") == (0, 0, 1, 0)
    assert result.confusion(0, 0.0)[2, 3] == 1
    # A classification covers the whole asset: IoU 1, so t = 1 matches nothing.
    assert counts(result, "tags/a", t=0.99) == (1, 0, 0, 0)
    assert counts(result, "tags/a", t=1.0) == (0, 1, 1, 0)


def test_free_text_answers_are_counted_never_matched() -> None:
    text = Annotation("caption", TextAnswer("caption", "a red car"))
    guess = Annotation("caption", TextAnswer("caption", "a red car"), 0.4)
    result = run([[text], []], [[guess, guess], [guess]], confidences=(0.0, 0.5))
    assert result.features == ()
    assert result.text_features == ("caption",)
    assert [v.tolist() for v in result.text_counts(0)] == [[1], [3]]
    assert [v.tolist() for v in result.text_counts(1)] == [[1], [0]]
    assert [v.tolist() for v in result.text_counts(0, rows=np.array([1]))] == [[0], [1]]
    assert result.confusion(0, 0.0).tolist() == [[0]]
    assert result.feature_metrics(0, 0.0).all.tn == 0


def test_thresholds_are_compared_exactly() -> None:
    result = run([[]], [[]], confidences=(0.0, 0.3))
    assert result.confidence_index(0.3) == 1
    with pytest.raises(KeyError):
        result.confidence_index(0.1 * 3)


def test_the_iou_axis_is_a_cut_of_one_walk() -> None:
    # One walk over every pair of IoU > 0; the pairs taken at t are those of IoU > t.
    gt = [[box("car", 0, 0, 10, 10), box("car", 5, 0, 10, 10)]]
    pred = [[box("car", 5, 0, 10, 10, 0.9)]]
    result = run(gt, pred)
    assert taken(result, t=0.0) == [(1, 0)]
    assert taken(result, t=0.5) == [(1, 0)]
    assert taken(result, t=1.0) == []


def test_invalid_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="feature 'car' is used as a polygon and as a box"):
        build_objects(
            [[box("car", 0, 0, 1, 1)]], [[Annotation("car", Polygon(((0, 0), (1, 0), (0, 1))))]]
        )
    with pytest.raises(ValueError, match="outside the evaluation"):
        build_objects([[box("car", 0, 0, 1, 1)]], [[]], features=["bus"])
    with pytest.raises(ValueError, match="same data rows"):
        build_objects([[]], [])
    objects = build_objects([[]], [[]])
    with pytest.raises(ValueError, match="confidence"):
        match(objects, (1.5,))
    with pytest.raises(ValueError, match="radius"):
        match(objects, (0.0,), point_radius=0.0)
    with pytest.raises(ValueError, match="IoU threshold"):
        match(objects, (0.0,)).feature_counts(0, -0.1)
