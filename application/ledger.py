"""The event-sourced application: every command loads, validates, mutates and saves.

Commands are synchronous (eventsourcing is); the API runs them off the event loop.
Expected failures raise domain.errors (NOT_FOUND, VALIDATION, CONFLICT, FORBIDDEN).
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from time import sleep
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError

from application.row_directory import RowDirectory
from domain.answered_requests import AnsweredRequest
from domain.api_keys import ApiKey
from domain.datasets import Dataset
from domain.errors import Conflict, NotFound, ValidationFailed
from domain.model_runs import ModelRun
from domain.models import Model
from domain.uploads import Upload, UploadKind
from storage.event_log import EventLog

A = TypeVar("A", bound=Aggregate)
T = TypeVar("T")
# A write step meeting a concurrent save is taken again up to this many times, after a
# random pause of up to RACE_PAUSE * 2**attempt seconds (at most ~5 s in all).
RACE_ATTEMPTS = 10
RACE_PAUSE = 0.005
# Per thread: the events saved since the request began (see LedgerCore.saved_here), and
# the answer the request records with its write (see LedgerCore.answering).
_saved = threading.local()
_answering = threading.local()

# Makes a request's answer from the aggregate its command saves first.
AnswerRecord = Callable[[Aggregate], AnsweredRequest]


class Answering:
    """A request's answer record while its command runs: `answered` is the record once the
    command's save has recorded it (None while nothing was saved)."""

    def __init__(self, record: AnswerRecord) -> None:
        self.record = record
        self.answered: AnsweredRequest | None = None


class AlreadyAnswered(Exception):  # noqa: N818 (a state, not a failure: the answer is in `answered`)
    """A request with the same idempotency key was recorded first: its answer stands."""

    def __init__(self, answered: AnsweredRequest) -> None:
        super().__init__(f"request {answered.key!r} on {answered.route} was answered before")
        self.answered = answered


class LedgerCore(EventLog):
    """Loading and saving with the project's error vocabulary."""

    snapshotting_intervals = {ModelRun: 100, Dataset: 100, Model: 20}  # noqa: RUF012

    def __init__(self, env: dict[str, str] | None = None, rows: RowDirectory | None = None) -> None:
        super().__init__(env)
        self._rows = rows

    @property
    def rows(self) -> RowDirectory:
        if self._rows is None:
            raise RuntimeError("this application was built without read models")
        return self._rows

    def attach_rows(self, rows: RowDirectory) -> None:
        self._rows = rows

    def find(self, cls: type[A], aggregate_id: UUID) -> A | None:
        """The aggregate with this id if there is one and it is a `cls`, else None."""
        try:
            found: object = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return None
        return found if isinstance(found, cls) else None

    def load(self, cls: type[A], aggregate_id: UUID, what: str) -> A:
        aggregate = self.find(cls, aggregate_id)
        if aggregate is None or getattr(aggregate, "deleted", False):
            raise NotFound(f"{what} {aggregate_id} not found")
        return aggregate

    def load_run(self, run_id: UUID, expected_version: int | None = None) -> ModelRun:
        run = self.load(ModelRun, run_id, "model run")
        check_expected_version(run, expected_version, "model run")
        return run

    def change(
        self, cls: type[A], aggregate_id: UUID, what: str, change: Callable[[A], None], expected_version: int | None = None
    ) -> A:
        """Load the aggregate, change it and store it; taken again on a concurrent save
        unless the caller named the version its change is based on (`retrying`)."""

        def write(_: int) -> A:
            aggregate = self.load(cls, aggregate_id, what)
            check_expected_version(aggregate, expected_version, what)
            change(aggregate)
            self.store(aggregate)
            return aggregate

        return self.retrying(write, expected_version)

    def still_holding(self, run_id: UUID, row_ids: list[str]) -> ModelRun:
        """The run as it is now, after another request changed it while an upload to these
        of its rows was checked; ValidationFailed if it no longer holds them all."""
        run = self.load_run(run_id)
        self.rows.wait_until_current()
        held = self.rows.run_rows(run.id, ids=row_ids)
        gone = [row_id for row_id in row_ids if row_id not in held]
        if gone:
            raise ValidationFailed(
                f"{len(gone)} data row(s) of this upload left model run {run.id} while it was checked, "
                f"first {gone[:5]}; nothing was recorded"
            )
        return run

    @contextmanager
    def answering(self, record: AnswerRecord | Answering) -> Iterator[Answering]:
        """Within: the command's save also records the request's answer, made by `record`
        from the aggregate saved first, in the same atomic save. If a request with the same
        key was recorded first, the save raises AlreadyAnswered with its answer."""
        _answering.current = record if isinstance(record, Answering) else Answering(record)
        try:
            yield _answering.current
        finally:
            _answering.current = None

    def answered_request(self, request_id: UUID) -> AnsweredRequest | None:
        return self.find(AnsweredRequest, request_id)

    def keep_response(self, request_id: UUID, status: int, body: str | None) -> None:
        """Keeps the answer a request with an idempotency key was given (after its write)."""
        answered = self.load(AnsweredRequest, request_id, "answered request")
        answered.keep_response(status, body)
        self.save(answered)

    def save(self, *objs: Any, **kwargs: Any) -> Any:
        current: Answering | None = getattr(_answering, "current", None)
        answer = None
        if current is not None and current.answered is None:
            answer = current.record(next(o for o in objs if o is not None))
            objs = (*objs, answer)
        try:
            recordings = super().save(*objs, **kwargs)
        except IntegrityError:
            earlier = None if answer is None else self.answered_request(answer.id)
            if earlier is not None:
                raise AlreadyAnswered(earlier) from None
            raise
        if current is not None and answer is not None:
            current.answered = answer  # one request, one answer record: with its first write
        saved = getattr(_saved, "events", None)
        if saved is not None:
            saved.extend((r.notification.id, r.notification.topic) for r in recordings)
        return recordings

    def saved_here(self) -> list[tuple[int, str]]:
        """(notification id, topic) of each event this thread saved since `forget_saved_here`:
        what a request waits for before reading its own writes, and nothing else."""
        return list(getattr(_saved, "events", None) or [])

    def forget_saved_here(self) -> None:
        _saved.events = []

    def store(self, *aggregates: Aggregate | None) -> int:
        """Save atomically; a concurrent writer that got there first is a WriteRace (a
        CONFLICT, unless the command takes its write step again: `retrying`).

        Returns the notification id of the last event saved, for waiting on read models.
        """
        try:
            recordings = self.save(*aggregates)
        except IntegrityError:
            first = next(a for a in aggregates if a is not None)
            raise WriteRace(
                f"{type(first).__name__} {first.id} was changed by another request; "
                "read it again and retry"
            ) from None
        return recordings[-1].notification.id if recordings else 0

    def retrying(self, write: Callable[[int], T], expected_version: int | None = None) -> T:
        """Take a command's write step (load, check what others may have changed, change,
        store) again when another request saved the same aggregate between its load and its
        save. `write` gets the attempt number (0 first) and must load afresh after 0.

        Writes to disjoint parts of one run or dataset (two uploads of different rows, a
        config edit beside an upload) then all succeed; a caller who named the version its
        change is based on (`expected_version`) asked to be told instead, and is.
        """
        for attempt in range(RACE_ATTEMPTS):
            try:
                return write(attempt)
            except WriteRace:
                if expected_version is not None or attempt + 1 == RACE_ATTEMPTS:
                    raise
                sleep(random.uniform(0, RACE_PAUSE * 2**attempt))
        raise AssertionError("unreachable")

    def new_upload(self, owner: Aggregate, kind: UploadKind, actor: str, chunks: list[dict[str, Any]]) -> Upload:
        """The chunk events of one bulk command, against the owner's next version."""
        upload = Upload(owner_id=owner.id, owner_version=owner.version + 1, kind=kind, actor=actor)
        for index, payload in enumerate(chunks):
            upload.add_chunk(index=index, payload=payload)
        return upload

    def api_key(self, key_id: UUID) -> ApiKey | None:
        return self.find(ApiKey, key_id)


class WriteRace(Conflict):
    """Another request saved the same aggregate first (optimistic concurrency)."""


def check_expected_version(aggregate: Aggregate, expected: int | None, what: str) -> None:
    if expected is not None and expected != aggregate.version:
        raise Conflict(
            f"{what} {aggregate.id} is at version {aggregate.version}, not {expected}; "
            "read it again and retry"
        )
