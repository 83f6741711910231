"""The exact metric engine of docs/metrics.md: pure numpy, numba and shapely, no I/O.

    objects = build_objects(ground_truth_rows, prediction_rows, features=None, ontology=None)
    result = match(objects, confidence_thresholds, point_radius=70.0)   # one walk per c
    result.feature_metrics(c_index, iou_threshold, rows=None)  # per feature, micro, macro
    result.row_metrics(c_index, iou_threshold)                 # per data row
    result.confusion(c_index, iou_threshold, rows=None)        # labels: result.confusion_labels
    result.pr_curve(iou_threshold, feature=None, rows=None)
    grid(result, iou_thresholds, per_row=False, rows=None)     # every grid point at once

Rows are numbered 0 .. n - 1 in the order given to `build_objects`; a row selection is a
boolean mask over them or their numbers. Confidence thresholds are fixed by `match` and
addressed by position (`result.confidence_index(c)` finds one by exact value); an IoU
threshold is any number in [0, 1], because the IoU axis is a cut on the taken pairs.

How free-text answers count: they are never matched, so they are outside the feature axis
of TP, FP, FN and TN (no TN either). They count as annotations and active predictions of
their feature: `MatchResult.text_counts`.

Nested classifications (docs/metrics.md §8) are not objects of the data row and take no part in
the walk; their answers are features of their own on the same axis, evaluated on the pairs
the walk took (nested.py). They are reported per feature (IoU null) and in the confusion
matrix; `all`, its macro mean and the data-row level are over top-level features only
(`MatchResult.top_level`). The ontology, when given, says which features are nested and
which nested questions are checklists.

Crowd regions (docs/metrics.md §9: ground truth with `iscrowd`) are no objects of the walk: they
are kept apart (`EvaluationObjects.crowd`) and only make the predictions they cover ignored
(`MatchResult.ignored_counts`); `MatchResult.crowd_counts` counts them apart.
"""

from __future__ import annotations

from domain.metrics.build import build_objects
from domain.metrics.curves import PrPoint, pr_curve
from domain.metrics.objects import EvaluationObjects
from domain.metrics.outcome import ConfidenceState
from domain.metrics.ratios import FeatureReport, MacroMeans, Metrics, Summary
from domain.metrics.result import CellCounts, Counts, MatchResult, match
from domain.metrics.tables import Grid, grid

__all__ = [
    "CellCounts",
    "ConfidenceState",
    "Counts",
    "EvaluationObjects",
    "FeatureReport",
    "Grid",
    "MacroMeans",
    "MatchResult",
    "Metrics",
    "PrPoint",
    "Summary",
    "build_objects",
    "grid",
    "match",
    "pr_curve",
]
