"""Is a difference between two runs real? Paired bootstrap intervals of metric deltas.

The two runs are compared on their common data rows. A resample draws as many rows as there
are, with replacement, and the same draw is applied to both runs (paired: a row's difficulty
counts for both). Per resample, each feature's precision, recall, F1 and IoU are computed
from the drawn rows' summed counts (TP, FP, FN and the matched IoU sum), exactly as the
run's own figures are, and the delta is B minus A. The interval is the 2.5th and 97.5th
percentile of the deltas over the resamples in which both values are defined; the delta is
`significant` when the interval excludes 0.

The draws are counts per row (how many times each row was drawn), so every resample is one
weighted sum: a matrix product of the weights with the rows' counts, a few resamples at a
time. The seed is fixed, so an answer is the same every time it is asked.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from domain.metrics.ratios import ratio
from projections.metrics.results import RunResults

RESAMPLES = 1_000
SEED = 20_241_206
CHUNK = 50  # resamples per matrix product
# Features given an interval (the others get null bounds): the most frequent ones.
MAX_FEATURES = 64
METRICS = ("precision", "recall", "f1", "iou")
_TP, _FP, _FN, _IOU = range(4)


@dataclass(frozen=True, slots=True)
class MetricDelta:
    feature: str | None  # None: all top-level features together (micro)
    metric: str
    a: float | None
    b: float | None
    delta: float | None
    low: float | None
    high: float | None

    @property
    def significant(self) -> bool:
        return self.low is not None and self.high is not None and (self.low > 0 or self.high < 0)


@dataclass(frozen=True, slots=True)
class _Side:
    """One run's counts on the common rows: (rows, features, 4) and which features are nested."""

    counts: np.ndarray
    nested: np.ndarray


def _side(results: RunResults, rows: np.ndarray, grid: tuple[int, float], names: list[str]) -> _Side:
    """Per common row (in `rows` order) and feature of `names`: TP, FP, FN and IoU sum."""
    cells, _ = results.cell_counts(*grid)
    position = np.full(results.n_rows, -1, dtype=np.int64)
    position[rows] = np.arange(rows.size)
    index = {name: i for i, name in enumerate(names)}
    feature_of = np.asarray([index.get(f, -1) for f in results.features], dtype=np.int64)
    at, feature = position[results.cell_row], feature_of[results.cell_feature]
    keep = (at >= 0) & (feature >= 0)
    flat = at[keep] * len(names) + feature[keep]
    counts = np.zeros((rows.size * len(names), 4), dtype=np.float64)
    for column, values in ((_TP, cells.tp), (_FP, cells.fp), (_FN, cells.fn), (_IOU, cells.iou_sum)):
        counts[:, column] = np.bincount(flat, weights=np.nan_to_num(values[keep].astype(np.float64)), minlength=counts.shape[0])
    nested = np.zeros(len(names), dtype=bool)
    for name, is_nested in zip(results.features, results.nested.tolist(), strict=True):
        if name in index:
            nested[index[name]] = is_nested
    counts = counts.reshape(rows.size, len(names), 4)
    counts[:, nested, _IOU] = np.nan  # a nested answer has no IoU (as in the run's own figures)
    return _Side(counts, nested)


def _ratios(sums: np.ndarray) -> dict[str, np.ndarray]:
    """The four ratios of summed counts (..., 4), NaN where undefined."""
    tp, fp, fn, iou_sum = (sums[..., i] for i in range(4))
    return {
        "precision": ratio(tp, tp + fp),
        "recall": ratio(tp, tp + fn),
        "f1": ratio(2 * tp, 2 * tp + fp + fn),
        "iou": ratio(iou_sum, tp + fp + fn),
    }


def _with_all(side: _Side, sums: np.ndarray) -> np.ndarray:
    """Per-feature sums (..., F, 4) with the micro sum over top-level features appended."""
    micro = sums[..., ~side.nested, :].sum(axis=-2, keepdims=True)
    return np.concatenate([sums, micro], axis=-2)


def paired_bootstrap(
    a: RunResults,
    rows_a: np.ndarray,
    grid_a: tuple[int, float],
    b: RunResults,
    rows_b: np.ndarray,
    grid_b: tuple[int, float],
    resamples: int = RESAMPLES,
    seed: int = SEED,
) -> list[MetricDelta]:
    """Deltas B − A with 95 % intervals per feature (both runs' features, the most frequent
    first, at most MAX_FEATURES) and for all features, over the common rows given in the same
    order for both runs (`rows_a[i]` and `rows_b[i]` are one data row)."""
    names = _features(a, b)
    side_a, side_b = _side(a, rows_a, grid_a, names), _side(b, rows_b, grid_b, names)
    n = rows_a.size
    point_a = _ratios(_with_all(side_a, side_a.counts.sum(axis=0)))
    point_b = _ratios(_with_all(side_b, side_b.counts.sum(axis=0)))
    deltas = {m: np.empty((resamples, len(names) + 1)) for m in METRICS}
    if n:
        # float32 products: a row is drawn a few times, counts are integers below 2^24 per
        # resample, and IoU sums keep 7 digits, well past what an interval needs.
        flat_a = side_a.counts.reshape(n, -1).astype(np.float32)
        flat_b = side_b.counts.reshape(n, -1).astype(np.float32)
        rng = np.random.default_rng(seed)
        for start in range(0, resamples, CHUNK):
            size = min(CHUNK, resamples - start)
            weights = _draws(rng, size, n)
            sums_a = _with_all(side_a, (weights @ flat_a).astype(np.float64).reshape(size, len(names), 4))
            sums_b = _with_all(side_b, (weights @ flat_b).astype(np.float64).reshape(size, len(names), 4))
            ratios_a, ratios_b = _ratios(sums_a), _ratios(sums_b)
            for m in METRICS:
                deltas[m][start : start + size] = ratios_b[m] - ratios_a[m]
    out = []
    for j, feature in enumerate([*names, None]):
        for m in METRICS:
            a_value, b_value = _number(point_a[m][j]), _number(point_b[m][j])
            delta = None if a_value is None or b_value is None else b_value - a_value
            low, high = _interval(deltas[m][:, j]) if n and delta is not None else (None, None)
            out.append(MetricDelta(feature, m, a_value, b_value, delta, low, high))
    return out


def _features(a: RunResults, b: RunResults) -> list[str]:
    """Features either run has, those with the most objects first, at most MAX_FEATURES."""
    objects: dict[str, int] = {}
    for results in (a, b):
        annotations = np.bincount(results.cell_feature, weights=results.cell_ann, minlength=len(results.features))
        for name, count in zip(results.features, annotations.tolist(), strict=True):
            objects[name] = objects.get(name, 0) + int(count)
    ranked = sorted(objects, key=lambda name: (-objects[name], name))
    return ranked[:MAX_FEATURES]


def _draws(rng: np.random.Generator, size: int, n: int) -> np.ndarray:
    """`size` resamples of n rows with replacement, as how many times each row was drawn."""
    return _counted(rng.integers(0, n, size=(size, n), dtype=np.int32), n)


@numba.njit(cache=True, parallel=True)
def _counted(picks: np.ndarray, n: int) -> np.ndarray:
    # One np.bincount over all (resample, row) pairs costs several times this: its bins miss
    # the cache. Each resample is its own row of the result, so resamples run in parallel
    # and the answer does not depend on the threads.
    weights = np.zeros((picks.shape[0], n), dtype=np.float32)
    for b in numba.prange(picks.shape[0]):
        for i in range(picks.shape[1]):
            weights[b, picks[b, i]] += 1.0
    return weights


def _interval(deltas: np.ndarray) -> tuple[float | None, float | None]:
    defined = deltas[~np.isnan(deltas)]
    if not defined.size:
        return None, None
    low, high = np.percentile(defined, [2.5, 97.5])
    return float(low), float(high)


def _number(value: float) -> float | None:
    return None if np.isnan(value) else float(value)
