"""Custom metric values of a run's evaluated rows, aggregated by their declared aggregation.

A value may be a function of confidence (a curve of points): at confidence threshold c it
takes the value of the curve's last point at or below c, and none below its first point.
Each metric, per feature or for the whole row, aggregates over the selected rows that
have a value: arithmetic mean (the default), geometric mean, harmonic mean or sum.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from uuid import UUID

import numpy as np

if TYPE_CHECKING:
    from projections.metrics.loader import LoadedRun
    from projections.metrics.view import MetricsView


@dataclass(frozen=True, slots=True)
class CustomAggregate:
    name: str
    feature: str | None
    aggregation: str
    value: float | None
    count: int  # rows with a value


@dataclass(eq=False)
class CustomValues:
    metrics: tuple[tuple[str, str | None], ...]  # (name, feature) per metric
    aggregations: tuple[str, ...]  # per metric
    metric: np.ndarray  # int64 metric per value
    row: np.ndarray  # int64 evaluated row per value
    values: np.ndarray  # float64 (values, confidence thresholds); NaN = no value there

    @classmethod
    def empty(cls, thresholds: tuple[float, ...]) -> CustomValues:
        return cls((), (), np.empty(0, np.int64), np.empty(0, np.int64), np.empty((0, len(thresholds))))

    def index(self, name: str, feature: str | None) -> int | None:
        try:
            return self.metrics.index((name, feature))
        except ValueError:
            return None

    def per_row(self, metric: int, c_index: int, n_rows: int) -> np.ndarray:
        out = np.full(n_rows, np.nan)
        hit = self.metric == metric
        out[self.row[hit]] = self.values[hit, c_index]
        return out

    def aggregate(self, c_index: int, mask: np.ndarray | None) -> list[CustomAggregate]:
        if not self.metrics:
            return []
        values = self.values[:, c_index]
        keep = ~np.isnan(values)
        if mask is not None:
            keep &= mask[self.row]
        metric, values = self.metric[keep], values[keep]
        n = len(self.metrics)
        count = np.bincount(metric, minlength=n)
        total = np.bincount(metric, weights=values, minlength=n)
        with np.errstate(divide="ignore", invalid="ignore"):
            by = {
                "ARITHMETIC_MEAN": total / count,
                "SUM": total,
                "GEOMETRIC_MEAN": np.exp(np.bincount(metric, weights=np.log(values), minlength=n) / count),
                "HARMONIC_MEAN": count / np.bincount(metric, weights=1.0 / values, minlength=n),
            }
        out = []
        for k, ((name, feature), aggregation) in enumerate(zip(self.metrics, self.aggregations, strict=True)):
            value = float(by.get(aggregation, by["ARITHMETIC_MEAN"])[k]) if count[k] else None
            out.append(CustomAggregate(name, feature, aggregation, value, int(count[k])))
        return out


def value_at(curve: list[list[float]], thresholds: tuple[float, ...]) -> list[float]:
    points = sorted((float(c), float(v)) for c, v in curve)
    out = []
    for c in thresholds:
        below = [v for pc, v in points if pc <= c]
        out.append(below[-1] if below else np.nan)
    return out


def load_custom(
    view: MetricsView, run_id: UUID, loaded: LoadedRun, thresholds: tuple[float, ...], as_of: int | None = None
) -> CustomValues:
    if as_of is None:
        found = view.fetch(
            "SELECT uuid_send(row_id) AS key, name, feature, value, curve, aggregation"
            " FROM {s}.custom_metric_values WHERE run_id = %s ORDER BY name, feature, row_id",
            (run_id,),
        )
    else:
        # Each (row, metric, feature)'s newest value uploaded up to the version read.
        found = view.fetch(
            "SELECT key, name, feature, value, curve, aggregation FROM ("
            " SELECT DISTINCT ON (row_id, name, feature) uuid_send(row_id) AS key, row_id, name, feature,"
            " value, curve, aggregation FROM {s}.custom_metric_history"
            " WHERE run_id = %s AND run_version <= %s ORDER BY row_id, name, feature, run_version DESC) AS v"
            " ORDER BY name, feature, row_id",
            (run_id, as_of),
        )
    if not found:
        return CustomValues.empty(thresholds)
    keys = np.asarray([bytes(r["key"]) for r in found], dtype="S16")
    rows = loaded.rows_of_keys(keys)
    metrics: dict[tuple[str, str | None], int] = {}
    aggregations: list[str] = []
    metric, row, values = [], [], []
    for record, r in zip(found, rows.tolist(), strict=True):
        if r < 0:
            continue  # a row not evaluated contributes to no metric (docs/metrics.md §4)
        key = (record["name"], record["feature"] or None)
        if key not in metrics:
            metrics[key] = len(metrics)
            aggregations.append(record["aggregation"])
        metric.append(metrics[key])
        row.append(r)
        if record["curve"] is not None:
            values.append(value_at(record["curve"], thresholds))
        else:
            values.append([record["value"]] * len(thresholds))
    return CustomValues(
        metrics=tuple(metrics),
        aggregations=tuple(aggregations),
        metric=np.asarray(metric, dtype=np.int64),
        row=np.asarray(row, dtype=np.int64),
        values=np.asarray(values, dtype=np.float64).reshape(len(row), len(thresholds)),
    )
