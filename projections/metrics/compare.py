"""Two runs of one model side by side, on the data rows both evaluated.

Both runs' figures are computed over their common rows (and the filter, which each run
answers for its own rows: a row is compared when both select it), at one grid point that
both runs have. Rows where run B is worse than run A on a chosen metric come most worse
first: higher is better for every metric except FP and FN. Each feature's deltas come with
a 95 % paired bootstrap interval (projections/metrics/bootstrap.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

import numpy as np

from domain.errors import ValidationFailed
from projections.metrics.as_of import run_at
from projections.metrics.bootstrap import MetricDelta, paired_bootstrap
from projections.metrics.filters import Clause, metric_values
from projections.metrics.loader import LoadedRun
from projections.metrics.queries import MetricQueries
from projections.metrics.records import MetricsRecord, RowRef
from projections.postgres_view import encode_cursor, int_cursor, page_size
from projections.records import Page

LOWER_IS_BETTER = frozenset({"fp", "fn"})


@dataclass(frozen=True, slots=True)
class WorseRow:
    row: RowRef
    a: float
    b: float
    by: float  # how much worse B is (always > 0)


@dataclass(frozen=True, slots=True)
class WorseRows:
    """The compared rows where B is worse than A, most worse first: a page is a slice of
    this ordering, with its rows' global keys."""

    queries: MetricQueries
    a: LoadedRun
    rows_a: np.ndarray  # A's row number per compared row
    values_a: np.ndarray  # the metric per compared row, in A and in B
    values_b: np.ndarray
    worse_by: np.ndarray
    order: np.ndarray  # the compared rows where B is worse, most worse first

    def page(self, first: int | None = None, after: str | None = None) -> Page:
        size = page_size(first)
        start = int_cursor("worse_rows", after) or 0
        chosen = self.order[start : start + size]
        ids = self.a.ids_at(self.rows_a[chosen])
        keys = self.queries.global_keys(self.a, ids)
        items = [
            WorseRow(
                RowRef(row_id, keys.get(row_id, "")),
                float(self.values_a[i]), float(self.values_b[i]), float(self.worse_by[i]),
            )  # fmt: skip
            for row_id, i in zip(ids, chosen.tolist(), strict=True)
        ]
        end = start + len(items)
        cursor = encode_cursor("worse_rows", end) if items else None
        return Page(items, int(self.order.size), cursor, end < self.order.size)


@dataclass(frozen=True, slots=True)
class ComparisonRecord:
    metric: str
    feature: str | None
    common_data_rows: int
    a: MetricsRecord
    b: MetricsRecord
    worse: WorseRows
    deltas: list[MetricDelta]


def _common_rows(a: LoadedRun, b: LoadedRun) -> tuple[np.ndarray, np.ndarray]:
    """The row numbers in A and in B of the rows both evaluated (in one order): kept with A's
    results for B's results as loaded (40 ms of every comparison at 100,000 rows)."""
    key = ("rows in common with", b.run_id, b.as_of)
    kept = a.derived.get(key)
    if isinstance(kept, tuple) and kept[0] == b.stamp:
        return kept[1], kept[2]
    common = np.intersect1d(a.keys, b.keys, assume_unique=True)
    rows_a, rows_b = a.rows_of_keys(common), b.rows_of_keys(common)
    a.derived[key] = (b.stamp, rows_a, rows_b)
    return rows_a, rows_b


def compare_runs(
    queries: MetricQueries,
    run_a: UUID | str,
    run_b: UUID | str,
    confidence: float,
    iou: float,
    clauses: Sequence[Clause] = (),
    metric: str = "f1",
    feature: str | None = None,
    version_a: int | None = None,
    version_b: int | None = None,
) -> ComparisonRecord:
    a = queries.loaded(run_at(queries, run_a, version_a))
    b = queries.loaded(run_at(queries, run_b, version_b))
    if len(queries.runs.model_ids([a.run_id, b.run_id])) != 1:
        raise ValidationFailed("only runs of the same model can be compared")
    grid_a, grid_b = queries.grid(a, confidence, iou), queries.grid(b, confidence, iou)
    rows_a, rows_b = _common_rows(a, b)
    # The filter, each run on its own rows; compared rows are those both select.
    selected_a = queries.selection(a, clauses, grid_a)
    selected_b = queries.selection(b, clauses, grid_b)
    both = np.ones(rows_a.size, dtype=bool)
    if selected_a is not None:
        both &= selected_a[rows_a]
    if selected_b is not None:
        both &= selected_b[rows_b]
    rows_a, rows_b = rows_a[both], rows_b[both]
    mask_a = np.zeros(a.results.n_rows, dtype=bool)
    mask_a[rows_a] = True
    mask_b = np.zeros(b.results.n_rows, dtype=bool)
    mask_b[rows_b] = True
    report_a = queries.report(a, grid_a, mask_a, (confidence, iou))
    report_b = queries.report(b, grid_b, mask_b, (confidence, iou))

    values_a = metric_values(a, metric, feature, grid_a)[rows_a]
    values_b = metric_values(b, metric, feature, grid_b)[rows_b]
    worse_by = values_b - values_a if metric.lower() in LOWER_IS_BETTER else values_a - values_b
    defined = ~np.isnan(worse_by) & (worse_by > 0)
    order = np.flatnonzero(defined)
    order = order[np.lexsort((order, -worse_by[order]))]
    return ComparisonRecord(
        metric=metric,
        feature=feature,
        common_data_rows=int(rows_a.size),
        a=report_a,
        b=report_b,
        worse=WorseRows(queries, a, rows_a, values_a, values_b, worse_by, order),
        deltas=paired_bootstrap(a.results, rows_a, grid_a, b.results, rows_b, grid_b),
    )
