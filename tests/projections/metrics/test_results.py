"""The compact match table and its query-time cuts give exactly the engine's numbers."""

from __future__ import annotations

import uuid

import numpy as np
import pytest

from domain.metrics import build_objects, match
from projections.metrics.assemble import assemble
from projections.metrics.match_table import from_match, from_payload, to_parts
from projections.metrics.results import RunResults
from tests.domain.metrics.random_rows import MATCHED_FEATURES, random_rows

CONFIDENCES = (0.0, 0.2, 0.5, 0.7, 1.0)
IOUS = (0.0, 0.2, 0.25, 1 / 3, 0.5, 0.75, 1.0)


def _evaluate(seed: int, n_rows: int, mixed: bool = False):  # noqa: ANN202 - the engine's result and ours
    """`mixed`: the polygon features hold masks too."""
    gt, pred = random_rows(seed, n_rows, mixed=mixed)
    result = match(build_objects(gt, pred, MATCHED_FEATURES), CONFIDENCES, point_radius=30.0)
    row_ids = sorted(str(uuid.uuid4()) for _ in range(n_rows))
    return result, row_ids, from_match(result, row_ids)


def _same(a: np.ndarray, b: np.ndarray) -> None:
    np.testing.assert_allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float), rtol=1e-12, atol=1e-12, equal_nan=True)


@pytest.mark.parametrize(("seed", "mixed"), [(1, False), (2, False), (3, False), (4, True)])
def test_every_cut_gives_the_engines_counts(seed: int, mixed: bool) -> None:
    result, _, table = _evaluate(seed, 60, mixed)
    ours = RunResults(table)
    rng = np.random.default_rng(seed)
    half = rng.random(60) < 0.5
    for ci in range(len(CONFIDENCES)):
        for t in IOUS:
            for mask in (None, half):
                expected = result.feature_counts(ci, t, mask)
                counts, annotations, predictions = ours.feature_counts(ci, t, mask)
                for name in ("tp", "fp", "fn", "tn", "iou_sum"):
                    _same(getattr(counts, name), getattr(expected, name))
                _same(ours.confusion(ci, t, mask), result.confusion(ci, t, mask))
            expected_rows = result.row_metrics(ci, t)
            got_rows = ours.row_metrics(ci, t)
            for name in ("tp", "fp", "fn", "tn", "precision", "recall", "f1", "iou"):
                _same(getattr(got_rows, name), getattr(expected_rows, name))
    for t in IOUS:
        for feature in (None, "car", "weather/sunny"):
            expected_curve = result.pr_curve(t, feature, half)
            index = None if feature is None else MATCHED_FEATURES.index(feature)
            got = ours.pr_curve(t, index, half)
            assert [(p.confidence, p.precision, p.recall) for p in got] == [
                (p.confidence, p.precision, p.recall) for p in expected_curve
            ]


def test_a_feature_scoped_row_metric_is_the_rows_cell() -> None:
    result, _, table = _evaluate(7, 40)
    ours = RunResults(table)
    f = MATCHED_FEATURES.index("car")
    cells = result.cell_counts(2, 0.25)
    got = ours.feature_row_metrics(2, 0.25, f)
    for row in range(40):
        hit = np.flatnonzero((cells.row == row) & (cells.feature == f))
        if hit.size:
            assert got.tp[row] == cells.counts.tp[hit[0]] and got.fp[row] == cells.counts.fp[hit[0]]
            assert got.tn[row] == 0
        else:
            assert (got.tp[row], got.fp[row], got.fn[row], got.tn[row]) == (0, 0, 0, 1)


def test_parts_stay_small_and_reassemble_to_the_same_table() -> None:
    result, row_ids, table = _evaluate(11, 120)
    parts = to_parts(table, max_bytes=8_000)
    assert len(parts) > 2
    tables = [from_payload(p) for p in parts]
    assert [r for t in tables for r in t.row_ids] == row_ids
    whole = assemble(tables, row_ids)
    ours = RunResults(whole)
    for ci in range(len(CONFIDENCES)):
        _same(ours.confusion(ci, 0.2), result.confusion(ci, 0.2))
        expected = result.feature_counts(ci, 0.5)
        got, _, _ = ours.feature_counts(ci, 0.5)
        _same(got.tp, expected.tp)
        _same(got.tn, expected.tn)


def test_confusion_cell_rows_are_the_rows_with_that_outcome() -> None:
    result, _, table = _evaluate(5, 50)
    ours = RunResults(table)
    n = len(MATCHED_FEATURES)
    matrix = ours.confusion(1, 0.2)
    for g in range(n + 1):
        for f in range(n + 1):
            rows = ours.confusion_cell_rows(1, 0.2, None if g == n else g, None if f == n else f, None)
            if g == n and f == n:
                continue
            sub = sum(
                int(ours.confusion(1, 0.2, np.isin(np.arange(50), [r]))[g, f] > 0) for r in range(50)
            )
            assert rows.size == sub
            assert (matrix[g, f] > 0) == (rows.size > 0)


def test_rows_per_confusion_cell_all_at_once() -> None:
    _, _, table = _evaluate(9, 70)
    ours = RunResults(table)
    n = len(MATCHED_FEATURES)
    mask = np.random.default_rng(3).random(70) < 0.6
    for ci, t in ((0, 0.0), (2, 0.25), (3, 0.5)):
        for selection in (None, mask):
            rows = ours.confusion_rows(ci, t, selection)
            for g in range(n + 1):
                for f in range(n + 1):
                    if g == n and f == n:
                        continue
                    one = ours.confusion_cell_rows(ci, t, None if g == n else g, None if f == n else f, selection)
                    assert rows[g, f] == one.size


def test_figures_per_split_add_up_to_the_general_path() -> None:
    from projections.metrics.split_figures import SplitFigures

    result, _, table = _evaluate(13, 90)
    ours = RunResults(table)
    splits = np.random.default_rng(4).integers(0, 4, 90).astype(np.uint8)
    figures = SplitFigures(ours, splits, 4)
    n = len(MATCHED_FEATURES)
    for chosen in ([0, 1, 2, 3], [1], [0, 2], []):
        mask = np.isin(splits, chosen)
        for ci in range(len(CONFIDENCES)):
            for t in (0.0, 0.25, 0.5):
                expected, annotations, predictions = ours.feature_counts(ci, t, mask)
                got, got_annotations, got_predictions = figures.feature_counts(ci, t, chosen)
                for name in ("tp", "fp", "fn", "tn", "iou_sum"):
                    _same(getattr(got, name), getattr(expected, name))
                _same(got_annotations, annotations)
                keys, counts, rows = figures.confusion(ci, t, chosen)
                dense = np.zeros((n + 1) ** 2, dtype=np.int64)
                dense[keys] = counts
                _same(dense.reshape(n + 1, n + 1), ours.confusion(ci, t, mask))
                dense_rows = np.zeros((n + 1) ** 2, dtype=np.int64)
                dense_rows[keys] = rows
                _same(dense_rows.reshape(n + 1, n + 1), ours.confusion_rows(ci, t, mask))
        for feature in (None, 3):
            assert figures.pr_curve(0.25, feature, chosen) == ours.pr_curve(0.25, feature, mask)
