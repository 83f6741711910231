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

That product costs resamples × rows × features, a second at 100,000 rows. Past ALL_ROWS
common rows the same distribution is drawn per feature (and for all features together)
from the rows where that feature has an object in either run, the others adding nothing to
its sums: one pass over the runs' cells gives each feature's rows, sums and second moments.

- A feature on at most EXACT_ROWS rows is resampled exactly: how many of the n draws land
  on its k rows is Binomial(n, k/n), and those draws fall uniformly on the k rows (the
  multinomial's marginal on those rows).
- A feature on more rows has resampled sums that are, to well within the resampling noise,
  normal: their mean is the rows' sum S and their covariance the multinomial's, M − S Sᵀ/n
  (M the sum of each row's outer product of its 8 counts, both runs side by side). The
  resamples are drawn from that normal and go through the same ratios and percentiles.
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
# Up to this many common rows, every resample draws every row (the matrix product).
ALL_ROWS = 2_000
# Past it, a feature on up to this many rows is resampled exactly on its rows; one on more
# has its resampled sums drawn from their normal distribution.
EXACT_ROWS = 300
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
    at, column, values = _cells(results, rows, grid, names)
    keep = (at >= 0) & (column >= 0)
    counts = np.zeros((rows.size, len(names), 4), dtype=np.float64)
    counts[at[keep], column[keep]] = np.column_stack([v[keep] for v in values])  # one cell per (row, feature)
    nested = _nested(results, names)
    counts[:, nested, _IOU] = np.nan  # a nested answer has no IoU (as in the run's own figures)
    return _Side(counts, nested)


def _nested(results: RunResults, names: list[str]) -> np.ndarray:
    """Which features of `names` are nested answers in the run."""
    index = {name: i for i, name in enumerate(results.features)}
    return np.asarray([name in index and bool(results.nested[index[name]]) for name in names], dtype=bool)


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
    all_rows: int = ALL_ROWS,
    exact_rows: int = EXACT_ROWS,
) -> list[MetricDelta]:
    """Deltas B − A with 95 % intervals per feature (both runs' features, the most frequent
    first, at most MAX_FEATURES) and for all features, over the common rows given in the same
    order for both runs (`rows_a[i]` and `rows_b[i]` are one data row), ascending in both."""
    names = _features(a, b)
    n = rows_a.size
    if (np.diff(rows_a) < 0).any() or (np.diff(rows_b) < 0).any():
        raise ValueError("the common rows must be given in ascending order in both runs")
    if n <= all_rows:
        side_a, side_b = _side(a, rows_a, grid_a, names), _side(b, rows_b, grid_b, names)
        point_a = _ratios(_with_all(side_a, side_a.counts.sum(axis=0)))
        point_b = _ratios(_with_all(side_b, side_b.counts.sum(axis=0)))
        deltas = _all_rows_drawn(side_a, side_b, resamples, seed) if n else None
    else:
        moments = _Moments.of(a, rows_a, grid_a, b, rows_b, grid_b, names)
        point_a, point_b = moments.points()
        deltas = moments.resampled(resamples, seed, exact_rows)
    bounds = {m: _intervals(deltas[m]) for m in METRICS} if deltas is not None else None
    out = []
    for j, feature in enumerate([*names, None]):
        for m in METRICS:
            a_value, b_value = _number(point_a[m][j]), _number(point_b[m][j])
            delta = None if a_value is None or b_value is None else b_value - a_value
            low, high = (None, None)
            if bounds is not None and delta is not None:
                low, high = _number(bounds[m][0, j]), _number(bounds[m][1, j])
            out.append(MetricDelta(feature, m, a_value, b_value, delta, low, high))
    return out


def _all_rows_drawn(side_a: _Side, side_b: _Side, resamples: int, seed: int) -> dict[str, np.ndarray]:
    """(resamples, F + 1) deltas per metric, each resample drawing all n rows."""
    n, n_features = side_a.counts.shape[:2]
    deltas = {m: np.empty((resamples, n_features + 1)) for m in METRICS}
    # float32 products: a row is drawn a few times, counts are integers below 2^24 per
    # resample, and IoU sums keep 7 digits, well past what an interval needs.
    flat_a = side_a.counts.reshape(n, -1).astype(np.float32)
    flat_b = side_b.counts.reshape(n, -1).astype(np.float32)
    rng = np.random.default_rng(seed)
    for start in range(0, resamples, CHUNK):
        size = min(CHUNK, resamples - start)
        weights = _draws(rng, size, n)
        sums_a = _with_all(side_a, (weights @ flat_a).astype(np.float64).reshape(size, n_features, 4))
        sums_b = _with_all(side_b, (weights @ flat_b).astype(np.float64).reshape(size, n_features, 4))
        ratios_a, ratios_b = _ratios(sums_a), _ratios(sums_b)
        for m in METRICS:
            deltas[m][start : start + size] = ratios_b[m] - ratios_a[m]
    return deltas


@dataclass(frozen=True, slots=True)
class _Moments:
    """Per column (each feature of `names`, then all top-level ones together): on how many
    common rows it has an object in either run (`rows`), the sums of its 8 counts (A's TP,
    FP, FN, IoU sum, then B's) over them, their second moments, and, for columns on few
    rows, each row's counts (`counts[offsets[j] : offsets[j] + rows[j]]`)."""

    n: int
    nested: np.ndarray  # (F + 1,) the last column (all) is not
    rows: np.ndarray  # (F + 1,)
    sums: np.ndarray  # (F + 1, 8)
    second: np.ndarray  # (F + 1, 8, 8)
    cells: tuple[np.ndarray, ...]  # the runs' cells, for collecting a few columns' rows

    @classmethod
    def of(
        cls, a: RunResults, rows_a: np.ndarray, grid_a: tuple[int, float],
        b: RunResults, rows_b: np.ndarray, grid_b: tuple[int, float], names: list[str],
    ) -> _Moments:  # fmt: skip
        pos_a, feature_a, values_a = _cells(a, rows_a, grid_a, names)
        pos_b, feature_b, values_b = _cells(b, rows_b, grid_b, names)
        nested = np.append(_nested(a, names) | _nested(b, names), False)
        cells = (pos_a, feature_a, values_a, pos_b, feature_b, values_b, ~nested)
        rows, sums, second, _ = _row_moments(*cells, np.full(nested.size, -1, dtype=np.int64), 0)
        return cls(int(rows_a.size), nested, rows, sums, second, cells)

    def points(self) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        return self._ratios(self.sums[:, :4]), self._ratios(self.sums[:, 4:])

    def _ratios(self, sums: np.ndarray) -> dict[str, np.ndarray]:
        ratios = _ratios(sums)
        ratios["iou"][..., self.nested] = np.nan  # a nested answer has no IoU
        return ratios

    def resampled(self, resamples: int, seed: int, exact_rows: int) -> dict[str, np.ndarray]:
        """(resamples, F + 1) deltas per metric: each column exactly on its rows when they are
        at most `exact_rows`, else from its sums' normal distribution."""
        columns = self.rows.size
        few = (self.rows > 0) & (self.rows <= exact_rows)
        offsets = np.full(columns, -1, dtype=np.int64)
        offsets[few] = np.concatenate([[0], np.cumsum(self.rows[few])[:-1]]) if few.any() else []
        counts = _row_moments(*self.cells, offsets, int(self.rows[few].sum()))[3] if few.any() else None
        sums = np.zeros((resamples, columns, 8))
        for j in range(columns):
            rng = np.random.default_rng([seed, j])
            k = int(self.rows[j])
            if counts is not None and few[j]:
                sums[:, j] = _drawn_on(rng, counts[offsets[j] : offsets[j] + k], self.n, resamples)
            elif k:
                sums[:, j] = _normal(rng, self.sums[j], self.second[j], self.n, resamples)
        ratios_a, ratios_b = self._ratios(sums[..., :4]), self._ratios(sums[..., 4:])
        return {m: ratios_b[m] - ratios_a[m] for m in METRICS}


def _cells(
    results: RunResults, rows: np.ndarray, grid: tuple[int, float], names: list[str]
) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, ...]]:
    """The run's cells, each with its common row (its place in `rows`; -1 for a row not in
    common), its column in `names` (-1 for a feature not among them), and its TP, FP, FN and
    IoU sum (0 for a nested answer's IoU). The cells come in row order, so with the common
    rows ascending their places do too: both runs' cells are then read side by side."""
    cells, _ = results.cell_counts(*grid)
    position = np.full(results.n_rows, -1, dtype=np.int64)
    position[rows] = np.arange(rows.size)
    index = {name: i for i, name in enumerate(names)}
    column_of = np.asarray([index.get(f, -1) for f in results.features], dtype=np.int64)
    at, column = position[results.cell_row], column_of[results.cell_feature]
    values = tuple(np.asarray(v, dtype=np.float64) for v in (cells.tp, cells.fp, cells.fn, np.nan_to_num(cells.iou_sum)))
    return at, column, values


def _drawn_on(rng: np.random.Generator, counts: np.ndarray, n: int, resamples: int) -> np.ndarray:
    """(resamples, 8) sums of n rows drawn with replacement from n rows, `counts` being the
    only ones that are not all zero: Binomial(n, k/n) draws land on them, uniformly."""
    k = counts.shape[0]
    landing = rng.binomial(n, k / n, size=resamples)
    return _summed(counts, landing, rng.integers(0, k, size=int(landing.sum())))


@numba.njit(cache=True)
def _summed(counts, landing, picks):
    """Per resample, the sum of the rows picked for it (`landing[b]` picks each, in turn)."""
    out = np.zeros((landing.size, counts.shape[1]))
    at = 0
    for b in range(landing.size):
        for _ in range(landing[b]):
            row = picks[at]
            at += 1
            for c in range(counts.shape[1]):
                out[b, c] += counts[row, c]
    return out


def _normal(rng: np.random.Generator, total: np.ndarray, second: np.ndarray, n: int, resamples: int) -> np.ndarray:
    """(resamples, 8) draws of the resampled sums' normal distribution: mean `total`,
    covariance that of a multinomial resample of n rows; none below 0, as no sum of counts
    is (a count that few rows have can otherwise be drawn negative)."""
    covariance = second - np.outer(total, total) / n
    values, vectors = np.linalg.eigh((covariance + covariance.T) / 2)
    root = vectors * np.sqrt(np.clip(values, 0.0, None))
    return np.maximum(total + rng.standard_normal((resamples, total.size)) @ root.T, 0.0)


@numba.njit(cache=True)
def _row_moments(pos_a, column_a, values_a, pos_b, column_b, values_b, top, offsets, total):
    """One pass over both runs' cells (in row order): per column, the rows it is on, the sums
    of its 8 counts and their second moments (the last column sums the top-level ones); and
    the counts of each row of the columns with an offset (≥ 0), written from there on."""
    columns = top.size
    last = columns - 1
    rows = np.zeros(columns, dtype=np.int64)
    sums = np.zeros((columns, 8))
    second = np.zeros((columns, 8, 8))
    out = np.zeros((total, 8))
    x = np.zeros((columns, 8))
    touched = np.zeros(columns, dtype=np.bool_)
    listed = np.empty(columns, dtype=np.int64)
    i_a, i_b, m_a, m_b = 0, 0, pos_a.size, pos_b.size
    while True:
        # Cells of rows not in common (-1) or of features not listed (-1) are passed over.
        while i_a < m_a and (pos_a[i_a] < 0 or column_a[i_a] < 0):
            i_a += 1
        while i_b < m_b and (pos_b[i_b] < 0 or column_b[i_b] < 0):
            i_b += 1
        if i_a >= m_a and i_b >= m_b:
            break
        row = min(pos_a[i_a] if i_a < m_a else 1 << 62, pos_b[i_b] if i_b < m_b else 1 << 62)
        count = 0
        for side in range(2):
            pos, column, values = (pos_a, column_a, values_a) if side == 0 else (pos_b, column_b, values_b)
            i = i_a if side == 0 else i_b
            while i < pos.size and (pos[i] == row or pos[i] < 0 or column[i] < 0):
                j = column[i]
                if pos[i] < 0 or j < 0:
                    i += 1
                    continue
                for target in (j, last):
                    if target == last and not top[j]:
                        continue
                    if not touched[target]:
                        touched[target] = True
                        listed[count] = target
                        count += 1
                    for c in range(4):
                        x[target, side * 4 + c] += values[c][i]
                i += 1
            if side == 0:
                i_a = i
            else:
                i_b = i
        for t in range(count):
            j = listed[t]
            if offsets[j] >= 0:
                out[offsets[j] + rows[j]] = x[j]
            rows[j] += 1
            for c in range(8):
                sums[j, c] += x[j, c]
                for d in range(8):
                    second[j, c, d] += x[j, c] * x[j, d]
            x[j, :] = 0.0
            touched[j] = False
    return rows, sums, second, out


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


def _intervals(deltas: np.ndarray) -> np.ndarray:
    """(2, columns): the 2.5th and 97.5th percentiles of each column's defined deltas (NaN
    where none is), interpolated linearly between the closest ranks as np.percentile does."""
    ordered = np.sort(deltas, axis=0)  # NaN last
    defined = (~np.isnan(deltas)).sum(axis=0)
    columns = np.arange(deltas.shape[1])
    out = np.full((2, deltas.shape[1]), np.nan)
    for i, q in enumerate((0.025, 0.975)):
        rank = (defined - 1) * q
        below = np.floor(rank).astype(np.int64)
        above = np.minimum(below + 1, np.maximum(defined - 1, 0))
        low, high = ordered[np.maximum(below, 0), columns], ordered[above, columns]
        out[i] = np.where(defined > 0, low + (high - low) * (rank - below), np.nan)
    return out


def _number(value: float) -> float | None:
    return None if np.isnan(value) else float(value)
