"""The slice membership read model's tables.

`membership_changes` is the projection's: per run, dataset or slice, the last event that may
have changed memberships it takes part in. `slice_memberships` and `membership_progress`
are the refresher's (slice_membership/refresher.py): each saved slice's members in each run
of its model, and how far each run, dataset and slice has been taken in. They are derived
from the other read models, not from events alone, so a rebuild from the log does not
reproduce them: `replay --verify` computes them again instead (slice_membership/verification.py).
`membership_watches` holds the grid points watched by any server's subscriptions, each
until its server renews it or lets it go, so that every server's refresher keeps them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from eventsourcing.persistence import Tracking
from psycopg.rows import DictRow

from projections.postgres_view import PostgresView

# What a change names.
RUN, DATASET, SLICE = "run", "dataset", "slice"
# The grid point of a membership that needs none.
NO_GRID = ""


@dataclass(frozen=True, slots=True)
class Membership:
    """A saved slice's members in a run at a grid point ("confidence/iou", or NO_GRID)."""

    slice_id: UUID
    grid: str
    count: int | None  # None when the slice cannot be applied in the run: see `error`
    digest: str | None  # equal digests, same members
    members: bytes | None  # numpy.packbits of the run's current rows in id order
    error: str | None = None


@dataclass(frozen=True, slots=True)
class MembershipRecord:
    slice_id: str
    run_id: str
    grid: str
    run_version: int
    count: int | None
    digest: str | None
    members: bytes | None
    error: str | None
    as_of: int  # every event up to this notification was taken in
    updated_at: datetime


class SliceMembershipView(PostgresView):
    tables = (
        (
            "membership_changes",
            "CREATE TABLE IF NOT EXISTS {s}.membership_changes ("
            " scope text NOT NULL, id uuid NOT NULL, notification_id bigint NOT NULL,"
            " PRIMARY KEY (scope, id))",
        ),
        (
            "membership_progress",
            "CREATE TABLE IF NOT EXISTS {s}.membership_progress ("
            " scope text NOT NULL, id uuid NOT NULL, notification_id bigint NOT NULL,"
            " PRIMARY KEY (scope, id))",
        ),
        (
            "slice_memberships",
            "CREATE TABLE IF NOT EXISTS {s}.slice_memberships ("
            " run_id uuid NOT NULL, slice_id uuid NOT NULL, grid text NOT NULL,"
            " run_version integer NOT NULL, member_count integer, digest text, members bytea,"
            " error text, as_of bigint NOT NULL, updated_at timestamptz NOT NULL,"
            " PRIMARY KEY (run_id, slice_id, grid))",
        ),
        (
            "membership_watches",
            "CREATE TABLE IF NOT EXISTS {s}.membership_watches ("
            " slice_id uuid NOT NULL, run_id uuid NOT NULL, grid text NOT NULL, watcher text NOT NULL,"
            " until timestamptz NOT NULL, PRIMARY KEY (run_id, slice_id, grid, watcher))",
        ),
    )
    refreshed_tables = ("membership_progress", "slice_memberships", "membership_watches")

    # -- the projection's ----------------------------------------------------------------

    def mark(self, scope: str, changed_id: UUID, tracking: Tracking) -> None:
        with self.tracked(tracking) as curs:
            curs.execute(
                self.sql(
                    "INSERT INTO {s}.membership_changes (scope, id, notification_id) VALUES (%s, %s, %s)"
                    " ON CONFLICT (scope, id) DO UPDATE SET notification_id = excluded.notification_id"
                ),
                (scope, changed_id, tracking.notification_id),
            )

    # -- the refresher's -----------------------------------------------------------------

    def pending(self) -> list[DictRow]:
        """Changes not taken in yet: (scope, id, notification_id)."""
        return self.fetch(
            "SELECT c.scope, c.id, c.notification_id FROM {s}.membership_changes c"
            " LEFT JOIN {s}.membership_progress p ON p.scope = c.scope AND p.id = c.id"
            " WHERE p.notification_id IS NULL OR p.notification_id < c.notification_id"
            " ORDER BY c.notification_id"
        )

    def taken_in(self, changes: Sequence[tuple[str, UUID, int]]) -> None:
        if not changes:
            return
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(
                self.sql(
                    "INSERT INTO {s}.membership_progress (scope, id, notification_id)"
                    " SELECT * FROM unnest(%s::text[], %s::uuid[], %s::bigint[])"
                    " ON CONFLICT (scope, id) DO UPDATE SET notification_id ="
                    " greatest(membership_progress.notification_id, excluded.notification_id)"
                ),
                ([c[0] for c in changes], [c[1] for c in changes], [c[2] for c in changes]),
            )

    def store(
        self,
        run_id: UUID,
        run_version: int,
        memberships: Sequence[Membership],
        as_of: int,
        kept: Sequence[tuple[UUID, str]] = (),
    ) -> None:
        """The run's memberships become these, but for the `kept` (slice id, grid) ones left
        as they are; any other of the run (a deleted slice, a grid point no longer watched)
        is removed."""
        keep = [(m.slice_id, m.grid) for m in memberships] + list(kept)
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(
                self.sql(
                    "DELETE FROM {s}.slice_memberships WHERE run_id = %s"
                    " AND (slice_id, grid) NOT IN (SELECT * FROM unnest(%s::uuid[], %s::text[]))"
                ),
                (run_id, [k[0] for k in keep], [k[1] for k in keep]),
            )
            for m in memberships:
                curs.execute(
                    self.sql(
                        "INSERT INTO {s}.slice_memberships (run_id, slice_id, grid, run_version,"
                        " member_count, digest, members, error, as_of, updated_at)"
                        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, now())"
                        " ON CONFLICT (run_id, slice_id, grid) DO UPDATE SET"
                        " run_version = excluded.run_version, member_count = excluded.member_count,"
                        " digest = excluded.digest, members = excluded.members, error = excluded.error,"
                        " as_of = excluded.as_of,"
                        # The time of the last change of members, not of the last look.
                        " updated_at = CASE WHEN slice_memberships.digest IS NOT DISTINCT FROM"
                        "   excluded.digest AND slice_memberships.error IS NOT DISTINCT FROM excluded.error"
                        "   THEN slice_memberships.updated_at ELSE now() END"
                    ),
                    (run_id, m.slice_id, m.grid, run_version, m.count, m.digest, m.members, m.error, as_of),
                )

    def publish_watches(self, watcher: str, watched: Sequence[tuple[str, UUID, str]], seconds: float) -> None:
        """The (slice id, run id, grid) points this watcher (a server's refresher) watches,
        each for `seconds` unless published again; its others end now, and watches left to
        expire by a server that stopped are cleared."""
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(
                self.sql(
                    "DELETE FROM {s}.membership_watches WHERE (watcher = %s AND (slice_id, run_id, grid) NOT IN"
                    " (SELECT * FROM unnest(%s::uuid[], %s::uuid[], %s::text[])))"
                    " OR until < now() - interval '1 minute'"
                ),
                (watcher, [w[0] for w in watched], [w[1] for w in watched], [w[2] for w in watched]),
            )
            curs.execute(
                self.sql(
                    "INSERT INTO {s}.membership_watches (slice_id, run_id, grid, watcher, until)"
                    " SELECT s, r, g, %s, now() + make_interval(secs => %s)"
                    " FROM unnest(%s::uuid[], %s::uuid[], %s::text[]) AS w(s, r, g)"
                    " ON CONFLICT (run_id, slice_id, grid, watcher) DO UPDATE SET until = excluded.until"
                ),
                (watcher, seconds, [w[0] for w in watched], [w[1] for w in watched], [w[2] for w in watched]),
            )

    def watched(self, run_id: UUID) -> list[tuple[str, str]]:
        """(slice id, grid) of the run watched now by any server."""
        rows = self.fetch(
            "SELECT DISTINCT slice_id, grid FROM {s}.membership_watches WHERE run_id = %s AND until > now()", (run_id,)
        )
        return [(str(row["slice_id"]), row["grid"]) for row in rows]

    def remove_run(self, run_id: UUID) -> None:
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(self.sql("DELETE FROM {s}.slice_memberships WHERE run_id = %s"), (run_id,))

    def membership(self, slice_id: UUID, run_id: UUID, grid: str) -> MembershipRecord | None:
        row = self.fetch_one(
            "SELECT * FROM {s}.slice_memberships WHERE run_id = %s AND slice_id = %s AND grid = %s",
            (run_id, slice_id, grid),
        )
        if row is None:
            return None
        return MembershipRecord(
            slice_id=str(row["slice_id"]),
            run_id=str(row["run_id"]),
            grid=row["grid"],
            run_version=row["run_version"],
            count=row["member_count"],
            digest=row["digest"],
            members=None if row["members"] is None else bytes(row["members"]),
            error=row["error"],
            as_of=row["as_of"],
            updated_at=row["updated_at"],
        )
