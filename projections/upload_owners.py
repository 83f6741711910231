"""Which upload a chunk event belongs to, as a projection needs to know per chunk.

A chunk event names only its upload; the upload's Started event names the owner, its
version and the kind. Both arrive together (one atomic save), so the last few uploads are
kept in memory; after a restart that fell between a Started event and its chunks, the
Started event is read back from the log itself (`StartedEvents`), as a worker does.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, TypeVar
from uuid import UUID

from eventsourcing.persistence import Tracking
from eventsourcing.projection import Projection

from domain.uploads import Upload, UploadKind

if TYPE_CHECKING:
    from eventsourcing.application import Application
    from eventsourcing.persistence import EventStore

    from projections.postgres_view import PostgresView

REMEMBERED = 64

# An upload's Started event, read from the log (None for no such upload).
StartedEvents = Callable[[UUID], "Upload.Started | None"]


def started_event(store: EventStore, upload_id: UUID) -> Upload.Started | None:
    """An upload's Started event, read from the log (None for no such upload)."""
    first = next(iter(store.get(upload_id, lte=1)), None)
    return first if isinstance(first, Upload.Started) else None


def started_events(app: Callable[[], Application]) -> StartedEvents:
    """Started events read through the application `app()` gives when one is needed (a
    runner's log application exists only once the runner is built around its projection)."""
    return lambda upload_id: started_event(app().repository.event_store, upload_id)


class SkipsEvents(Protocol):
    def skip(self, tracking: Tracking) -> None: ...


@dataclass(frozen=True, slots=True)
class UploadInfo:
    owner_id: UUID
    owner_version: int
    kind: UploadKind


class FollowedUploads:
    """The uploads of some kinds, as a projection follows them: the last few in memory, any
    other read back from the log; events of the uploads are tracked, not stored."""

    def __init__(self, view: SkipsEvents, kinds: frozenset[UploadKind], started: StartedEvents) -> None:
        self.view = view
        self.kinds = kinds
        self._started = started
        self._recent: OrderedDict[UUID, UploadInfo] = OrderedDict()

    def started(self, event: Upload.Started, tracking: Tracking) -> None:
        self._remember(event.originator_id, _info(event))
        self.view.skip(tracking)

    def of_chunk(self, event: Upload.ChunkAdded, tracking: Tracking) -> UploadInfo | None:
        """The chunk's upload, or None (the event then tracked) if it is not one kept here."""
        upload = self._get(event.originator_id)
        if upload.kind not in self.kinds:
            self.view.skip(tracking)
            return None
        return upload

    def _get(self, upload_id: UUID) -> UploadInfo:
        if upload_id in self._recent:
            self._recent.move_to_end(upload_id)
            return self._recent[upload_id]
        started = self._started(upload_id)
        if started is None:
            raise LookupError(f"upload {upload_id} has chunks but no Started event in the log")
        info = _info(started)
        self._remember(upload_id, info)
        return info

    def _remember(self, upload_id: UUID, info: UploadInfo) -> None:
        self._recent[upload_id] = info
        self._recent.move_to_end(upload_id)
        while len(self._recent) > REMEMBERED:
            self._recent.popitem(last=False)


def _info(event: Upload.Started) -> UploadInfo:
    return UploadInfo(event.owner_id, event.owner_version, UploadKind(event.kind))


V = TypeVar("V", bound="PostgresView")


class UploadFollowingProjection(Projection[V]):
    """A projection that takes the chunks of some kinds of upload (`upload_kinds`)."""

    upload_kinds: frozenset[UploadKind]

    def __init__(self, view: V, started: StartedEvents) -> None:
        super().__init__(view)
        self.uploads = FollowedUploads(view, self.upload_kinds, started)
