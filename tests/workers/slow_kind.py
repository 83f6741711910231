"""Loaded into a worker process by `modelledger worker --import`: metric chunks that take a
while, so a test can stop a worker or the broker in the middle of a computation."""

from __future__ import annotations

import os
import time
from typing import Any

from domain.computations import METRICS
from workers import kinds
from workers.metric_chunks import compute_metric_chunk


def slow_metric_chunk(services: Any, computation: Any, chunk: int) -> Any:
    time.sleep(float(os.environ.get("MODELLEDGER_TEST_CHUNK_SECONDS", "1.0")))
    return compute_metric_chunk(services, computation, chunk)


kinds.register(METRICS, slow_metric_chunk)
