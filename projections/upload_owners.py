"""Which upload a chunk event belongs to, as a projection needs to know per chunk.

An upload's Started event and its chunks arrive together (one atomic save), so the last
few uploads are kept in memory; the view's table answers after a restart that fell
between a Started event and its chunks.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol
from uuid import UUID

from eventsourcing.persistence import Tracking

from domain.uploads import UploadKind

if TYPE_CHECKING:
    from domain.uploads import Upload

REMEMBERED = 64


class UploadsView(Protocol):
    """What a view following uploads keeps: each followed upload's owner and kind."""

    def start_upload(
        self, upload_id: UUID, owner_id: UUID, owner_version: int, kind: UploadKind, tracking: Tracking
    ) -> None: ...

    def upload(self, upload_id: UUID) -> Any:
        """The upload's row (owner_id, owner_version, kind), or None."""

    def skip(self, tracking: Tracking) -> None: ...


@dataclass(frozen=True, slots=True)
class UploadInfo:
    owner_id: UUID
    owner_version: int
    kind: UploadKind


class UploadDirectory:
    def __init__(self, lookup: Callable[[UUID], Any]) -> None:
        self._lookup = lookup
        self._recent: OrderedDict[UUID, UploadInfo | None] = OrderedDict()

    def started(self, upload_id: UUID, owner_id: UUID, owner_version: int, kind: UploadKind) -> None:
        self._remember(upload_id, UploadInfo(owner_id, owner_version, kind))

    def ignored(self, upload_id: UUID) -> None:
        """An upload of a kind not kept here: its chunks need no lookup."""
        self._remember(upload_id, None)

    def get(self, upload_id: UUID) -> UploadInfo | None:
        """The upload, or None when it is not one this projection keeps."""
        if upload_id in self._recent:
            self._recent.move_to_end(upload_id)
            return self._recent[upload_id]
        row = self._lookup(upload_id)
        info = None if row is None else UploadInfo(row["owner_id"], row["owner_version"], UploadKind(row["kind"]))
        self._remember(upload_id, info)
        return info

    def _remember(self, upload_id: UUID, info: UploadInfo | None) -> None:
        self._recent[upload_id] = info
        self._recent.move_to_end(upload_id)
        while len(self._recent) > REMEMBERED:
            self._recent.popitem(last=False)


class FollowedUploads:
    """The uploads of some kinds, as a projection follows them: Started events of those kinds
    are recorded in the view's uploads table; any other event of an upload is only tracked."""

    def __init__(self, view: UploadsView, kinds: frozenset[UploadKind]) -> None:
        self.view = view
        self.kinds = kinds
        self.directory = UploadDirectory(view.upload)

    def started(self, event: Upload.Started, tracking: Tracking) -> None:
        kind = UploadKind(event.kind)
        if kind not in self.kinds:
            self.directory.ignored(event.originator_id)
            self.view.skip(tracking)
            return
        self.view.start_upload(event.originator_id, event.owner_id, event.owner_version, kind, tracking)
        self.directory.started(event.originator_id, event.owner_id, event.owner_version, kind)

    def of_chunk(self, event: Upload.ChunkAdded, tracking: Tracking) -> UploadInfo | None:
        """The chunk's upload, or None (the event then tracked) if it is not one kept here."""
        upload = self.directory.get(event.originator_id)
        if upload is None or upload.kind not in self.kinds:
            self.view.skip(tracking)
            return None
        return upload
