"""Paired bootstrap intervals of two runs' metric deltas: the point deltas are the runs' own
figures on their common rows, every interval equals a literal resampling with the same draws,
and a run compared with itself differs by nothing."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from application import SplitSpec
from projections.metrics.bootstrap import CHUNK, RESAMPLES, SEED, paired_bootstrap
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
