"""Custom metric values a user uploads per data row (docs/metrics.md §11)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from domain.annotations.ndjson.keys import check_keys
from domain.annotations.ndjson.lines import parse_data_row_ref
from domain.annotations.ndjson.values import show_value
from domain.errors import AnnotationLineError
from domain.ontology import Ontology

# The automatic metrics' names are reserved (docs/metrics.md §11).
RESERVED_NAMES = frozenset(
    {"tp", "fp", "fn", "tn", "precision", "recall", "f1", "iou", "true_positive", "false_positive",
     "false_negative", "true_negative", "confidence"}
)
MAX_NAME = 100
LINE_KEYS = ("dataRow", "metricName", "metricValue", "featureName", "aggregation")


class Aggregation(StrEnum):
    ARITHMETIC_MEAN = "ARITHMETIC_MEAN"
    GEOMETRIC_MEAN = "GEOMETRIC_MEAN"
    HARMONIC_MEAN = "HARMONIC_MEAN"
    SUM = "SUM"


@dataclass(frozen=True, slots=True)
class CustomMetricValue:
    data_row: dict[str, str]  # {"id": ...} or {"globalKey": ...}
    name: str
    feature: str | None
    value: float | None  # a single value, or
    curve: tuple[tuple[float, float], ...] | None  # (confidence, value) pairs, ascending
    aggregation: Aggregation

    def to_record(self, row_id: str) -> list[Any]:
        curve = [list(p) for p in self.curve] if self.curve is not None else None
        return [row_id, self.name, self.feature, self.value, curve, self.aggregation.value]


# What a line looks like, for the message of a line that is not like it.
LINE_SHAPE = (
    '{"dataRow": {"globalKey": "..."} | {"id": "..."}, "metricName": "...", '
    '"metricValue": number | {confidence: number}, "featureName"?: "...", "aggregation"?: '
    + " | ".join(f'"{a.value}"' for a in Aggregation)
    + "}"
)


def _finite(value: Any, what: str, line: int) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise AnnotationLineError(line, f"{what} must be a finite number, got {show_value(value)}")
    return float(value)


def parse_custom_metric_line(obj: Any, line: int, ontology: Ontology) -> CustomMetricValue:
    """{"dataRow", "metricName", "metricValue", "featureName"?, "aggregation"?}.

    metricValue is a number, or an object mapping confidence thresholds to values.
    """
    if not isinstance(obj, dict):
        raise AnnotationLineError(line, f"a line must be a JSON object; expected {LINE_SHAPE}")
    check_keys(obj, LINE_KEYS, line)
    for required in ("dataRow", "metricName", "metricValue"):
        if required not in obj:
            raise AnnotationLineError(line, f'missing "{required}"; expected {LINE_SHAPE}')
    ref = obj["dataRow"]
    if isinstance(ref, str) and ref:
        ref = {"id": ref}  # a bare id, as earlier clients send it
    else:
        row = parse_data_row_ref(ref, line)
        ref = {"id": row.id} if row.id is not None else {"globalKey": row.global_key}
    name = obj.get("metricName")
    if not isinstance(name, str) or not 1 <= len(name) <= MAX_NAME:
        raise AnnotationLineError(line, f"metricName must be a string of 1 to {MAX_NAME} characters")
    if name.lower() in RESERVED_NAMES:
        raise AnnotationLineError(line, f"metricName {name!r} is reserved for an automatic metric")
    feature = obj.get("featureName")
    if feature is not None and (not isinstance(feature, str) or ontology.feature_named(feature) is None):
        raise AnnotationLineError(line, f"featureName {feature!r} of metric {name!r} is not in the ontology")
    raw = obj.get("metricValue")
    value: float | None = None
    curve: tuple[tuple[float, float], ...] | None = None
    if isinstance(raw, dict):
        if not raw:
            raise AnnotationLineError(line, f"metricValue of {name!r} maps no confidence")
        points = []
        for key, val in raw.items():
            try:
                confidence = float(key)
            except ValueError:
                raise AnnotationLineError(line, f"confidence {key!r} of metric {name!r} is not a number") from None
            if not 0.0 <= confidence <= 1.0:
                raise AnnotationLineError(line, f"confidence {key!r} of metric {name!r} is outside [0, 1]")
            points.append((confidence, _finite(val, f"value at confidence {key} of {name!r}", line)))
        curve = tuple(sorted(points))
    else:
        value = _finite(raw, f"metricValue of {name!r}", line)
    aggregation_name = obj.get("aggregation", Aggregation.ARITHMETIC_MEAN.value)
    try:
        aggregation = Aggregation(str(aggregation_name).upper())
    except ValueError:
        choices = ", ".join(a.value for a in Aggregation)
        raise AnnotationLineError(line, f"aggregation {aggregation_name!r} of {name!r} is not one of {choices}") from None
    if aggregation in (Aggregation.GEOMETRIC_MEAN, Aggregation.HARMONIC_MEAN):
        values = [value] if curve is None else [v for _, v in curve]
        if any(v is not None and v <= 0 for v in values):
            raise AnnotationLineError(line, f"{aggregation.value} of {name!r} needs positive values")
    return CustomMetricValue(ref, name, feature, value, curve, aggregation)
