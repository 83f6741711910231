"""The read models of background computations: their status, and the metric results."""

from __future__ import annotations

from collections.abc import Callable

from projections.computation_status.projection import ComputationStatusProjection
from projections.computation_status.queries import ComputationStatusQueries
from projections.computation_status.view import ComputationStatusView
from projections.metrics.projection import MetricsProjection
from projections.metrics.queries import MetricQueries, RunRows
from projections.metrics.view import MetricsView
from projections.runners import ReadModelRunner, last_relevant_notification


class MetricReadModels:
    """The queries of those read models, given their running runners (by name)."""

    def __init__(self, runners: dict[str, ReadModelRunner], runs: RunRows) -> None:
        status_view = runners[ComputationStatusProjection.name].view
        metrics_view = runners[MetricsProjection.name].view
        assert isinstance(status_view, ComputationStatusView) and isinstance(metrics_view, MetricsView)
        self.computation_status = ComputationStatusQueries(status_view)
        self.metrics = MetricQueries(metrics_view, self.computation_status, runs, results_lag(runners))


def results_lag(runners: dict[str, ReadModelRunner]) -> Callable[[int], int | None]:
    """Where the metrics read model is, if it has not yet taken in every result recorded up
    to a position of the log (None when it has). Its runner is looked up at each call: a
    stopped one is replaced by a new one (projections.healing)."""

    def lag(position: int) -> int | None:
        if position <= 0:
            return None
        runner = runners[MetricsProjection.name]
        target = last_relevant_notification(runner.app.recorder, MetricsProjection.topics, position)
        tracked = runner.view.max_tracking_id(runner.app_name) or 0
        return None if target is None or tracked >= target else tracked

    return lag
