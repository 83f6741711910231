"""The gallery read model's table: per run, the parts (gallery/parts.py) of its uploads in
log order. The newest part naming a row holds that row's side; queries merge them."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.persistence import Tracking

from projections.postgres_view import PostgresView


class GalleryView(PostgresView):
    tables = (
        (
            "gallery_parts",
            "CREATE TABLE IF NOT EXISTS {s}.gallery_parts ("
            " run_id uuid NOT NULL, seq bigint NOT NULL, side text NOT NULL,"
            " run_version integer NOT NULL, payload bytea NOT NULL,"
            " PRIMARY KEY (run_id, seq, side))",
        ),
    )

    def add_parts(self, run_id: UUID, version: int, parts: list[tuple[str, bytes]], tracking: Tracking) -> None:
        with self.tracked(tracking) as curs:
            for side, payload in parts:
                curs.execute(
                    self.sql(
                        "INSERT INTO {s}.gallery_parts (run_id, seq, side, run_version, payload)"
                        " VALUES (%s, %s, %s, %s, %s)"
                    ),
                    (run_id, tracking.notification_id, side, version, payload),
                )

    def stamp(self, run_id: UUID) -> tuple[int, int]:
        """The log positions of the run's last part here and of the last write to its rows
        (run_input_stamps): a run's rows are written after the event of its new version."""
        row = self.fetch_one(
            "SELECT coalesce((SELECT max(seq) FROM {s}.gallery_parts WHERE run_id = %(run)s), 0) AS seq,"
            " coalesce((SELECT stamp FROM {s}.run_input_stamps WHERE run_id = %(run)s), 0) AS inputs",
            {"run": run_id},
        )
        return (0, 0) if row is None else (int(row["seq"]), int(row["inputs"]))

    def parts(self, run_id: UUID, side: str, up_to: int | None = None) -> list[bytes]:
        """One side's parts in log order; up to a run version if given (parts are never
        deleted, so a run's older versions can be read)."""
        rows = self.fetch(
            "SELECT payload FROM {s}.gallery_parts WHERE run_id = %s AND side = %s"
            " AND (%s::integer IS NULL OR run_version <= %s) ORDER BY seq",
            (run_id, side, up_to, up_to),
        )
        return [bytes(r["payload"]) for r in rows]
