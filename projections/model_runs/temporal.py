"""Writes of a run's temporal records: rows with their splits, labels, predictions.

Every method is one chunk event at run version v. An upload's chunks all carry the same
v, so a record that already starts at v was written by an earlier chunk of the same
upload: it is amended in place, never closed (a record valid for no version is noise).

Each write first reads the current records of the chunk's rows, probing the primary key
row by row (a nested loop over the chunk's ids): a plain `row_id = ANY(...)` lets the
planner walk every record of the run instead, and on freshly loaded tables, whose
statistics say they are tiny, it does, which costs the size of the run per chunk. A new
run's snapshot (version 1) has nothing to read but a row continued from the chunk before.
"""

from __future__ import annotations

from typing import Any, Literal
from uuid import UUID

from eventsourcing.persistence import Tracking
from psycopg import Cursor
from psycopg.rows import DictRow

from projections.postgres_view import PostgresView, array_literal

SetTable = Literal["run_labels", "run_predictions"]
_SET_COLUMNS: dict[str, tuple[str, str]] = {
    "run_labels": ("labels", "label_count"),
    "run_predictions": ("predictions", "prediction_count"),
}
_ROW_COLUMNS = ("global_key", "split", "width", "height", "dataset_id")
# A run's first version is its creation (createModelRun): its snapshot's chunks are the
# first records of the run.
FIRST_VERSION = 1


class TemporalWrites(PostgresView):
    """The model runs view's writes of temporal records (its tables are declared there).

    Row ids are handled as the canonical strings the upload chunks carry.
    """

    def _inputs_changed(self, curs: Cursor[DictRow], run_id: UUID, tracking: Tracking) -> None:
        """Record the log position of this write to the run's inputs (`run_input_stamps`).

        A change takes the run to its new version in one event and writes the records in
        its upload's chunk events after it: a reader that loaded the run between the two
        sees the new version with the old records, and only this position tells it so.
        """
        curs.execute(
            self.sql(
                "INSERT INTO {s}.run_input_stamps (run_id, stamp) VALUES (%s, %s)"
                " ON CONFLICT (run_id) DO UPDATE SET stamp = excluded.stamp"
            ),
            (run_id, tracking.notification_id),
        )

    def _current(
        self, curs: Cursor[DictRow], table: str, run_id: UUID, ids: list[str], columns: str = ""
    ) -> dict[str, DictRow]:
        """The current records of these rows, found by probing the primary key per row."""
        curs.execute(
            self.sql(
                f"SELECT x.* FROM unnest(%s::uuid[]) AS u(id), LATERAL ("
                f" SELECT t.ctid::text AS ctid, t.row_id::text AS id, t.valid_from{columns}"
                f" FROM {{s}}.{table} t"
                " WHERE t.run_id = %s AND t.row_id = u.id AND t.valid_to IS NULL OFFSET 0) AS x"
            ),
            (array_literal(ids), run_id),
        )
        return {r["id"]: r for r in curs.fetchall()}

    def _end(
        self, curs: Cursor[DictRow], table: str, run_id: UUID, version: int, current: dict[str, DictRow]
    ) -> None:
        """End these current records at `version`; drop the ones that began at it.

        The records were just read in this transaction, and this projection is their only
        writer, so their physical addresses (ctid) still hold them: the cheapest and most
        predictable way to reach them again.
        """
        begun = [r["ctid"] for r in current.values() if r["valid_from"] == version]
        earlier = [r["ctid"] for r in current.values() if r["valid_from"] < version]
        if begun:
            curs.execute(
                self.sql(f"DELETE FROM {{s}}.{table} WHERE ctid = ANY(%s::tid[])"), (array_literal(begun),)
            )
        if earlier:
            curs.execute(
                self.sql(f"UPDATE {{s}}.{table} SET valid_to = %s WHERE ctid = ANY(%s::tid[])"),
                (version, array_literal(earlier)),
            )

    def _copy_rows(self, curs: Cursor[DictRow], run_id: UUID, version: int, rows: list[tuple[Any, ...]]) -> None:
        """Rows (row id, global key, split, width, height, dataset id) from `version`."""
        if not rows:
            return
        with curs.copy(
            self.sql(
                "COPY {s}.run_rows (run_id, row_id, valid_from, global_key, split, width,"
                " height, dataset_id) FROM STDIN"
            )
        ) as copy:
            for row in rows:
                copy.write_row((run_id, row[0], version, *row[1:]))

    def snapshot_rows(self, run_id: UUID, version: int, rows: list[list[Any]], tracking: Tracking) -> None:
        """Rows [id, globalKey, split, width, height, datasetId] taken into the run.

        New rows are added; rows already there take the snapshot's split, and their labels
        end here: the upload's label chunks (if any for the row) bring the new ones.
        """
        by_id = {row[0]: row for row in rows}
        ids = list(by_id)
        with self.tracked(tracking) as curs:
            self._inputs_changed(curs, run_id, tracking)
            # A new run holds nothing before its own snapshot, which names each row once.
            present = {} if version == FIRST_VERSION else self._current(curs, "run_rows", run_id, ids, ", t.split")
            changed = {i: r for i, r in present.items() if r["split"] != by_id[i][2]}
            self._end(curs, "run_rows", run_id, version, changed)
            if present:
                labels = self._current(curs, "run_labels", run_id, [i for i in ids if i in present])
                self._end(curs, "run_labels", run_id, version, {i: r for i, r in labels.items() if r["valid_from"] < version})
            fresh = [i for i in ids if i not in present or i in changed]
            self._copy_rows(curs, run_id, version, [by_id[i] for i in fresh])

    def put_sets(
        self,
        table: SetTable,
        run_id: UUID,
        version: int,
        items: list[tuple[str, bytes, int]],
        tracking: Tracking,
    ) -> None:
        """(row id, JSON list, count) per row: each row's labels or predictions become these.

        No labels is no record; for predictions an empty list is a record: the row is
        covered and predicted nothing.
        """
        column, count_column = _SET_COLUMNS[table]
        if table == "run_labels":
            items = [item for item in items if item[2]]
        # A new run holds nothing before its own snapshot, whose chunks hold consecutive
        # rows: only a chunk's first row can have begun in the chunk before (a row with
        # more objects than one chunk takes).
        probed = [item[0] for item in items[:1]] if version == FIRST_VERSION else [item[0] for item in items]
        with self.tracked(tracking) as curs:
            self._inputs_changed(curs, run_id, tracking)
            current = self._current(curs, table, run_id, probed)
            self._end(curs, table, run_id, version, {i: r for i, r in current.items() if r["valid_from"] < version})
            begun = {i for i, r in current.items() if r["valid_from"] == version}
            if begun:
                self._amend(curs, table, run_id, version, [item for item in items if item[0] in begun])
            with curs.copy(
                self.sql(
                    f"COPY {{s}}.{table} (run_id, row_id, valid_from, {column}, {count_column})"
                    " FROM STDIN (FORMAT BINARY)"
                )
            ) as copy:
                copy.set_types(["uuid", "uuid", "int4", "bytea", "int4"])
                for row_id, data, count in items:
                    if row_id not in begun:
                        copy.write_row((run_id, UUID(row_id), version, data, count))

    def _amend(
        self, curs: Cursor[DictRow], table: SetTable, run_id: UUID, version: int, items: list[tuple[str, bytes, int]]
    ) -> None:
        """A row whose objects span several chunks of one upload: gather its lists."""
        column, count_column = _SET_COLUMNS[table]
        for row_id, data, count in items:
            curs.execute(
                self.sql(
                    f"SELECT {column} AS data FROM {{s}}.{table}"
                    " WHERE run_id = %s AND row_id = %s AND valid_from = %s"
                ),
                (run_id, row_id, version),
            )
            found = curs.fetchone()
            assert found is not None
            curs.execute(
                self.sql(
                    f"UPDATE {{s}}.{table} SET {column} = %s, {count_column} = {count_column} + %s"
                    " WHERE run_id = %s AND row_id = %s AND valid_from = %s"
                ),
                (join_lists(bytes(found["data"]), data), count, run_id, row_id, version),
            )

    def reassign_splits(self, run_id: UUID, version: int, pairs: list[list[str]], tracking: Tracking) -> None:
        """[[row id, split]]: rows whose split differs get a new record from `version`."""
        splits = dict(pairs)
        with self.tracked(tracking) as curs:
            self._inputs_changed(curs, run_id, tracking)
            columns = ", " + ", ".join(f"t.{c}" for c in _ROW_COLUMNS)
            current = self._current(curs, "run_rows", run_id, list(splits), columns)
            changed = {i: r for i, r in current.items() if r["split"] != splits[i]}
            self._end(curs, "run_rows", run_id, version, changed)
            self._copy_rows(
                curs,
                run_id,
                version,
                [(i, r["global_key"], splits[i], r["width"], r["height"], r["dataset_id"]) for i, r in changed.items()],
            )

    def remove_rows(self, run_id: UUID, version: int, ids: list[str], tracking: Tracking) -> None:
        """The rows leave the run at `version`, with their labels and predictions."""
        with self.tracked(tracking) as curs:
            self._inputs_changed(curs, run_id, tracking)
            for table in ("run_rows", "run_labels", "run_predictions"):
                self._end(curs, table, run_id, version, self._current(curs, table, run_id, ids))


def join_lists(first: bytes, second: bytes) -> bytes:
    """Two JSON lists (as stored) as one."""
    if first == b"[]":
        return second
    if second == b"[]":
        return first
    return first[:-1] + b"," + second[1:]
