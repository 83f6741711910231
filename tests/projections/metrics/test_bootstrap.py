"""Paired bootstrap intervals of two runs' metric deltas: the point deltas are the runs' own
figures on their common rows, every interval equals a literal resampling with the same draws,
and a run compared with itself differs by nothing."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from application import SplitSpec
from projections.metrics.bootstrap import (
    CHUNK,
    RESAMPLES,
    SEED,
    _drawn_on,
    _normal,
    paired_bootstrap,
)
from projections.metrics.compare import compare_runs
from tests.projections.builders import box, predict, scenario
from tests.workers.stack import Stack


def _lines(keys: list[str], good: set[int]) -> list[dict[str, Any]]:
    """A car per row: on its label for rows in `good`, far off otherwise."""
    return [
        {"dataRow": {"globalKey": key}, "name": "car", "bbox": box(top=i if i in good else i + 200), "confidence": 0.8}
        for i, key in enumerate(keys)
    ]


@pytest.fixture
def two_runs(stack: Stack) -> tuple[str, str]:
    s = scenario(stack.runtime, rows=24)
    stack.start_work()
    predict(stack.runtime, s.run_id, _lines(s.keys, good={i for i in range(24) if i % 3}))  # 16 right
    splits = {key: "TRAINING" for key in s.keys}
    second = stack.app.create_model_run(s.model_id, "run 2", s.dataset_id, actor="carol", splits=SplitSpec(assignments=splits))
    stack.wait_until_current()
    predict(stack.runtime, second.id, _lines(s.keys, good=set(range(24))))  # all right
    stack.wait_for_status(s.run_id, "IN_SYNC")
    stack.wait_for_status(second.id, "IN_SYNC")
    return s.run_id, str(second.id)


def _literal(q: Any, run_a: str, run_b: str, feature: str, metric: str) -> tuple[float, float]:
    """The interval by resampling rows one resample at a time, with the same draws, from each
    row's own counts of the feature (another path than the summed cell counts)."""
    a, b = q.loaded(run_a), q.loaded(run_b)
    common = np.intersect1d(a.keys, b.keys)
    rows = [run.rows_of_keys(common) for run in (a, b)]
    per_row = []
    for run, at in zip((a, b), rows, strict=True):
        m = run.results.feature_row_metrics(*q.grid(run, 0.5, 0.5), run.results.features.index(feature))
        per_row.append({k: getattr(m, k)[at].astype(float) for k in ("tp", "fp", "fn")})
    rng = np.random.default_rng(SEED)
    deltas = []
    for start in range(0, RESAMPLES, CHUNK):
        draws = rng.integers(0, common.size, size=(min(CHUNK, RESAMPLES - start), common.size))
        for drawn in draws:
            values = []
            for counts in per_row:
                tp, fp, fn = (counts[k][drawn].sum() for k in ("tp", "fp", "fn"))
                values.append({"precision": tp / (tp + fp) if tp + fp else np.nan, "recall": tp / (tp + fn) if tp + fn else np.nan}[metric])
            deltas.append(values[1] - values[0])
    defined = np.asarray(deltas)[~np.isnan(deltas)]
    low, high = np.percentile(defined, [2.5, 97.5])
    return float(low), float(high)


def test_deltas_are_the_runs_figures_and_intervals_a_literal_resampling(stack: Stack, two_runs: tuple[str, str]) -> None:
    q = stack.metrics_read_models.metrics
    run_a, run_b = two_runs
    found = compare_runs(q, run_a, run_b, 0.5, 0.5)
    by = {(d.feature, d.metric): d for d in found.deltas}
    car_a = next(f for f in found.a.features if f.feature == "car")
    car_b = next(f for f in found.b.features if f.feature == "car")
    for metric in ("precision", "recall", "f1", "iou"):
        d = by[("car", metric)]
        assert (d.a, d.b) == pytest.approx((getattr(car_a, metric), getattr(car_b, metric)))
        assert d.delta == pytest.approx(getattr(car_b, metric) - getattr(car_a, metric))
        assert d.low is not None and d.high is not None and d.low <= d.delta <= d.high
        total = by[(None, metric)]
        assert (total.a, total.b) == pytest.approx((getattr(found.a.all, metric), getattr(found.b.all, metric)))
    for metric in ("precision", "recall"):
        d = by[("car", metric)]
        assert (d.low, d.high) == pytest.approx(_literal(q, run_a, run_b, "car", metric))
    # 16 of 24 right against 24 of 24, B right wherever A is: B is better, and the interval
    # says it is real.
    assert by[("car", "recall")].delta == pytest.approx(24 / 24 - 16 / 24)
    assert by[("car", "recall")].significant
    # Asked again: the same answer (the seed is fixed).
    assert compare_runs(q, run_a, run_b, 0.5, 0.5).deltas == found.deltas


def test_a_run_compared_with_itself_differs_by_nothing(stack: Stack, two_runs: tuple[str, str]) -> None:
    q = stack.metrics_read_models.metrics
    run_a, _ = two_runs
    loaded = q.loaded(run_a)
    rows = np.arange(loaded.results.n_rows)
    grid = q.grid(loaded, 0.5, 0.5)
    deltas = paired_bootstrap(loaded.results, rows, grid, loaded.results, rows, grid)
    defined = [d for d in deltas if d.delta is not None]
    assert defined and all(d.delta == 0 and d.low == 0 and d.high == 0 and not d.significant for d in defined)


@pytest.fixture
def many_rows(stack: Stack) -> tuple[str, str]:
    """400 rows; run A finds the car on about 70 % of them, run B on those and about half of
    the rest (paired: B is right wherever A is)."""
    s = scenario(stack.runtime, rows=400)
    stack.start_work()
    rng = np.random.default_rng(5)
    good_a = {i for i in range(400) if rng.random() < 0.7}
    good_b = good_a | {i for i in range(400) if rng.random() < 0.5}

    def lines(good: set[int]) -> list[dict[str, Any]]:  # a car per row: on its label, or beside it
        return [
            {"dataRow": {"globalKey": key}, "name": "car", "bbox": box(top=i, left=20 if i in good else 300), "confidence": 0.8}
            for i, key in enumerate(s.keys)
        ]

    predict(stack.runtime, s.run_id, lines(good_a))
    splits = {key: "TRAINING" for key in s.keys}
    second = stack.app.create_model_run(s.model_id, "run 2", s.dataset_id, actor="carol", splits=SplitSpec(assignments=splits))
    stack.wait_until_current()
    predict(stack.runtime, second.id, lines(good_b))
    stack.wait_for_status(s.run_id, "IN_SYNC")
    stack.wait_for_status(second.id, "IN_SYNC")
    return s.run_id, str(second.id)


def test_past_the_exact_rows_the_intervals_are_those_of_drawing_every_row(stack: Stack, many_rows: tuple[str, str]) -> None:
    """The per-feature draws (exact on a feature's few rows, normal on many) give the
    intervals of drawing all rows in every resample, to within the resampling noise, and the
    same point figures."""
    q = stack.metrics_read_models.metrics
    a, b = (q.loaded(run) for run in many_rows)
    rows = np.arange(a.results.n_rows)
    assert b.results.n_rows == rows.size == 400
    grid_a, grid_b = q.grid(a, 0.5, 0.5), q.grid(b, 0.5, 0.5)
    every_row = paired_bootstrap(a.results, rows, grid_a, b.results, rows, grid_b)
    by = {(d.feature, d.metric): d for d in every_row}
    assert by[("car", "recall")].significant and by[("car", "recall")].delta > 0.1
    # Taken per feature: with 400, every column drawn exactly on its rows; with 300, the
    # weather answers (200 rows) so, car and all from the normal; with 0, all from the normal.
    for exact_rows in (400, 300, 0):
        per_feature = paired_bootstrap(a.results, rows, grid_a, b.results, rows, grid_b, all_rows=0, exact_rows=exact_rows)
        assert len(per_feature) == len(every_row)
        for mine, theirs in zip(per_feature, every_row, strict=True):
            assert (mine.feature, mine.metric) == (theirs.feature, theirs.metric)
            assert (mine.a, mine.b, mine.delta) == pytest.approx((theirs.a, theirs.b, theirs.delta))
            if theirs.low is None or theirs.high is None:
                assert (mine.low, mine.high) == (theirs.low, theirs.high), (mine, theirs)
                continue
            assert mine.low is not None and mine.high is not None, (mine, theirs)
            # Unpaired draws would give an interval about twice as wide here.
            width = theirs.high - theirs.low
            assert abs(mine.low - theirs.low) <= 0.2 * width + 1e-9, (exact_rows, mine, theirs)
            assert abs(mine.high - theirs.high) <= 0.2 * width + 1e-9, (exact_rows, mine, theirs)
        assert paired_bootstrap(a.results, rows, grid_a, b.results, rows, grid_b, all_rows=0, exact_rows=exact_rows) == per_feature


def test_the_draws_on_a_features_rows_and_the_normal_have_the_resampled_sums_spread() -> None:
    """Of 1,000 rows, 60 have counts: drawn on those 60 alone (how many draws land there is
    itself random) or from the normal of the sums, the resampled sums have the mean and the
    spread of drawing all 1,000 rows, covariances included."""
    rng = np.random.default_rng(3)
    n, k, resamples = 1_000, 60, 4_000
    counts = np.zeros((n, 8))
    counts[:k] = rng.integers(0, 4, size=(k, 8))
    counts[:k, 4:] += counts[:k, :4]  # the second run's counts follow the first's
    literal = np.stack([counts[rng.integers(0, n, size=n)].sum(axis=0) for _ in range(resamples)])
    few = _drawn_on(np.random.default_rng(1), counts[:k], n, resamples)
    normal = _normal(np.random.default_rng(2), counts.sum(axis=0), counts.T @ counts, n, resamples)
    for drawn in (few, normal):
        assert drawn.mean(axis=0) == pytest.approx(literal.mean(axis=0), rel=0.03)
        assert np.cov(drawn.T) == pytest.approx(np.cov(literal.T), rel=0.12, abs=2.0)


def test_normal_draws_of_counts_few_rows_have_are_never_negative() -> None:
    """A count that 1 of 1,000 rows has (a rare false positive) would be drawn below 0 in
    about a sixth of the normal's draws; sums of counts never are."""
    counts = np.zeros((1_000, 8))
    counts[:500, [0, 4]] = 1  # TPs on half the rows
    counts[0, [1, 5]] = 1  # the rare FP
    drawn = _normal(np.random.default_rng(4), counts.sum(axis=0), counts.T @ counts, 1_000, 2_000)
    assert drawn.min() >= 0
    assert (drawn[:, 1] == 0).mean() > 0.1  # the clipped ones
    assert drawn[:, 0].mean() == pytest.approx(500, rel=0.02)



def test_common_rows_out_of_order_are_refused(stack: Stack, many_rows: tuple[str, str]) -> None:
    """Both runs' cells are read side by side in row order: rows given otherwise would pair
    one run's row with another of the other run's."""
    q = stack.metrics_read_models.metrics
    a, b = (q.loaded(run) for run in many_rows)
    shuffled = np.random.default_rng(8).permutation(a.results.n_rows)
    grid_a, grid_b = q.grid(a, 0.5, 0.5), q.grid(b, 0.5, 0.5)
    with pytest.raises(ValueError, match="ascending"):
        paired_bootstrap(a.results, shuffled, grid_a, b.results, shuffled, grid_b, all_rows=0)
