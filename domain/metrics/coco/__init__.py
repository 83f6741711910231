"""COCO-style detection evaluation (docs/metrics.md §7), as pycocotools' COCOeval does it.

`evaluation` holds `evaluate_coco` and the summary; `detections` turns each side's objects
into columns; `matching` the IoUs, matching and accumulation (numba); `parameters` COCOeval's
thresholds, area ranges and detection cuts.
"""
