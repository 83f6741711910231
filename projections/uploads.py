"""Which upload a chunk event belongs to, as a projection needs to know per chunk.

An upload's Started event and its chunks arrive together (one atomic save), so the last
few uploads are kept in memory; the view's table answers after a restart that fell
between a Started event and its chunks.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

REMEMBERED = 64


@dataclass(frozen=True, slots=True)
class UploadInfo:
    owner_id: UUID
    owner_version: int
    kind: str


class UploadDirectory:
    def __init__(self, lookup: Callable[[UUID], Any]) -> None:
        self._lookup = lookup
        self._recent: OrderedDict[UUID, UploadInfo | None] = OrderedDict()

    def started(self, upload_id: UUID, owner_id: UUID, owner_version: int, kind: str) -> None:
        self._remember(upload_id, UploadInfo(owner_id, owner_version, kind))

    def get(self, upload_id: UUID) -> UploadInfo | None:
        """The upload, or None when it is not one this projection keeps."""
        if upload_id in self._recent:
            self._recent.move_to_end(upload_id)
            return self._recent[upload_id]
        row = self._lookup(upload_id)
        info = None if row is None else UploadInfo(row["owner_id"], row["owner_version"], row["kind"])
        self._remember(upload_id, info)
        return info

    def _remember(self, upload_id: UUID, info: UploadInfo | None) -> None:
        self._recent[upload_id] = info
        self._recent.move_to_end(upload_id)
        while len(self._recent) > REMEMBERED:
            self._recent.popitem(last=False)
