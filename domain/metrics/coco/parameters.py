"""COCOeval's parameters for detections (its `Params`): IoU and recall thresholds, detection
cuts and area ranges."""

from __future__ import annotations

import numpy as np

# Built exactly as pycocotools builds them: thresholds are compared with IoUs bit for bit.
IOU_THRESHOLDS = np.linspace(0.5, 0.95, int(np.round((0.95 - 0.5) / 0.05)) + 1, endpoint=True)
RECALL_THRESHOLDS = np.linspace(0.0, 1.00, int(np.round((1.00 - 0.0) / 0.01)) + 1, endpoint=True)
MAX_DETECTIONS = np.array([1, 10, 100], dtype=np.int64)
AREA_RANGES = np.array([[0**2, 1e5**2], [0**2, 32**2], [32**2, 96**2], [96**2, 1e5**2]])
AREA_LABELS = ("all", "small", "medium", "large")
