"""How a run's objects and a per-row metric are distributed: objects per feature (a page of
bars, most first; nested answers one level at a time) and a per-row metric's histogram over
ten bins of [0, 1], each under the same filters as every metrics query (MetricQueries.selection).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from uuid import UUID

import numpy as np

from domain.filter_language import Clause
from projections.metrics.filters import metric_values
from projections.metrics.queries import MetricQueries
from projections.metrics.records import DistributionBar, HistogramBin, HistogramRecord
from projections.postgres_view import encode_cursor, int_cursor, page_size
from projections.records import Page

HISTOGRAM_BINS = 10


def distribution(
    queries: MetricQueries,
    run_id: UUID | str,
    side: str,
    clauses: Sequence[Clause] = (),
    confidence: float | None = None,
    first: int | None = None,
    after: str | None = None,
    parents: Mapping[str, str | None] | None = None,
    under: str | None = None,
) -> Page:
    """Annotations ("ann") or predictions ("pred") per feature, most first (DistributionBar).

    With `parents` (each nested answer's parent feature), the bars are those one level
    under `under` (the top-level features when None), each saying how many sub-features
    with objects it has; without, every feature."""
    loaded = queries.loaded(run_id)
    iou = float(loaded.settings["iou_thresholds"][0])
    c_index = None
    if confidence is not None:
        c_index = queries.grid(loaded, confidence, iou)[0]
    mask = queries.selection(loaded, clauses, (c_index or 0, iou))
    names, objects, rows = loaded.results.object_counts(side, mask, c_index)
    crowd = np.zeros(len(names), dtype=np.int64)
    if side == "ann":
        crowd[: len(loaded.results.features)] = loaded.results.crowd_counts(mask)
    parent_of = parents or {}
    shown = (objects > 0) | (crowd > 0)
    children = Counter(parent_of.get(names[i]) for i in range(len(names)) if shown[i])
    order = sorted(range(len(names)), key=lambda i: (-int(objects[i]), -int(crowd[i]), names[i]))
    order = [i for i in order if shown[i] and (parents is None or parent_of.get(names[i]) == under)]
    size = page_size(first)
    start = int_cursor("distribution", after) or 0
    chosen = order[start : start + size]
    end = start + len(chosen)
    return Page(
        items=[
            DistributionBar(
                names[i], int(objects[i]), int(rows[i]), parent_of.get(names[i]), children[names[i]], int(crowd[i])
            )
            for i in chosen
        ],
        total_count=len(order),
        end_cursor=encode_cursor("distribution", end) if chosen else None,
        has_next_page=end < len(order),
    )

def histogram(
    queries: MetricQueries,
    run_id: UUID | str,
    metric: str,
    confidence: float,
    iou: float,
    feature: str | None = None,
    clauses: Sequence[Clause] = (),
) -> HistogramRecord:
    """Data rows per tenth of [0, 1] of a per-row metric, and rows where it is null."""
    loaded = queries.loaded(run_id)
    grid = queries.grid(loaded, confidence, iou)
    mask = queries.selection(loaded, clauses, grid)
    values = metric_values(loaded, metric, feature, grid)
    if mask is not None:
        values = values[mask]
    defined = values[~np.isnan(values)]
    inside = defined[(defined >= 0) & (defined <= 1)]
    # Bin i holds [i/10, (i+1)/10); the last one holds 1 too. Binned by comparing with the
    # very edges a bin's filter names (not by flooring v * 10), so the two always agree.
    edges = np.arange(HISTOGRAM_BINS + 1) / HISTOGRAM_BINS
    index = np.minimum(np.searchsorted(edges, inside, side="right") - 1, HISTOGRAM_BINS - 1)
    counts = np.bincount(index, minlength=HISTOGRAM_BINS)
    bins = [HistogramBin(float(edges[i]), float(edges[i + 1]), int(counts[i])) for i in range(HISTOGRAM_BINS)]
    return HistogramRecord(metric, feature, bins, int(values.size - defined.size), int(defined.size - inside.size))
