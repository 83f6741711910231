"""The engine against the literal reference on random rows of every kind, at every grid
point, and the invariants of METRICS.md §2."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.annotations.objects import Annotation, Box, TextAnswer
from domain.metrics import MatchResult, build_objects, grid, match
from tests.domain.metrics.random_rows import FEATURES, MATCHED_FEATURES, random_rows
from tests.domain.metrics.reference import PointResult, Reference, feature_ratios, row_ious

CONFIDENCES = (0.0, 0.2, 0.5, 0.7, 1.0)
IOUS = (0.0, 0.2, 0.25, 1 / 3, 0.5, 0.75, 1.0)
RADIUS = 30.0


def _dense(point: PointResult, n_rows: int, features: tuple[str, ...]) -> dict[str, np.ndarray]:
    index = {f: k for k, f in enumerate(features)}
    out = {}
    for name in ("tp", "fp", "fn", "tn", "iou_sum"):
        array = np.zeros((n_rows, len(features)))
        for (r, f), value in getattr(point, name).items():
            array[r, index[f]] = value
        out[name] = array
    return out


def _engine_dense(result: MatchResult, ci: int, t: float) -> dict[str, np.ndarray]:
    shape = (result.n_rows, len(result.features))
    cells = result.cell_counts(ci, t)
    out = {name: np.zeros(shape) for name in ("tp", "fp", "fn", "iou_sum")}
    for name in out:
        out[name][cells.row, cells.feature] = getattr(cells.counts, name)
    # Every cell not present at c is a TN, and only those.
    out["tn"] = np.ones(shape)
    out["tn"][cells.row, cells.feature] = 0
    return out


def _upload_ranks(rows: list[list[Annotation]]) -> list[list[int]]:
    """Reference upload index -> engine rank in its row (text answers are kept apart)."""
    ranks = []
    for objects in rows:
        rank, mapping = 0, []
        for a in objects:
            mapping.append(rank)
            rank += not isinstance(a.geometry, TextAnswer)
        ranks.append(mapping)
    return ranks


def _compare(
    gt: list[list[Annotation]],
    pred: list[list[Annotation]],
    features: tuple[str, ...],
    confidences: tuple[float, ...] = CONFIDENCES,
    ious: tuple[float, ...] = IOUS,
    radius: float = RADIUS,
) -> None:
    objects = build_objects(gt, pred, features)
    result = match(objects, confidences, radius)
    reference = Reference(gt, pred, features, radius)
    table = grid(result, ious, per_row=True)
    n_rows = len(gt)
    gt_rank, pred_rank = _upload_ranks(gt), _upload_ranks(pred)
    labels = (*features, None)
    for ci, c in enumerate(confidences):
        for ti, t in enumerate(ious):
            expected = reference.at(c, t)
            where = f"at c={c}, t={t}"
            want = _dense(expected, n_rows, features)
            got = _engine_dense(result, ci, t)
            for name in ("tp", "fp", "fn", "tn"):
                np.testing.assert_array_equal(got[name], want[name], err_msg=f"{name} {where}")
            np.testing.assert_allclose(got["iou_sum"], want["iou_sum"], rtol=1e-12, err_msg=where)

            # The very pairs, by data row and upload positions.
            taken = result.taken_at(ci, t)
            engine_pairs = {
                (
                    int(r),
                    int(a - objects.ground_truth.offsets[r]),
                    int(p - objects.predictions.offsets[r]),
                )
                for r, a, p in zip(
                    result.taken.row[taken],
                    result.taken.ann[taken],
                    result.taken.pred[taken],
                    strict=True,
                )
            }
            reference_pairs = {(r, gt_rank[r][i], pred_rank[r][j]) for r, i, j in expected.taken}
            assert engine_pairs == reference_pairs, where

            # Feature level, from the grid tables and from the per-point call.
            counts = result.feature_counts(ci, t)
            for name in ("tp", "fp", "fn", "tn"):
                np.testing.assert_array_equal(getattr(counts, name), want[name].sum(axis=0))
                np.testing.assert_array_equal(
                    getattr(table.per_feature, name)[ci, ti], want[name].sum(axis=0)
                )
            sums = {name: want[name].sum(axis=0) for name in want}
            for k, f in enumerate(features):
                ratios = feature_ratios(
                    *(int(sums[n][k]) for n in ("tp", "fp", "fn")), sums["iou_sum"][k]
                )
                for name, value in zip(("precision", "recall", "f1", "iou"), ratios, strict=True):
                    expected_value = np.nan if value is None else value
                    got_value = getattr(table.per_feature, name)[ci, ti, k]
                    np.testing.assert_allclose(
                        got_value,
                        expected_value,
                        rtol=1e-12,
                        equal_nan=True,
                        err_msg=f"{name} {f} {where}",
                    )

            # Confusion, including the None row and column.
            matrix = result.confusion(ci, t)
            want_matrix = np.array([[expected.confusion[g, f] for f in labels] for g in labels])
            np.testing.assert_array_equal(matrix, want_matrix, err_msg=where)
            np.testing.assert_array_equal(table.confusion[ci, ti], want_matrix)

            # Data-row level.
            rows = result.row_metrics(ci, t)
            for name in ("tp", "fp", "fn", "tn"):
                np.testing.assert_array_equal(getattr(rows, name), want[name].sum(axis=1))
                np.testing.assert_array_equal(
                    getattr(table.per_row, name)[ci, ti], want[name].sum(axis=1)
                )
            expected_iou = row_ious(want["tp"], want["fp"], want["fn"], want["iou_sum"])
            np.testing.assert_allclose(
                rows.iou, expected_iou, rtol=1e-12, equal_nan=True, err_msg=where
            )
            np.testing.assert_allclose(
                table.per_row.iou[ci, ti], expected_iou, rtol=1e-12, equal_nan=True
            )


@pytest.mark.parametrize("kind", list(FEATURES))
def test_each_kind_alone_matches_the_reference(kind: str) -> None:
    gt, pred = random_rows(seed=len(kind), n_rows=400, kinds=(kind,))
    _compare(gt, pred, MATCHED_FEATURES)


def test_every_kind_together_matches_the_reference() -> None:
    gt, pred = random_rows(seed=7, n_rows=600)
    _compare(gt, pred, MATCHED_FEATURES)


def test_a_radius_of_another_size_matches_the_reference() -> None:
    gt, pred = random_rows(seed=11, n_rows=200, kinds=("point", "polyline"))
    _compare(gt, pred, MATCHED_FEATURES, radius=70.0)


def test_thresholds_in_any_order_and_off_the_grid() -> None:
    gt, pred = random_rows(seed=13, n_rows=200, kinds=("box", "span"))
    _compare(gt, pred, MATCHED_FEATURES, confidences=(0.9, 0.05, 0.5, 0.0), ious=(0.9, 0.1, 0.6))


# Small boxes on a 4-pixel grid: ties everywhere, IoUs of 1/2, 1/3, 1/4 exactly.
_boxes = st.builds(
    Box,
    st.integers(0, 4).map(float),
    st.integers(0, 4).map(float),
    st.integers(1, 3).map(float),
    st.integers(1, 3).map(float),
)
_features = st.sampled_from(("car", "truck"))
_confidence = st.sampled_from((None, 0.0, 0.5, 1.0, 0.25))
_gt_rows = st.lists(
    st.lists(st.builds(Annotation, _features, _boxes), max_size=4), min_size=1, max_size=6
)


@st.composite
def _box_rows(draw: st.DrawFn) -> tuple[list[list[Annotation]], list[list[Annotation]]]:
    gt = draw(_gt_rows)
    prediction = st.builds(Annotation, _features, _boxes, _confidence)
    pred = [draw(st.lists(prediction, max_size=5)) for _ in gt]
    return gt, pred


@settings(max_examples=150, deadline=None)
@given(_box_rows())
def test_random_box_rows_match_the_reference(
    rows: tuple[list[list[Annotation]], list[list[Annotation]]],
) -> None:
    gt, pred = rows
    _compare(
        gt,
        pred,
        ("bus", "car", "truck"),
        confidences=(0.0, 0.25, 0.5, 1.0),
        ious=(0.0, 0.25, 1 / 3, 0.5, 1.0),
    )


def test_invariants_at_every_grid_point() -> None:
    gt, pred = random_rows(seed=3, n_rows=800)
    result = match(build_objects(gt, pred, MATCHED_FEATURES), CONFIDENCES, RADIUS)
    n = len(MATCHED_FEATURES)
    checked = 0
    for ci, c in enumerate(CONFIDENCES):
        annotations, active = result.object_counts(ci)
        previous_tp = None
        for t in IOUS:
            counts = result.feature_counts(ci, t)
            np.testing.assert_array_equal(counts.tp + counts.fn, annotations)
            np.testing.assert_array_equal(counts.tp + counts.fp, active)
            matrix = result.confusion(ci, t)
            np.testing.assert_array_equal(matrix[:n].sum(axis=1), annotations)
            np.testing.assert_array_equal(matrix[:, :n].sum(axis=0), active)
            # The None row holds the untaken predictions, the None column the untaken annotations.
            taken = result.taken_at(ci, t)
            np.testing.assert_array_equal(
                matrix[n, :n], active - np.bincount(result.taken.pred_feature[taken], minlength=n)
            )
            assert matrix[n, n] == 0
            if previous_tp is not None:
                assert (counts.tp <= previous_tp).all(), f"TP rose with t at c={c}, t={t}"
            previous_tp = counts.tp
            checked += 1
        # The active predictions are those with confidence >= c, a missing one being 1.
        expected_active = sum(
            1
            for row in pred
            for p in row
            if not isinstance(p.geometry, TextAnswer)
            and (1.0 if p.confidence is None else p.confidence) >= c
        )
        assert active.sum() == expected_active
    assert checked == len(CONFIDENCES) * len(IOUS)
    # The data has what the invariants are about: cross-feature pairs and TP that falls with t.
    first = result.feature_counts(0, 0.0)
    last = result.feature_counts(0, 0.75)
    assert first.tp.sum() > last.tp.sum() > 0
    assert result.confusion(0, 0.0)[:n, :n].sum() > np.trace(result.confusion(0, 0.0)[:n, :n])


def test_a_row_selection_sums_only_its_rows() -> None:
    gt, pred = random_rows(seed=21, n_rows=300, kinds=("box", "span"))
    result = match(build_objects(gt, pred, MATCHED_FEATURES), CONFIDENCES, RADIUS)
    selected = np.arange(300) % 3 == 0
    table = grid(result, IOUS, rows=selected)
    for ci in range(len(CONFIDENCES)):
        for ti, t in enumerate(IOUS):
            cells = _engine_dense(result, ci, t)
            counts = result.feature_counts(ci, t, rows=np.flatnonzero(selected))
            for name in ("tp", "fp", "fn", "tn"):
                expected = cells[name][selected].sum(axis=0)
                np.testing.assert_array_equal(getattr(counts, name), expected)
                np.testing.assert_array_equal(getattr(table.per_feature, name)[ci, ti], expected)
            matrix = result.confusion(ci, t, rows=selected)
            assert matrix.sum() < result.confusion(ci, t).sum()
            np.testing.assert_array_equal(table.confusion[ci, ti], matrix)
