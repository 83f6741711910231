"""The settings a model run's metrics are computed with (docs/metrics.md §2, §2, §6)."""

from __future__ import annotations

from typing import Any

import strawberry


@strawberry.type
class MetricSettings:
    confidence_thresholds: list[float]
    iou_thresholds: list[float]
    point_radius: float = strawberry.field(description="Pixels within which points match.")
    low_precision: float
    low_recall: float
    low_f1: float
    low_confidence: float
    mislabel_confidence: float

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MetricSettings:
        return cls(
            confidence_thresholds=list(data["confidence_thresholds"]),
            iou_thresholds=list(data["iou_thresholds"]),
            point_radius=data["point_radius"],
            low_precision=data["low_precision"],
            low_recall=data["low_recall"],
            low_f1=data["low_f1"],
            low_confidence=data["low_confidence"],
            mislabel_confidence=data["mislabel_confidence"],
        )
