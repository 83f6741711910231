"""Fills the metrics view: match table parts of metric computations, custom metric values."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid5

import numpy as np
from eventsourcing.dispatch import singledispatchmethod
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import Tracking
from eventsourcing.utils import get_topic

from domain.computations import METRICS, ComputationResult
from domain.uploads import Upload, UploadKind, read_chunk
from projections.metrics.match_table import pack
from projections.metrics.view import MetricsView
from projections.upload_owners import UploadFollowingProjection

# Parts per chunk stay far below this, so (notification, part) orders parts uniquely.
PARTS_PER_NOTIFICATION = 1_000


def part_id(result_id: UUID, index: int) -> UUID:
    """The same on every replay, so a rebuilt read model compares equal."""
    return uuid5(result_id, f"part:{index}")


def payload_rows(payload: dict[str, Any]) -> list[UUID]:
    column = payload["rows"]
    rows = np.frombuffer(column["data"], dtype=np.uint8).reshape(column["shape"])
    return [UUID(bytes=bytes(r)) for r in rows]


class MetricsProjection(UploadFollowingProjection[MetricsView]):
    name = "metrics"
    upload_kinds = frozenset({UploadKind.CUSTOM_METRICS})
    topics = (
        get_topic(ComputationResult.PartAdded),
        get_topic(Upload.Started),
        get_topic(Upload.ChunkAdded),
    )

    @singledispatchmethod
    def process_event(self, domain_event: DomainEventProtocol[UUID], tracking: Tracking) -> None:
        self.view.skip(tracking)

    @process_event.register
    def _(self, event: ComputationResult.PartAdded, tracking: Tracking) -> None:
        if event.kind != METRICS:
            self.view.skip(tracking)
            return
        self.view.add_part(
            part_id(event.originator_id, event.index),
            event.owner_id,
            event.owner_version,
            tracking.notification_id * PARTS_PER_NOTIFICATION + event.index,
            (event.computation_id, event.chunk, event.index),
            payload_rows(event.payload),
            pack(event.payload),
            tracking,
        )

    @process_event.register
    def _(self, event: Upload.Started, tracking: Tracking) -> None:
        self.uploads.started(event, tracking)

    @process_event.register
    def _(self, event: Upload.ChunkAdded, tracking: Tracking) -> None:
        upload = self.uploads.of_chunk(event, tracking)
        if upload is None:
            return
        _, values = read_chunk(upload.kind, event.payload)
        self.view.put_custom_values(upload.owner_id, upload.owner_version, values, tracking)
