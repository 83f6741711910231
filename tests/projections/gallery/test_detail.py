"""A row's objects with their outcomes and partners at a grid point (docs/metrics.md §3)."""

from __future__ import annotations

from projections.gallery.detail import FN, FP, INACTIVE, TP, UNMATCHED, row_detail


def _box(left: float) -> dict[str, float]:
    return {"top": 0, "left": left, "height": 10, "width": 10}


def test_outcomes_partners_and_ious() -> None:
    labels = [
        {"name": "car", "bbox": _box(0)},
        {"name": "car", "bbox": _box(100)},
        {"name": "caption", "answer": "a red car"},
        {"name": "person", "bbox": _box(300)},
    ]
    predictions = [
        {"name": "car", "bbox": _box(1), "confidence": 0.9},  # TP with label 0
        {"name": "person", "bbox": _box(100), "confidence": 0.95},  # cross-feature with label 1
        {"name": "car", "bbox": _box(0), "confidence": 0.3},  # below c = 0.5
        {"name": "car", "bbox": _box(500), "confidence": 0.8},  # unpaired
    ]
    detail = row_detail(labels, predictions, confidence=0.5, iou=0.5, point_radius=70.0)
    gt = [(o.outcome, o.partner, o.partner_feature) for o in detail.annotations]
    assert gt == [(TP, 0, "car"), (FN, 1, "person"), (UNMATCHED, None, None), (FN, None, None)]
    pred = [(o.outcome, o.partner) for o in detail.predictions]
    assert pred == [(TP, 0), (FP, 1), (INACTIVE, None), (FP, None)]
    assert detail.annotations[0].iou == detail.predictions[0].iou == 90 / 110
    assert detail.annotations[1].iou == 1.0 and detail.predictions[0].confidence == 0.9


def test_a_higher_iou_threshold_unpairs() -> None:
    labels = [{"name": "car", "bbox": _box(0)}]
    predictions = [{"name": "car", "bbox": _box(1), "confidence": 0.9}]
    detail = row_detail(labels, predictions, confidence=0.5, iou=0.9, point_radius=70.0)
    assert [o.outcome for o in detail.annotations] == [FN]
    assert [(o.outcome, o.iou) for o in detail.predictions] == [(FP, None)]
