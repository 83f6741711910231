"""The metrics view's queries: a run's metrics at any grid point, over any selection of rows.

Each query reads one small stamp (the run's version, the position of its last result and
that of the last write to its rows, labels or predictions);
the run's results stay in memory while the stamp holds, so a query is numpy over columns
already there. A new result, a removed row or a new split changes the stamp, and the next
query loads the run again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any, Protocol
from uuid import UUID

import numpy as np
from psycopg.rows import DictRow

from domain.computations import METRICS
from domain.errors import NotFound, ValidationFailed
from domain.filter_language import Clause, SplitClause, depends_on_results
from domain.metrics import Counts
from domain.splits import parse_split
from projections.computation_status.queries import (
    COMPUTING,
    IN_SYNC,
    ComputationStatusQueries,
    StatusRecord,
)
from projections.ids import as_uuid
from projections.metrics.filters import (
    GalleryRows,
    Grid,
    feature_index,
    row_mask,
)
from projections.metrics.loader import (
    SPLITS,
    LoadedRun,
    Stamp,
    load_run,
    pending_rows,
    read_stamp,
)
from projections.metrics.records import (
    ConfusionCellRecord,
    ConfusionRecord,
    FeatureRecord,
    MetricsRecord,
    RowFigures,
    RowRef,
    RunAt,
)
from projections.metrics.reports import PrPoint, feature_report
from projections.metrics.view import MetricsView
from projections.postgres_view import encode_cursor, int_cursor, page_size
from projections.records import Page
from projections.row_keys import row_keys
from projections.run_memory import RunMemory

CACHED_RUNS = 4
# Up to this many features a confusion matrix lists them all; past it, the non-empty ones.
DENSE_CONFUSION_FEATURES = 200


class MetricsOutOfSync(ValidationFailed):
    """A filter on metric values while they are being computed."""


def split_selection(clauses: Sequence[Clause]) -> list[int] | None:
    """The splits (as codes) when the clauses select whole splits only, else None."""
    chosen = set(range(len(SPLITS)))
    for clause in clauses:
        if not isinstance(clause, SplitClause):
            return None
        chosen &= {SPLITS.index(parse_split(s).value) for s in clause.splits}
    return sorted(chosen)


def _value(x: float) -> float | None:
    return None if np.isnan(x) else float(x)


def grid_point(settings: Mapping[str, Any], confidence: float, iou: float) -> Grid:
    """The grid point's position in the run's metric settings; a value off the run's grid
    is refused, named."""
    confidences = [float(c) for c in settings["confidence_thresholds"]]
    if confidence not in confidences:
        raise ValidationFailed(f"confidence {confidence!r} is not a confidence threshold of this run: {confidences}")
    return confidences.index(confidence), iou_threshold(settings, iou)


def iou_threshold(settings: Mapping[str, Any], iou: float) -> float:
    ious = [float(t) for t in settings["iou_thresholds"]]
    if iou not in ious:
        raise ValidationFailed(f"iou {iou!r} is not an IoU threshold of this run: {ious}")
    return float(iou)


class RunRows(Protocol):
    """What the metrics read model asks of the model runs' read model (projections/model_runs)."""

    def model_ids(self, run_ids: Sequence[str]) -> set[UUID]: ...

    def global_keys_of(self, run_id: str, ids: Sequence[str], version: int | None = None) -> dict[str, str]: ...

    def ids_of_global_keys(self, run_id: str, global_keys: Sequence[str], version: int | None = None) -> list[str]: ...


class MetricQueries:
    def __init__(
        self,
        view: MetricsView,
        status: ComputationStatusQueries,
        runs: RunRows,
        results_position: Callable[[int], int | None] = lambda position: None,
    ) -> None:
        self.view = view
        self.status_queries = status
        self.runs = runs
        # Where this read model is, when it lags behind a position of the log that holds
        # results (None when it holds all of them): the status is not IN_SYNC before the
        # results it announces can be read.
        self._results_position = results_position
        self._runs: RunMemory[str, LoadedRun] = RunMemory(CACHED_RUNS)
        # Set by the gallery once it exists: the rows of clauses only it can answer.
        self.gallery_rows: GalleryRows | None = None

    # -- the run in memory ---------------------------------------------------------------

    def loaded(self, run_id: UUID | str | RunAt) -> LoadedRun:
        """The run's results in memory: at its latest version, or (a RunAt) at an older one,
        refused while some of that version's rows have no result."""
        loaded = self._load(run_id)
        if loaded.as_of is not None and loaded.pending_rows:
            raise ValidationFailed(
                f"the metrics of version {loaded.as_of} are not available: {loaded.pending_rows} of its "
                f"{loaded.covered} evaluated data rows have no result computed from that version's inputs "
                "(the run changed before they were computed); read the latest version"
            )
        return loaded

    def _load(self, run_id: UUID | str | RunAt) -> LoadedRun:
        as_of = run_id.version if isinstance(run_id, RunAt) else None
        parsed = as_uuid(str(run_id))
        found = None if parsed is None else read_stamp(self.view, parsed, as_of)
        if parsed is None or found is None:
            raise NotFound(f"model run {run_id} not found" if as_of is None else f"model run {run_id} has no version {as_of}")
        stamp, settings = found
        key = str(parsed) if as_of is None else f"{parsed}@{as_of}"
        return self._runs.get(key, stamp, lambda: load_run(self.view, parsed, stamp, settings, as_of))

    def warm(self, run_id: UUID) -> None:
        """Loads the run's results and computes the per-row metrics (and so the cell counts)
        of the grid point nearest (0.5, 0.5), the point the web app opens a run at."""
        loaded = self.loaded(run_id)
        confidences = [float(c) for c in loaded.settings["confidence_thresholds"]]
        ious = [float(t) for t in loaded.settings["iou_thresholds"]]
        if confidences and ious:
            c_index = min(range(len(confidences)), key=lambda i: abs(confidences[i] - 0.5))
            loaded.results.row_metrics(c_index, min(ious, key=lambda t: abs(t - 0.5)))

    def row_figures(self, run_id: UUID | str | RunAt, ids: Sequence[str], confidence: float, iou: float) -> dict[str, RowFigures]:
        """The metrics of each of these rows at the grid point, by id; a row without a result
        (not evaluated) is left out."""
        loaded = self.loaded(run_id)
        m = loaded.results.row_metrics(*self.grid(loaded, confidence, iou))
        at = loaded.rows_of_keys(row_keys(list(ids)))
        figures = {}
        for row_id, r in zip(ids, at.tolist(), strict=True):
            if r >= 0:
                figures[row_id] = RowFigures(
                    int(m.tp[r]), int(m.fp[r]), int(m.fn[r]), int(m.tn[r]),
                    _value(m.precision[r]), _value(m.recall[r]), _value(m.f1[r]), _value(m.iou[r]),
                )  # fmt: skip
        return figures

    def is_current(self, run_id: UUID) -> bool:
        """Whether the run's latest results in memory are the ones a read now would use."""
        found = read_stamp(self.view, run_id)
        cached = self._runs.peek(str(run_id))
        return found is not None and cached is not None and cached.stamp == found[0]

    def forget(self, run_id: UUID) -> None:
        """Drops the run's latest results from memory (the next read loads them again)."""
        self._runs.forget(str(run_id))

    def runs_in_memory(self) -> list[UUID]:
        """The runs whose latest results are in memory, most recently read first."""
        return [UUID(key) for key in self._runs.keys() if "@" not in key]

    def stamp(self, run_id: UUID) -> Stamp | None:
        found = read_stamp(self.view, run_id)
        return None if found is None else found[0]

    def status(self, run_id: UUID | str | RunAt) -> StatusRecord:
        """The live status; at an older version (a RunAt), whether that version's results are
        all there (IN_SYNC), else the live computation's state with that version's rows still
        without a result."""
        if isinstance(run_id, RunAt):
            live = self.status(run_id.run_id)
            pending = self._load(run_id).pending_rows
            if pending == 0:
                return StatusRecord(IN_SYNC, 0, 0, 0, None, position=live.position)
            return replace(live, state=COMPUTING if live.state == IN_SYNC else live.state, pending_data_rows=pending)
        parsed = as_uuid(str(run_id))
        if parsed is None:
            raise NotFound(f"model run {run_id} not found")
        status = self.status_queries.status(parsed, METRICS)
        if status.state == IN_SYNC:
            if self._results_position(status.position) is None:
                return status
            # Done, but the results are not all read yet: still computing, for a reader.
            status = replace(status, state=COMPUTING)
        # One definition of pending everywhere: the evaluated rows whose current inputs have
        # no result yet (computations overlap, and plan rows that are not evaluated).
        pending = pending_rows(self.view, parsed)
        if pending == 0 and status.state == COMPUTING:
            # The run's rows are read from another read model, which may not hold yet the
            # upload the computations already announce: their own plan is the figure then.
            pending = status.pending_data_rows
        return replace(status, pending_data_rows=pending)

    def grid(self, loaded: LoadedRun, confidence: float, iou: float) -> Grid:
        return grid_point(loaded.settings, confidence, iou)

    def iou_threshold(self, loaded: LoadedRun, iou: float) -> float:
        return iou_threshold(loaded.settings, iou)

    def require_in_sync(self, run_id: str, what: str, loaded: LoadedRun | None = None) -> None:
        if loaded is not None and loaded.as_of is not None:
            return  # an older version's results are complete and final once loaded

        status = self.status(run_id)
        if status.state == COMPUTING:
            raise MetricsOutOfSync(
                f"metrics out of sync: {status.pending_data_rows} data rows pending; {what} "
                "are available again once the computation completes"
            )

    def selection(self, loaded: LoadedRun, clauses: Sequence[Clause], grid: Grid) -> np.ndarray | None:
        if depends_on_results(clauses):
            self.require_in_sync(loaded.run_id, "filters on metrics", loaded)
        gallery = self.gallery_rows
        if gallery is not None and loaded.as_of is not None:
            # The gallery answers its clauses as of the same version.
            latest_gallery, version = gallery, loaded.as_of
            gallery = lambda run, chosen, point: latest_gallery(RunAt(str(run), version), chosen, point)  # noqa: E731
        return row_mask(loaded, clauses, grid, lambda keys: self.resolve_keys(loaded, keys), gallery)

    # -- metrics -------------------------------------------------------------------------

    def metrics(self, run_id: UUID | str, confidence: float, iou: float, clauses: Sequence[Clause] = ()) -> MetricsRecord:
        loaded = self.loaded(run_id)
        grid = self.grid(loaded, confidence, iou)
        splits = split_selection(clauses)
        if splits is not None:
            counts = loaded.figures.feature_counts(grid[0], grid[1], splits)
            mask = None if len(splits) == len(SPLITS) else np.isin(loaded.splits, splits)
            return self.report(loaded, grid, mask, (confidence, iou), counts)
        return self.report(loaded, grid, self.selection(loaded, clauses, grid), (confidence, iou))

    def report(
        self,
        loaded: LoadedRun,
        grid: Grid,
        mask: np.ndarray | None,
        point: tuple[float, float],
        counted: tuple[Counts, np.ndarray, np.ndarray] | None = None,
    ) -> MetricsRecord:
        """The figures of the rows in `mask` (counted already, when the caller has them)."""
        confidence, iou = point
        results = loaded.results
        counts, annotations, predictions = counted or results.feature_counts(grid[0], grid[1], mask)
        report = feature_report(results.features, counts, results.nested)
        custom = loaded.custom.aggregate(grid[0], mask)
        per = report.per_feature
        features = [
            FeatureRecord(
                name, int(per.tp[i]), int(per.fp[i]), int(per.fn[i]), int(per.tn[i]),
                _value(per.precision[i]), _value(per.recall[i]), _value(per.f1[i]), _value(per.iou[i]),
                int(annotations[i]), int(predictions[i]), [c for c in custom if c.feature == name],
            )
            for i, name in enumerate(report.features)
        ]  # fmt: skip
        total = report.all
        everything = FeatureRecord(
            None, total.tp, total.fp, total.fn, total.tn, total.precision, total.recall, total.f1, total.iou,
            int(annotations[~results.nested].sum()), int(predictions[~results.nested].sum()),
            [c for c in custom if c.feature is None],
        )  # fmt: skip
        return MetricsRecord(
            confidence=confidence,
            iou=iou,
            features=features,
            all=everything,
            macro=report.macro,
            custom=custom,
            data_rows=results.selected_rows(mask),
            pending_data_rows=loaded.pending_rows,
        )

    def confusion(self, run_id: UUID | str, confidence: float, iou: float, clauses: Sequence[Clause] = ()) -> ConfusionRecord:
        loaded = self.loaded(run_id)
        grid = self.grid(loaded, confidence, iou)
        results = loaded.results
        n = len(results.features)
        splits = split_selection(clauses)
        if splits is not None:
            keys, counts, rows = loaded.figures.confusion(grid[0], grid[1], splits)
        else:
            mask = self.selection(loaded, clauses, grid)
            matrix = results.confusion(grid[0], grid[1], mask).ravel()
            row_matrix = results.confusion_rows(grid[0], grid[1], mask).ravel()
            keys = np.flatnonzero(matrix)
            counts, rows = matrix[keys], row_matrix[keys]
        g, f = np.divmod(keys, n + 1)
        # Every feature when there are few; else the ones with a non-empty cell.
        shown = np.arange(n) if n <= DENSE_CONFUSION_FEATURES else np.unique(np.concatenate([g, f]))
        shown = np.concatenate([shown[shown < n], [n]])
        position = np.full(n + 1, -1, dtype=np.int64)
        position[shown] = np.arange(shown.size)
        matrix = np.zeros((shown.size, shown.size), dtype=np.int64)
        matrix[position[g], position[f]] = counts
        row_matrix = np.zeros((shown.size, shown.size), dtype=np.int64)
        row_matrix[position[g], position[f]] = rows
        names: list[str | None] = [*results.features, None]
        labels = [names[i] for i in shown.tolist()]
        cells = [
            ConfusionCellRecord(names[a], names[b], int(c), int(r))
            for a, b, c, r in zip(g.tolist(), f.tolist(), counts.tolist(), rows.tolist(), strict=True)
        ]
        return ConfusionRecord(labels, matrix.tolist(), row_matrix.tolist(), cells)

    def pr_curve(
        self, run_id: UUID | str, iou: float, feature: str | None = None, clauses: Sequence[Clause] = ()
    ) -> list[PrPoint]:
        loaded = self.loaded(run_id)
        t = self.iou_threshold(loaded, iou)
        index = None if feature is None else feature_index(loaded, feature)
        splits = split_selection(clauses)
        if splits is not None:
            return loaded.figures.pr_curve(t, index, splits)
        mask = self.selection(loaded, clauses, (0, t))
        return loaded.results.pr_curve(t, index, mask)

    def rows(
        self,
        run_id: UUID | str,
        clauses: Sequence[Clause],
        confidence: float,
        iou: float,
        first: int | None = None,
        after: str | None = None,
    ) -> Page:
        """The selected evaluated rows (e.g. a confusion cell's), by id, as RowRef."""
        loaded = self.loaded(run_id)
        grid = self.grid(loaded, confidence, iou)
        mask = self.selection(loaded, clauses, grid)
        selected = np.arange(loaded.results.n_rows) if mask is None else np.flatnonzero(mask)
        return self._page(loaded, selected, first, after)

    def _page(self, loaded: LoadedRun, selected: np.ndarray, first: int | None, after: str | None) -> Page:
        size = page_size(first)
        start = int_cursor("metric_rows", after) or 0
        chosen = selected[start : start + size]
        ids = loaded.ids_at(chosen)
        keys = self.global_keys(loaded, ids)
        end = start + len(chosen)
        return Page(
            items=[RowRef(i, keys.get(i, "")) for i in ids],
            total_count=int(selected.size),
            end_cursor=encode_cursor("metric_rows", end) if chosen.size else None,
            has_next_page=end < selected.size,
        )

    # -- data rows -----------------------------------------------------------------------

    def row_custom_values(self, run_id: UUID, row_id: UUID, version: int | None = None) -> list[DictRow]:
        """Each custom metric's (name, feature, value) of a row: the newest uploaded up to a
        version (None: the newest)."""
        return self.view.fetch(
            "SELECT DISTINCT ON (name, feature) name, feature, value FROM {s}.custom_metric_history"
            " WHERE run_id = %s AND row_id = %s AND (%s::integer IS NULL OR run_version <= %s)"
            " ORDER BY name, feature, run_version DESC",
            (run_id, row_id, version, version),
        )

    def global_keys(self, loaded: LoadedRun, ids: Sequence[str]) -> dict[str, str]:
        """The global keys of these rows of the run, as of the version read."""
        return self.runs.global_keys_of(loaded.run_id, ids, loaded.as_of)

    def resolve_keys(self, loaded: LoadedRun, global_keys: Sequence[str]) -> list[str]:
        """The ids of the run's rows with these global keys, as of the version read."""
        return self.runs.ids_of_global_keys(loaded.run_id, global_keys, loaded.as_of)
