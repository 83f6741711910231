"""Loading a run's current results into memory, once per change of the run or its results.

The run's evaluated rows are its current covered rows (METRICS.md §3) whose newest result
was computed with the run's current confidence thresholds; the other covered rows are
pending. Row ids travel as 16-byte keys (uuid_send): a million rows load as one buffer,
not a million Python objects, and are matched with numpy's sorted search.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from uuid import UUID

import numpy as np

from projections.metrics.assemble import assemble
from projections.metrics.custom import CustomValues, load_custom
from projections.metrics.match_table import MatchTable, from_payload, unpack
from projections.metrics.results import RunResults
from projections.metrics.split_figures import SplitFigures
from projections.metrics.view import MetricsView
from projections.row_keys import find, ids_of

SPLITS = ("TRAINING", "VALIDATION", "TEST", "UNASSIGNED")

_STAMP = (
    "SELECT m.version, v.metric_settings, coalesce(s.stamp, 0) AS stamp"
    " FROM {s}.model_runs m JOIN {s}.model_run_versions v ON v.run_id = m.id AND v.version = m.version"
    " LEFT JOIN {s}.metric_stamps s ON s.run_id = m.id WHERE m.id = %s"
)
_COVERED = (
    "SELECT coalesce(string_agg(uuid_send(p.row_id), ''::bytea ORDER BY p.row_id), ''::bytea) AS ids,"
    " coalesce(string_agg(CASE r.split WHEN 'TRAINING' THEN '0' WHEN 'VALIDATION' THEN '1'"
    " WHEN 'TEST' THEN '2' ELSE '3' END, '' ORDER BY p.row_id), '') AS splits"
    " FROM {s}.run_predictions p JOIN {s}.run_rows r"
    " ON r.run_id = p.run_id AND r.row_id = p.row_id AND r.valid_to IS NULL"
    " WHERE p.run_id = %s AND p.valid_to IS NULL"
)


@dataclass(frozen=True, slots=True)
class Stamp:
    """What a run's results in memory depend on: equal stamps, equal results."""

    version: int
    results: int


@dataclass(eq=False)
class LoadedRun:
    run_id: str
    stamp: Stamp
    settings: dict[str, object]
    results: RunResults
    keys: np.ndarray  # S16 row id per evaluated row, ascending
    splits: np.ndarray  # uint8 index into SPLITS per evaluated row
    covered: int
    custom: CustomValues

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
        return self.covered - self.results.n_rows

    def ids_at(self, rows: np.ndarray) -> list[str]:
        return ids_of(self.keys[rows])

    def rows_of_keys(self, keys: np.ndarray) -> np.ndarray:
        """The row numbers of these keys (-1 for a key that is not an evaluated row)."""
        return find(self.keys, keys)


def keys_array(raw: bytes | memoryview) -> np.ndarray:
    return np.frombuffer(bytes(raw), dtype="S16")


def read_stamp(view: MetricsView, run_id: UUID) -> tuple[Stamp, dict[str, object]] | None:
    row = view.fetch_one(_STAMP, (run_id,))
    if row is None:
        return None
    return Stamp(row["version"], int(row["stamp"])), row["metric_settings"]


def load_run(view: MetricsView, run_id: UUID, stamp: Stamp, settings: dict[str, object]) -> LoadedRun:
    thresholds = tuple(float(c) for c in settings["confidence_thresholds"])  # type: ignore[attr-defined]
    covered_row = view.fetch_one(_COVERED, (run_id,))
    assert covered_row is not None
    covered = keys_array(covered_row["ids"])
    covered_splits = np.frombuffer(covered_row["splits"].encode(), dtype=np.uint8) - ord("0")
    parts = view.fetch(
        "SELECT run_version, seq, payload FROM {s}.metric_parts WHERE run_id = %s ORDER BY seq", (run_id,)
    )
    tables: list[MatchTable] = [from_payload(unpack(bytes(p["payload"]))) for p in parts]
    table, keys = _current(tables, parts, covered, thresholds)
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
    )
    loaded.custom = load_custom(view, run_id, loaded, thresholds)
    return loaded


def _current(
    tables: list[MatchTable], parts: list[dict[str, object]], covered: np.ndarray, thresholds: tuple[float, ...]
) -> tuple[MatchTable, np.ndarray]:
    """Each covered row's newest result (highest run version, then latest recorded), when it
    was computed with the current thresholds: one table over those rows, and their keys."""
    if not tables:
        return assemble([], [], thresholds=thresholds), np.empty(0, dtype="S16")
    part_keys = [t.row_keys for t in tables]
    keys = np.concatenate(part_keys)
    version = np.concatenate([np.full(k.size, p["run_version"], np.int64) for k, p in zip(part_keys, parts, strict=True)])
    seq = np.concatenate([np.full(k.size, p["seq"], np.int64) for k, p in zip(part_keys, parts, strict=True)])
    usable = np.concatenate(
        [np.full(k.size, t.confidence_thresholds == thresholds) for k, t in zip(part_keys, tables, strict=True)]
    )
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
    bounds = np.cumsum([0, *(k.size for k in part_keys)])
    positions = [position[bounds[i] : bounds[i + 1]] for i in range(len(tables))]
    chosen = [i for i, p in enumerate(positions) if (p >= 0).any()]
    table = assemble([tables[i] for i in chosen], keys[newest], [positions[i] for i in chosen], thresholds=thresholds)
    return table, keys[newest]

