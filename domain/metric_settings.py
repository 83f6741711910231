"""The settings a model run's metrics are computed with (docs/metrics.md §2, §2, §6)."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from typing import Any

from domain.errors import ValidationFailed

# The default grid, written out: thresholds are used exactly as given, never rebuilt by
# arithmetic (0.1 * 3 is not 0.3).
DEFAULT_THRESHOLDS: tuple[float, ...] = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)


@dataclass(frozen=True)
class MetricSettings:
    confidence_thresholds: tuple[float, ...] = DEFAULT_THRESHOLDS
    iou_thresholds: tuple[float, ...] = DEFAULT_THRESHOLDS
    point_radius: float = 70.0
    low_precision: float = 0.5
    low_recall: float = 0.5
    low_f1: float = 0.5
    low_confidence: float = 0.5
    mislabel_confidence: float = 0.9
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["confidence_thresholds"] = list(self.confidence_thresholds)
        data["iou_thresholds"] = list(self.iou_thresholds)
        data.pop("extra")
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MetricSettings:
        values = dict(data)
        values["confidence_thresholds"] = tuple(values["confidence_thresholds"])
        values["iou_thresholds"] = tuple(values["iou_thresholds"])
        return cls(**values)

    def changed(self, **changes: Any) -> MetricSettings:
        """A copy with the given settings replaced, each checked; None means unchanged."""
        values = self.to_dict()
        for name, value in changes.items():
            if value is None:
                continue
            if name not in values:
                raise ValidationFailed(f'unknown metric setting "{api_name(name)}"')
            if name in ("confidence_thresholds", "iou_thresholds"):
                values[name] = check_thresholds(name, value)
            elif name == "point_radius":
                values[name] = check_number(name, value, low=0.0, low_open=True, high=math.inf)
            else:
                values[name] = check_number(name, value, low=0.0, low_open=False, high=1.0)
        return MetricSettings.from_dict(values)


def api_name(name: str) -> str:
    """A setting's name as the API spells it (setMetricSettings): iou_thresholds is
    iouThresholds; an index stays as it is (iouThresholds[2])."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def check_number(name: str, value: Any, *, low: float, low_open: bool, high: float) -> float:
    """`value` as a float in the range from `low` (excluded if `low_open`) to `high`;
    messages name the setting as the API does."""
    shown = api_name(name)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValidationFailed(f"{shown} must be a finite number, got {_show(value)}")
    if value < low or (low_open and value == low) or value > high:
        if high == math.inf:
            bound = f"> {_show(low)}" if low_open else f">= {_show(low)}"
            raise ValidationFailed(f"{shown} {_show(value)} must be {bound}")
        opening = "(" if low_open else "["
        raise ValidationFailed(f"{shown} {_show(value)} is outside {opening}{_show(low)}, {_show(high)}]")
    return float(value)


def check_thresholds(name: str, values: Any) -> list[float]:
    """1 to 101 distinct values in [0, 1], kept exactly as given, sorted ascending."""
    shown = api_name(name)
    if not isinstance(values, list | tuple):
        raise ValidationFailed(f"{shown} must be a list of 1 to 101 values in [0, 1], got {_show(values)}")
    if not 1 <= len(values) <= 101:
        raise ValidationFailed(f"{shown} must list 1 to 101 values, got {len(values)}")
    checked = [check_number(f"{name}[{i}]", v, low=0.0, low_open=False, high=1.0) for i, v in enumerate(values)]
    seen: set[float] = set()
    for value in checked:
        if value in seen:
            raise ValidationFailed(f"{shown} lists {_show(value)} twice; values must be distinct")
        seen.add(value)
    return sorted(checked)


def _show(value: Any) -> str:
    """A value as JSON writes it (NaN and Infinity as GraphQL clients print them)."""
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return str(int(value)) if value.is_integer() and abs(value) < 1e16 else repr(value)
    try:
        text = json.dumps(value)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
