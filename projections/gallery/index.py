"""A run's data rows in memory, as the gallery filters and sorts them.

Built once per change of the run (its version), of its uploads' parts or of its rows, and kept while
neither changes: every current data row (16-byte keys ascending, global keys, splits,
datasets) and, per side, the objects of each row (row, feature, confidence) from the newest
part naming the row. Metadata columns are read on first use, one key at a time, and then
follow the catalog row by row.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from uuid import UUID

import numpy as np

from projections.gallery.parts import ANNOTATIONS, PREDICTIONS, Part, unpack
from projections.gallery.view import GalleryView
from projections.row_keys import find, ids_of

# Derived columns kept per index (each one value per row).
DERIVED_COLUMNS = 64

_ROWS = (
    "SELECT coalesce(string_agg(uuid_send(row_id), ''::bytea ORDER BY row_id), ''::bytea) AS ids,"
    " coalesce(string_agg(CASE split WHEN 'TRAINING' THEN '0' WHEN 'VALIDATION' THEN '1'"
    " WHEN 'TEST' THEN '2' ELSE '3' END, '' ORDER BY row_id), '') AS splits,"
    " coalesce(array_agg(global_key ORDER BY row_id), '{{}}') AS global_keys,"
    " coalesce(array_agg(DISTINCT dataset_id), '{{}}') AS datasets"
    " FROM {s}.run_rows WHERE run_id = %(run)s"
)
_CURRENT = " AND valid_to IS NULL"
_AS_OF = " AND valid_from <= %(v)s AND (valid_to IS NULL OR valid_to > %(v)s)"


@dataclass(frozen=True, eq=False)
class Objects:
    """One side's objects of the current rows, sorted by row."""

    rows: np.ndarray  # int64 index into the index's rows
    features: np.ndarray  # int32 index into GalleryIndex.features
    confidences: np.ndarray  # float64, NaN = none

    def per_row(self, n_rows: int, wanted: np.ndarray | None = None) -> np.ndarray:
        """Objects per row (of the wanted features only, when given)."""
        rows = self.rows if wanted is None else self.rows[np.isin(self.features, wanted)]
        return np.bincount(rows, minlength=n_rows)


@dataclass(frozen=True, eq=False)
class MetadataColumn:
    """A metadata field's values per row, as of a position in the log: every later change
    of a row's metadata has a greater `metadata_at` in the catalog."""

    values: np.ndarray
    stamp: object  # the datasets' versions it was read at
    as_of: int


@dataclass(eq=False)
class GalleryIndex:
    run_id: UUID
    model_id: UUID  # a run's model never changes
    stamp: tuple[int, int, int]  # (run version, log positions of the last part and of the last row write)
    keys: np.ndarray  # S16 ascending
    global_keys: np.ndarray  # str per row
    splits: np.ndarray  # uint8 index into SPLITS
    datasets: list[UUID]
    features: list[str]
    annotations: Objects
    predictions: Objects
    # The version it shows when that is not the run's latest (rows, splits and objects as
    # they were then; metadata is the catalog's, which no run version holds).
    as_of: int | None = None
    _metadata: dict[tuple[str, str], MetadataColumn] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _results_rows: tuple[object, np.ndarray] | None = None
    _derived: dict[object, np.ndarray] = field(default_factory=dict)

    @property
    def n_rows(self) -> int:
        return int(self.keys.size)

    def feature_indices(self, names: tuple[str, ...] | list[str]) -> np.ndarray:
        known = {name: i for i, name in enumerate(self.features)}
        return np.asarray([known[n] for n in names if n in known], dtype=np.int32)

    def rows_of_keys(self, keys: np.ndarray) -> np.ndarray:
        """The row of each key, -1 for a key that is not a current row."""
        return find(self.keys, keys)

    def rows_of_results(self, keys: np.ndarray, stamp: object) -> np.ndarray:
        """The row of each evaluated row's key (`keys` of the metrics results with `stamp`),
        -1 where it is not a current row; kept while the results are the same."""
        with self._lock:
            if self._results_rows is None or self._results_rows[0] != stamp:
                self._results_rows = (stamp, self.rows_of_keys(keys))
            return self._results_rows[1]

    def derived(self, key: object, compute: Callable[[], np.ndarray]) -> np.ndarray:
        """A column derived from this index alone (object counts, confidence columns), kept
        with it; the least recently made go past DERIVED_COLUMNS."""
        found = self._derived.get(key)
        if found is None:
            found = compute()
            with self._lock:
                self._derived[key] = found
                while len(self._derived) > DERIVED_COLUMNS:
                    self._derived.pop(next(iter(self._derived)))
        return found

    def ids_at(self, rows: np.ndarray) -> list[str]:
        return ids_of(self.keys[rows])

    def metadata_column(self, view: GalleryView, key: str, kind: str, datasets_stamp: object) -> np.ndarray:
        """Values of a metadata field per row: float64 (NaN = absent) for numbers and
        datetimes (seconds since the epoch), str ('' = absent) otherwise.

        Read whole once; when the datasets' versions (`datasets_stamp`) move, only the rows
        whose metadata changed since are read again, into a new array (one already handed
        out never changes)."""
        with self._lock:
            found = self._metadata.get((key, kind))
            if found is None:
                found = self._metadata[(key, kind)] = _metadata_column(view, self, key, kind, datasets_stamp)
            elif found.stamp != datasets_stamp:
                found = self._metadata[(key, kind)] = _metadata_changes(view, self, key, kind, found, datasets_stamp)
            return found.values

def load_index(
    view: GalleryView, run_id: UUID, model_id: UUID, stamp: tuple[int, int, int], as_of: int | None = None
) -> GalleryIndex:
    """The run's rows and objects now, or as of an older version: the rows valid then and
    each one's objects from the newest part up to that version."""
    row = view.fetch_one(_ROWS + (_CURRENT if as_of is None else _AS_OF), {"run": run_id, "v": as_of})
    assert row is not None
    keys = np.frombuffer(bytes(row["ids"]), dtype="S16")
    features: dict[str, int] = {}
    sides = {}
    for side in (ANNOTATIONS, PREDICTIONS):
        parts = [unpack(p) for p in view.parts(run_id, side, as_of)]
        sides[side] = _merge(parts, keys, features)
    return GalleryIndex(
        run_id=run_id,
        model_id=model_id,
        stamp=stamp,
        keys=keys,
        global_keys=np.asarray(row["global_keys"], dtype=np.str_),
        splits=np.frombuffer(row["splits"].encode(), dtype=np.uint8) - ord("0"),
        datasets=list(row["datasets"]),
        features=list(features),
        annotations=sides[ANNOTATIONS],
        predictions=sides[PREDICTIONS],
        as_of=as_of,
    )


def _merge(parts: list[Part], current: np.ndarray, features: dict[str, int]) -> Objects:
    """Each current row's objects from the newest part naming it (parts in log order).

    Whole-array work on integer row numbers: the part keys are looked up among the current
    rows once, and a stable sort by row number keeps log order, so a row's last entry is its
    newest part (sorting the 16-byte keys themselves costs several times more)."""
    empty = Objects(np.empty(0, np.int64), np.empty(0, np.int32), np.empty(0, np.float64))
    if not parts or current.size == 0:
        return empty
    row_of = find(current, np.concatenate([p.keys for p in parts]))
    order = np.argsort(row_of, kind="stable")
    ordered = row_of[order]
    newest = order[np.r_[ordered[1:] != ordered[:-1], True]]
    winner = np.zeros(row_of.size, dtype=bool)
    winner[newest] = True
    winner &= row_of >= 0
    # Every object's entry (part key) and its feature among all the parts' names.
    counts = np.concatenate([np.diff(p.ends, prepend=0) for p in parts])
    entry = np.repeat(np.arange(row_of.size), counts)
    name_offsets = np.cumsum([0, *(len(p.names) for p in parts)])
    local = np.concatenate([p.features.astype(np.int64) for p in parts])
    global_name = local + np.repeat(name_offsets[:-1], [p.features.size for p in parts])
    mapping = np.asarray(
        [features.setdefault(name, len(features)) for p in parts for name in p.names], dtype=np.int32
    )
    keep = winner[entry]
    rows = row_of[entry[keep]]
    order = np.argsort(rows, kind="stable")
    return Objects(
        rows[order],
        mapping[global_name[keep]][order] if mapping.size else np.empty(0, np.int32),
        np.concatenate([p.confidences for p in parts])[keep][order],
    )


_METADATA = {
    "NUMBER": "(d.metadata->>%s)::float8",
    "DATETIME": "extract(epoch FROM (d.metadata->>%s)::timestamptz)::float8",
}
_RUN_ROWS = (
    " FROM {s}.run_rows r JOIN {s}.catalog_data_rows d ON d.dataset_id = r.dataset_id AND d.id = r.row_id"
    " WHERE r.run_id = %s AND r.valid_to IS NULL"
)


def _metadata_column(view: GalleryView, index: GalleryIndex, key: str, kind: str, stamp: object) -> MetadataColumn:
    expression = _METADATA.get(kind, "d.metadata->>%s")
    row = view.fetch_one(
        "SELECT coalesce(array_agg(" + expression + " ORDER BY r.row_id), '{{}}') AS v,"
        " coalesce(max(d.metadata_at), 0) AS as_of" + _RUN_ROWS,
        (key, index.run_id),
    )
    values = row["v"] if row else []
    if len(values) != index.n_rows:
        raise RuntimeError(f"metadata {key!r} of run {index.run_id}: {len(values)} values for {index.n_rows} rows")
    return MetadataColumn(_as_column(values, kind), stamp, int(row["as_of"]) if row else 0)


def _metadata_changes(
    view: GalleryView, index: GalleryIndex, key: str, kind: str, column: MetadataColumn, stamp: object
) -> MetadataColumn:
    """The column with the rows whose metadata changed after `column.as_of` read again."""
    expression = _METADATA.get(kind, "d.metadata->>%s")
    # The changed catalog rows first (by their index), then each one's run row by key:
    # left to itself the planner joins the run's every row to the catalog.
    rows = view.fetch(
        "WITH changed AS MATERIALIZED (SELECT d.dataset_id, d.id, " + expression + " AS v, d.metadata_at"
        " FROM {s}.catalog_data_rows d WHERE d.dataset_id = ANY(%s) AND d.metadata_at > %s)"
        " SELECT uuid_send(c.id) AS key, c.v, c.metadata_at FROM changed c JOIN {s}.run_rows r"
        " ON r.run_id = %s AND r.row_id = c.id AND r.dataset_id = c.dataset_id AND r.valid_to IS NULL",
        (key, index.datasets, column.as_of, index.run_id),
    )
    if not rows:
        return MetadataColumn(column.values, stamp, column.as_of)
    at = index.rows_of_keys(np.frombuffer(b"".join(bytes(r["key"]) for r in rows), dtype="S16"))
    if (at < 0).any():
        raise RuntimeError(f"metadata {key!r} of run {index.run_id}: a changed row is not in the index")
    changed = _as_column([r["v"] for r in rows], kind)
    values = column.values.astype(np.result_type(column.values, changed))
    values[at] = changed
    return MetadataColumn(values, stamp, max(column.as_of, max(int(r["metadata_at"]) for r in rows)))


def _as_column(values: list[object], kind: str) -> np.ndarray:
    if kind in _METADATA:
        return np.asarray([np.nan if v is None else v for v in values], dtype=np.float64)
    return np.asarray(["" if v is None else v for v in values], dtype=np.str_)
