"""A metric per projection point, from the metrics read model (for colouring)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING
from uuid import UUID

import numpy as np
from numpy.typing import NDArray

from projections.computation_status.queries import COMPUTING
from projections.metrics.as_of import run_at
from projections.metrics.filters import metric_values
from projections.metrics.queries import MetricsOutOfSync

if TYPE_CHECKING:
    from projections.metrics.queries import MetricQueries


def metric_per_point(
    metrics: MetricQueries,
    run_id: str,
    ids: Sequence[UUID],
    name: str,
    feature: str | None,
    confidence: float,
    iou: float,
    version: int | None = None,
) -> NDArray[np.float32]:
    """The run's value of the metric at the grid point for each point's data row (NaN: not
    evaluated, or null), as of the run's `version` (None: latest). Refused while the run's
    metrics are being computed, as every metric filter is: half-updated values would colour
    the picture wrongly."""
    run = run_at(metrics, run_id, version)
    status = metrics.status(run)
    if status.state == COMPUTING:
        raise MetricsOutOfSync(
            f"metrics out of sync: {status.pending_data_rows} data rows pending; colouring by a metric "
            "is available again once the computation completes"
        )
    loaded = metrics.loaded(run)
    grid = metrics.grid(loaded, confidence, iou)
    values = metric_values(loaded, name, feature, grid)
    rows = loaded.rows_of_keys(np.array([row_id.bytes for row_id in ids], dtype="S16"))
    out = np.full(len(ids), np.nan, dtype=np.float32)
    found = rows >= 0
    out[found] = values[rows[found]]
    return out
