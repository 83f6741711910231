"""Loading a run's current results into memory, once per change of the run or its results.

The run's evaluated rows are its current covered rows (docs/metrics.md §4) whose newest result
was computed with the run's current confidence thresholds; the other covered rows are
pending. Row ids travel as 16-byte keys (uuid_send): a million rows load as one buffer,
not a million Python objects, and are matched with numpy's sorted search.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import numpy as np

from domain.splits import SPLITS
from projections.metrics.assemble import assemble
from projections.metrics.custom import CustomValues, load_custom
from projections.metrics.match_table import MatchTable, from_payload, unpack
from projections.metrics.results import RunResults
from projections.metrics.split_figures import SplitFigures
from projections.metrics.view import MetricsView
from projections.model_runs.view import as_of
from projections.row_keys import find, ids_of

# The stamp: the version, the position of the last result and of the last write to the
# run's inputs (a version's rows are written by events after the one that makes it).
_STAMP = (
    "SELECT m.version, v.metric_settings, coalesce(s.stamp, 0) AS stamp, coalesce(i.stamp, 0) AS inputs"
    " FROM {s}.model_runs m JOIN {s}.model_run_versions v ON v.run_id = m.id AND v.version = m.version"
    " LEFT JOIN {s}.metric_stamps s ON s.run_id = m.id"
    " LEFT JOIN {s}.run_input_stamps i ON i.run_id = m.id WHERE m.id = %s"
)
_STAMP_AT = (
    "SELECT v.version, v.metric_settings, coalesce(s.stamp, 0) AS stamp, coalesce(i.stamp, 0) AS inputs"
    " FROM {s}.model_run_versions v LEFT JOIN {s}.metric_stamps s ON s.run_id = v.run_id"
    " LEFT JOIN {s}.run_input_stamps i ON i.run_id = v.run_id"
    " WHERE v.run_id = %s AND v.version = %s"
)
_NEVER = 2**31 - 1


# The covered rows at a version, with their splits and the versions [lo, hi) over which
# their inputs (labels and predictions) stay as they are at that version: a result
# computed at a run version in that range was computed from exactly these inputs.
_COVERED = (
    # Unordered (the four aggregates see the rows in one order; sorted here): ordered, each
    # of them sorted the rows again, a third of the query's 450 ms at 100,000 rows.
    "SELECT coalesce(string_agg(uuid_send(p.row_id), ''::bytea), ''::bytea) AS ids,"
    " coalesce(string_agg(CASE r.split WHEN 'TRAINING' THEN '0' WHEN 'VALIDATION' THEN '1'"
    " WHEN 'TEST' THEN '2' ELSE '3' END, ''), '') AS splits,"
    " coalesce(string_agg(int4send(greatest(p.valid_from, coalesce(l.valid_from, 0))), ''::bytea), ''::bytea) AS lo,"
    f" coalesce(string_agg(int4send(least(coalesce(p.valid_to, {_NEVER}), coalesce(l.valid_to, {_NEVER}))),"
    " ''::bytea), ''::bytea) AS hi"
    " FROM {s}.run_predictions p JOIN {s}.run_rows r"
    f" ON r.run_id = p.run_id AND r.row_id = p.row_id AND {as_of('r')}"
    f" LEFT JOIN {{s}}.run_labels l ON l.run_id = p.run_id AND l.row_id = p.row_id AND {as_of('l')}"
    f" WHERE p.run_id = %(run)s AND {as_of('p')}"
)
# The covered rows at the latest version whose newest result is not from their current
# inputs and settings: the rows still to compute (metric_rows points at each row's newest).
_PENDING = (
    "SELECT count(*) AS n FROM {s}.run_predictions p"
    " JOIN {s}.run_rows r ON r.run_id = p.run_id AND r.row_id = p.row_id AND r.valid_to IS NULL"
    " LEFT JOIN {s}.run_labels l ON l.run_id = p.run_id AND l.row_id = p.row_id AND l.valid_to IS NULL"
    " LEFT JOIN {s}.metric_rows m ON m.run_id = p.run_id AND m.row_id = p.row_id"
    " LEFT JOIN {s}.model_run_versions mv ON mv.run_id = m.run_id AND mv.version = m.run_version"
    " WHERE p.run_id = %(run)s AND p.valid_to IS NULL AND (m.run_version IS NULL"
    " OR m.run_version < greatest(p.valid_from, coalesce(l.valid_from, 0))"
    " OR mv.metric_settings IS DISTINCT FROM (SELECT v.metric_settings FROM {s}.model_runs x"
    " JOIN {s}.model_run_versions v ON v.run_id = x.id AND v.version = x.version WHERE x.id = %(run)s))"
)
# The run's versions whose metric settings are those of a version: results computed at
# any of them are results under these settings.
_SAME_SETTINGS = (
    "SELECT coalesce(array_agg(o.version), '{{}}') AS versions FROM {s}.model_run_versions o"
    " JOIN {s}.model_run_versions v ON v.run_id = o.run_id AND v.metric_settings = o.metric_settings"
    " WHERE v.run_id = %s AND v.version = %s"
)


@dataclass(frozen=True, slots=True)
class Stamp:
    """What a run's results in memory depend on: equal stamps, equal results."""

    version: int
    results: int
    inputs: int


@dataclass(eq=False)
class LoadedRun:
    run_id: str
    stamp: Stamp
    settings: dict[str, Any]  # the run's MetricSettings.to_dict(), as the read model holds it
    results: RunResults
    keys: np.ndarray  # S16 row id per evaluated row, ascending
    splits: np.ndarray  # uint8 index into SPLITS per evaluated row
    covered: int
    custom: CustomValues
    # The version read when it is not the latest: then every result is one computed from
    # that version's inputs and settings (no newer, no older).
    as_of: int | None = None
    # Covered rows with a result computed from their inputs as they are at the version read.
    exact_rows: int = 0

    _figures: SplitFigures | None = None
    # What other read models derive from these results (automatic slices per grid point):
    # kept as long as the results are.
    derived: dict[object, object] = field(default_factory=dict)

    @property
    def figures(self) -> SplitFigures:
        """Figures per split, made at first use (most queries cover splits or everything)."""
        if self._figures is None:
            self._figures = SplitFigures(self.results, self.splits, len(SPLITS))
        return self._figures

    @property
    def row_ids(self) -> list[str]:
        return self.results.table.row_ids

    @property
    def pending_rows(self) -> int:
        """Covered rows whose inputs at the version read have no result yet."""
        return self.covered - self.exact_rows

    def ids_at(self, rows: np.ndarray) -> list[str]:
        return ids_of(self.keys[rows])

    def rows_of_keys(self, keys: np.ndarray) -> np.ndarray:
        """The row numbers of these keys (-1 for a key that is not an evaluated row)."""
        return find(self.keys, keys)


def keys_array(raw: bytes | memoryview) -> np.ndarray:
    return np.frombuffer(bytes(raw), dtype="S16")


def read_stamp(view: MetricsView, run_id: UUID, version: int | None = None) -> tuple[Stamp, dict[str, Any]] | None:
    """The run's latest version (or the one asked for), its results' stamp and its settings."""
    row = view.fetch_one(_STAMP, (run_id,)) if version is None else view.fetch_one(_STAMP_AT, (run_id, version))
    if row is None:
        return None
    return Stamp(row["version"], int(row["stamp"]), int(row["inputs"])), row["metric_settings"]


def pending_rows(view: MetricsView, run_id: UUID) -> int:
    """Evaluated rows whose current inputs have no result yet (what `LoadedRun.pending_rows`
    counts, without loading the results)."""
    row = view.fetch_one(_PENDING, {"run": run_id})
    return int(row["n"]) if row else 0


def load_run(
    view: MetricsView, run_id: UUID, stamp: Stamp, settings: dict[str, Any], as_of: int | None = None
) -> LoadedRun:
    """The run's results in memory: at the latest version, each covered row's newest result
    under the current thresholds (an older one stands in while its row is pending); at an
    older version, only results computed from that version's very inputs and settings."""
    thresholds = tuple(float(c) for c in settings["confidence_thresholds"])
    covered_row = view.fetch_one(_COVERED, {"run": run_id, "v": stamp.version})
    assert covered_row is not None
    covered = keys_array(covered_row["ids"])
    order = np.argsort(covered, kind="stable")  # as PostgreSQL orders uuids: byte by byte
    covered = covered[order]
    covered_splits = (np.frombuffer(covered_row["splits"].encode(), dtype=np.uint8) - ord("0"))[order]
    inputs = (
        np.frombuffer(bytes(covered_row["lo"]), dtype=">i4").astype(np.int64)[order],
        np.frombuffer(bytes(covered_row["hi"]), dtype=">i4").astype(np.int64)[order],
    )
    same = view.fetch_one(_SAME_SETTINGS, (run_id, stamp.version))
    same_settings = np.asarray(sorted(same["versions"]) if same else [], dtype=np.int64)
    # The latest version needs the parts some row's newest result is in; an older one all of
    # them, superseded results included.
    newest_only = "" if as_of is not None else " AND EXISTS (SELECT 1 FROM {s}.metric_rows r WHERE r.part_id = p.id)"
    parts = view.fetch(
        "SELECT run_version, seq, payload FROM {s}.metric_parts p WHERE p.run_id = %s" + newest_only + " ORDER BY seq",
        (run_id,),
        binary=True,  # 44 MB of parts at 100,000 rows: 270 ms as text, 115 ms binary
    )
    tables: list[MatchTable] = [from_payload(unpack(bytes(p["payload"]))) for p in parts]
    rows = _PartRows.of(tables, parts, thresholds)
    exact = _exact(rows, covered, inputs, same_settings)
    table, keys = _current(tables, rows, covered, thresholds, exact if as_of is not None else None)
    exact_rows = int(np.unique(rows.keys[exact]).size)
    results = RunResults(table)
    splits = covered_splits[np.searchsorted(covered, keys)] if keys.size else np.empty(0, np.uint8)
    loaded = LoadedRun(
        run_id=str(run_id),
        stamp=stamp,
        settings=settings,
        results=results,
        keys=keys,
        splits=splits,
        covered=int(covered.size),
        custom=CustomValues.empty(thresholds),
        as_of=as_of,
        exact_rows=exact_rows,
    )
    loaded.custom = load_custom(view, run_id, loaded, thresholds, as_of)
    return loaded


@dataclass(frozen=True, eq=False)
class _PartRows:
    """Per row of every part (the parts' rows concatenated): its key, the run version and
    log position of its part, and whether its part used the thresholds read."""

    keys: np.ndarray
    version: np.ndarray
    seq: np.ndarray
    same: np.ndarray
    bounds: np.ndarray  # where each part's rows start, and the end

    @classmethod
    def of(cls, tables: list[MatchTable], parts: list[dict[str, object]], thresholds: tuple[float, ...]) -> _PartRows:
        sizes = [t.row_keys.size for t in tables]

        def each(values: list[object], dtype: type) -> np.ndarray:
            return np.repeat(np.asarray(values, dtype=dtype), sizes)

        return cls(
            keys=np.concatenate([t.row_keys for t in tables]) if tables else np.empty(0, dtype="S16"),
            version=each([p["run_version"] for p in parts], np.int64),
            seq=each([p["seq"] for p in parts], np.int64),
            same=each([t.confidence_thresholds == thresholds for t in tables], bool),
            bounds=np.cumsum([0, *sizes]),
        )


def _exact(
    rows: _PartRows, covered: np.ndarray, inputs: tuple[np.ndarray, np.ndarray], same_settings: np.ndarray
) -> np.ndarray:
    """Per result: computed from its row's inputs as they are at the version read, under
    that version's settings."""
    if not rows.keys.size:
        return np.zeros(0, dtype=bool)
    at = find(covered, rows.keys)
    row = np.maximum(at, 0)
    lo, hi = inputs
    version = rows.version
    return (
        (at >= 0)
        & rows.same
        & np.isin(version, same_settings)
        & (lo[row] <= version if lo.size else False)
        & (version < hi[row] if hi.size else False)
    )


def _current(
    tables: list[MatchTable],
    rows: _PartRows,
    covered: np.ndarray,
    thresholds: tuple[float, ...],
    exact: np.ndarray | None = None,
) -> tuple[MatchTable, np.ndarray]:
    """Each covered row's newest result (highest run version, then latest recorded), when it
    was computed with the current thresholds (and, given `exact`, from the very inputs and
    settings of the version read): one table over those rows, and their keys."""
    if not tables:
        return assemble([], [], thresholds=thresholds), np.empty(0, dtype="S16")
    keys, version, seq, usable = rows.keys, rows.version, rows.seq, rows.same.copy()
    if exact is not None:
        # Results that do not belong to the version read are left out before choosing.
        keys = np.where(exact, keys, b"")
        usable &= exact
    order = np.lexsort((seq, version, keys))
    ordered = keys[order]
    newest = order[np.r_[ordered[1:] != ordered[:-1], True]]  # ascending by key
    if covered.size:
        at = np.minimum(np.searchsorted(covered, keys[newest]), covered.size - 1)
        newest = newest[(covered[at] == keys[newest]) & usable[newest]]
    else:
        newest = newest[:0]
    position = np.full(keys.size, -1, dtype=np.int64)
    position[newest] = np.arange(newest.size)
    bounds = rows.bounds
    positions = [position[bounds[i] : bounds[i + 1]] for i in range(len(tables))]
    chosen = [i for i, p in enumerate(positions) if (p >= 0).any()]
    table = assemble([tables[i] for i in chosen], keys[newest], [positions[i] for i in chosen], thresholds=thresholds)
    return table, keys[newest]

