"""Loaded into a worker process by `modelledger worker --import`: every metric chunk fails."""

from __future__ import annotations

from typing import Any

from domain.computations import METRICS
from workers import kinds


def failing_metric_chunk(services: Any, computation: Any, chunk: int) -> Any:
    raise RuntimeError("injected failure: this chunk always fails")


kinds.register(METRICS, failing_metric_chunk)
