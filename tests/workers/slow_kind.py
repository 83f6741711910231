"""Loaded into a worker process by `modelledger worker --import`: metric chunks that take a
while, so a test can stop a worker or the broker in the middle of a computation. Each chunk
is logged when it starts and when it is computed (`COMPUTING`, `COMPUTED`, then the
computation's id and the chunk), so a test can tell what this worker computed."""

from __future__ import annotations

import logging
import os
import time
from typing import Any

from domain.computations import METRICS
from workers import kinds
from workers.metric_chunks import compute_metric_chunk

log = logging.getLogger(__name__)
COMPUTING = "computing chunk"
COMPUTED = "computed chunk"


def slow_metric_chunk(services: Any, computation: Any, chunk: int) -> Any:
    log.info("%s %s %s", COMPUTING, computation.id, chunk)
    time.sleep(float(os.environ.get("MODELLEDGER_TEST_CHUNK_SECONDS", "1.0")))
    result = compute_metric_chunk(services, computation, chunk)
    log.info("%s %s %s", COMPUTED, computation.id, chunk)
    return result


kinds.register(METRICS, slow_metric_chunk)
