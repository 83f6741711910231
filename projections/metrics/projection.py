"""Fills the metrics view: match table parts of metric computations, custom metric values."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any
from uuid import UUID, uuid5

import numpy as np
from eventsourcing.dispatch import singledispatchmethod
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import Tracking
from eventsourcing.projection import Projection
from eventsourcing.utils import get_topic

from domain.computations import METRICS, ComputationResult
from domain.uploads import Upload
from projections.metrics.match_table import pack
from projections.metrics.view import MetricsView

CUSTOM_METRICS = "custom_metrics"
# Parts per chunk stay far below this, so (notification, part) orders parts uniquely.
PARTS_PER_NOTIFICATION = 1_000
REMEMBERED_UPLOADS = 256


def part_id(result_id: UUID, index: int) -> UUID:
    """The same on every replay, so a rebuilt read model compares equal."""
    return uuid5(result_id, f"part:{index}")


def payload_rows(payload: dict[str, Any]) -> list[UUID]:
    column = payload["rows"]
    rows = np.frombuffer(column["data"], dtype=np.uint8).reshape(column["shape"])
    return [UUID(bytes=bytes(r)) for r in rows]


class MetricsProjection(Projection[MetricsView]):
    name = "metrics"
    topics = (
        get_topic(ComputationResult.PartAdded),
        get_topic(Upload.Started),
        get_topic(Upload.ChunkAdded),
    )

    def __init__(self, view: MetricsView) -> None:
        super().__init__(view)
        # Upload id -> (run, version) of custom metric uploads; None for any other upload.
        self._uploads: OrderedDict[UUID, tuple[UUID, int] | None] = OrderedDict()

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
        if event.kind != CUSTOM_METRICS:
            self._remember(event.originator_id, None)
            self.view.skip(tracking)
            return
        self._remember(event.originator_id, (event.owner_id, event.owner_version))
        self.view.start_upload(event.originator_id, event.owner_id, event.owner_version, tracking)

    @process_event.register
    def _(self, event: Upload.ChunkAdded, tracking: Tracking) -> None:
        owner = self._upload(event.originator_id)
        if owner is None or "values" not in event.payload:
            self.view.skip(tracking)
            return
        self.view.put_custom_values(owner[0], owner[1], event.payload["values"], tracking)

    def _upload(self, upload_id: UUID) -> tuple[UUID, int] | None:
        if upload_id in self._uploads:
            return self._uploads[upload_id]
        row = self.view.upload(upload_id)
        found = None if row is None else (row["run_id"], row["run_version"])
        self._remember(upload_id, found)
        return found

    def _remember(self, upload_id: UUID, owner: tuple[UUID, int] | None) -> None:
        self._uploads[upload_id] = owner
        self._uploads.move_to_end(upload_id)
        while len(self._uploads) > REMEMBERED_UPLOADS:
            self._uploads.popitem(last=False)
