"""The read models of background computations: their status, and the metric results."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from eventsourcing.projection import ProjectionRunner

from projections.computation_status.projection import ComputationStatusProjection
from projections.computation_status.queries import ComputationStatusQueries
from projections.computation_status.view import ComputationStatusView
from projections.metrics.projection import MetricsProjection
from projections.metrics.queries import MetricQueries
from projections.metrics.view import MetricsView
from projections.runners import last_relevant_notification


class MetricReadModels:
    """The queries of those read models, given their running runners (by name)."""

    def __init__(self, runners: dict[str, ProjectionRunner[Any, Any]]) -> None:
        status_view = runners[ComputationStatusProjection.name].view
        metrics_view = runners[MetricsProjection.name].view
        assert isinstance(status_view, ComputationStatusView) and isinstance(metrics_view, MetricsView)
        self.computation_status = ComputationStatusQueries(status_view)
        self.metrics = MetricQueries(metrics_view, self.computation_status, results_lag(runners[MetricsProjection.name]))


def results_lag(runner: ProjectionRunner[Any, Any]) -> Callable[[int], int | None]:
    """Where the metrics read model is, if it has not yet taken in every result recorded up
    to a position of the log (None when it has)."""

    def lag(position: int) -> int | None:
        if position <= 0:
            return None
        target = last_relevant_notification(runner.app.recorder, MetricsProjection.topics, position)
        tracked = runner.view.max_tracking_id(runner.app_name) or 0
        return None if target is None or tracked >= target else tracked

    return lag
