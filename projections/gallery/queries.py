"""The gallery's queries: a run's rows filtered, sorted and paged; counts of saved and
automatic slices; the rows of clauses only the gallery can answer, for the metrics queries.

The run's index (gallery/index.py) is kept in memory per run and rebuilt when the run's
version or its parts change; match results come from the metrics read model at the query's
grid point.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol
from uuid import UUID

import numpy as np
from psycopg.rows import DictRow

from domain.errors import NotFound, ValidationFailed
from domain.filter_language import Clause, clauses_from_json
from domain.ontology import Ontology
from projections.catalog.queries import CatalogQueries
from projections.gallery import sorting
from projections.gallery.auto_slices import (
    AUTO_SLICES,
    auto_slice_rows,
    low_confidence,
    result_slices,
)
from projections.gallery.detail import RowDetail, row_detail
from projections.gallery.index import GalleryIndex, load_index
from projections.gallery.selection import Context
from projections.gallery.sort_columns import confidence_column, on_index, rank_key, ranks
from projections.gallery.view import GalleryView
from projections.ids import as_uuid
from projections.metrics.filters import metric_values
from projections.metrics.loader import LoadedRun
from projections.metrics.queries import MetricQueries, grid_point
from projections.metrics.records import RunAt
from projections.model_runs.queries import ModelRunQueries
from projections.postgres_view import page_size
from projections.records import Page, RunRowRecord
from projections.row_filter import select
from projections.run_memory import RunMemory
from projections.slices.queries import SliceRecord

CACHED_RUNS = 4
# Metadata fields whose columns a warm-up reads (one query over the run's rows each).
WARM_METADATA_FIELDS = 16



class SavedSlices(Protocol):
    """What the gallery asks of the saved slices' read model (projections/slices)."""

    def slice(self, slice_id: UUID | str) -> SliceRecord | None: ...

    def slices_of_model(self, model_id: UUID | str) -> list[SliceRecord]:
        """The model's live slices, by name."""
        ...


@dataclass(frozen=True, slots=True)
class CustomValue:
    name: str
    feature: str | None
    value: float | None


@dataclass(frozen=True, slots=True)
class DataRowDetail:
    row: RunRowRecord
    outcomes: RowDetail
    custom: list[CustomValue]


@dataclass(frozen=True, slots=True)
class Members:
    count: int
    digest: str
    bitmap: bytes  # numpy.packbits over the run's current rows in id order
    run_version: int


@dataclass(frozen=True, slots=True)
class SliceCount:
    """A slice counted in a run; `count` is None when it cannot be counted there, and
    `reason` says why (a metric clause without a grid point, a metadata key the run lacks)."""

    name: str
    count: int | None
    slice_id: str | None = None
    reason: str | None = None


class GalleryQueries:
    def __init__(
        self, view: GalleryView, catalog: CatalogQueries, runs: ModelRunQueries, metrics: MetricQueries, slices: SavedSlices
    ) -> None:
        self.view = view
        self.catalog = catalog
        self.runs = runs
        self.metrics = metrics
        self.slices = slices
        self._runs: RunMemory[tuple[UUID, int | None], GalleryIndex] = RunMemory(CACHED_RUNS)
        metrics.gallery_rows = self.selected_keys

    # -- the run in memory ---------------------------------------------------------------

    def _live_run(self, run_id: UUID | str) -> tuple[UUID, DictRow]:
        """The run's id and its version, model and metric settings; NotFound if deleted."""
        parsed = as_uuid(str(run_id))
        run = None if parsed is None else self.runs.live_state(parsed)
        if parsed is None or run is None:
            raise NotFound(f"model run {run_id} not found")
        return parsed, run

    def index(self, run_id: UUID | str | RunAt) -> GalleryIndex:
        """The run's rows in memory: now, or (a RunAt) as of an older version."""
        as_of = run_id.version if isinstance(run_id, RunAt) else None
        parsed, run = self._live_run(run_id)
        if as_of is not None and not 1 <= as_of <= int(run["version"]):
            raise NotFound(f"model run {parsed} has no version {as_of}")
        stamp = self._stamp(parsed, run, as_of)
        return self._runs.get((parsed, as_of), stamp, lambda: load_index(self.view, parsed, run["model_id"], stamp, as_of))

    def warm(self, run_id: UUID) -> None:
        """Builds the run's index, reads the columns of its first metadata fields and ranks
        the global keys: what the first page, filter or sort would otherwise wait for."""
        index = self.index(run_id)
        ctx = self._context(index, None)
        for key, kind in list(ctx.metadata_kinds.items())[:WARM_METADATA_FIELDS]:
            index.metadata_column(self.view, key, kind, ctx.datasets_stamp)
        # The web app's default order.
        by_key = sorting.SortKey(field="GLOBAL_KEY")
        index.derived(rank_key(by_key, ctx), lambda: ranks(index.global_keys))

    def is_current(self, run_id: UUID) -> bool:
        """Whether the run's latest index in memory is the one a read now would use."""
        try:
            parsed, run = self._live_run(run_id)
        except NotFound:
            return False
        cached = self._runs.peek((parsed, None))
        return cached is not None and cached.stamp == self._stamp(parsed, run)

    def current_stamp(self, run_id: UUID) -> tuple[int, int, int]:
        """The stamp a read of the run's latest index now would ask for (NotFound if deleted)."""
        parsed, run = self._live_run(run_id)
        return self._stamp(parsed, run)

    def _stamp(self, parsed: UUID, run: DictRow, as_of: int | None = None) -> tuple[int, int, int]:
        """What an index is kept under: the version it shows and the stamps of the run's
        parts and rows. An index whose stamp is the one read now is current."""
        return (int(run["version"]) if as_of is None else as_of, *self.view.stamp(parsed))

    def forget(self, run_id: UUID) -> None:
        """Drops the run's latest index from memory (the next read builds it again)."""
        self._runs.forget((run_id, None))

    def runs_in_memory(self) -> list[UUID]:
        """The runs whose latest version is in memory, most recently read first."""
        return [run_id for run_id, as_of in self._runs.keys() if as_of is None]

    def _results(self, index: GalleryIndex) -> LoadedRun:
        """The metric results of the version the index shows."""
        return self.metrics.loaded(index.run_id if index.as_of is None else RunAt(str(index.run_id), index.as_of))

    def _context(self, index: GalleryIndex, grid: tuple[float, float] | None) -> Context:
        found = self.catalog.ontology(index.model_id)
        ontology = Ontology.from_dict(found) if found is not None else None
        names = frozenset(f.name for f in ontology.features) if ontology is not None else frozenset()
        kinds: dict[str, str] = {}
        # A dataset's new version and its rows' metadata are separate events to the catalog:
        # the stamp of metadata columns holds the newest metadata change too, or a column
        # read between the two would keep the old values under the new version.
        datasets = self.catalog.metadata_of_datasets(index.datasets)
        for row in datasets:
            for field in row["metadata_fields"]:
                kinds.setdefault(field["key"], field["kind"])
        stamp = tuple((str(row["id"]), int(row["version"]), int(row["metadata_at"])) for row in datasets)

        def result_rows(clauses: Sequence[Clause]) -> np.ndarray:
            if grid is None:
                raise ValidationFailed("metric and confusion clauses need the query's confidence and iou")
            loaded = self._results(index)
            mask = self.metrics.selection(loaded, clauses, self.metrics.grid(loaded, *grid))
            rows = index.rows_of_results(loaded.keys, loaded.stamp)
            chosen = rows if mask is None else rows[mask]
            return chosen[chosen >= 0]

        def auto_slice(name: str) -> np.ndarray:
            if grid is None:
                raise ValidationFailed("automatic slices need the query's confidence and iou")
            self.metrics.require_in_sync(str(index.run_id), "automatic slices", self._results(index))
            return auto_slice_rows(index, self._results(index), name, self.metrics, *grid)

        def evaluated_rows() -> np.ndarray:
            loaded = self._results(index)
            rows = index.rows_of_results(loaded.keys, loaded.stamp)
            return rows[rows >= 0]

        return Context(
            self.view, index, names, kinds, stamp, result_rows, auto_slice, self._slice_clauses(index), evaluated_rows
        )

    def _slice_clauses(self, index: GalleryIndex) -> Callable[[str], list[Clause]]:
        def clauses(slice_id: str) -> list[Clause]:
            found = self.slices.slice(slice_id)
            if found is None:
                raise ValidationFailed(f"unknown slice {slice_id!r}")
            if UUID(found.model_id) != index.model_id:
                raise ValidationFailed(f"slice {slice_id!r} belongs to another model")
            return clauses_from_json(found.filter)

        return clauses

    def _selected(
        self, run_id: UUID | str, clauses: Sequence[Clause], grid: tuple[float, float] | None
    ) -> tuple[GalleryIndex, Context, np.ndarray]:
        index = self.index(run_id)
        ctx = self._context(index, grid)
        return index, ctx, np.flatnonzero(select(ctx, clauses))

    # -- for the metrics queries ---------------------------------------------------------

    def selected_keys(self, run_id: str, clauses: Sequence[Clause], grid: tuple[float, float]) -> np.ndarray:
        """Keys of the rows the clauses select at the grid point (confidence, iou)."""
        index, _, rows = self._selected(run_id, clauses, grid)
        return index.keys[rows]

    def selected_ids(
        self, run_id: UUID | str, clauses: Sequence[Clause], grid: tuple[float, float] | None = None
    ) -> list[str]:
        """The ids of the rows the filter selects now (a projector request takes them)."""
        index, _, rows = self._selected(run_id, clauses, grid)
        return index.ids_at(rows)

    def membership(
        self, run_id: UUID | str, clauses: Sequence[Clause], grid: tuple[float, float] | None = None
    ) -> Members:
        """Which rows the clauses select now: how many, a digest (equal digests, same rows)
        and a bitmap over the run's current rows in id order."""
        index, _, rows = self._selected(run_id, clauses, grid)
        mask = np.zeros(index.n_rows, dtype=bool)
        mask[rows] = True
        digest = hashlib.blake2b(index.keys[rows].tobytes(), digest_size=16).hexdigest()
        return Members(int(rows.size), digest, np.packbits(mask).tobytes(), index.stamp[0])

    # -- the gallery ---------------------------------------------------------------------

    def data_rows(
        self,
        run_id: UUID | str,
        clauses: Sequence[Clause],
        sort: Sequence[sorting.SortKey] = (),
        grid: tuple[float, float] | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Page:
        """The selected rows in the sort's order, with their assets, labels and predictions."""
        index, ctx, rows = self._selected(run_id, clauses, grid)
        keys, ids_descending = sorting.split_id(sort)
        columns = [self._column(index, ctx, key, grid) for key in keys]
        total = int(rows.size)
        if after is not None:
            cursor = sorting.parse_cursor(after, keys)
            rows = rows[sorting.after(rows, columns, keys, index.keys, cursor, ids_descending)]
        comparables = [
            sorting.comparable(column, key, lambda c, k=key: index.derived(rank_key(k, ctx), lambda: ranks(c)))
            for column, key in zip(columns, keys, strict=True)
        ]
        size = page_size(first)
        page = sorting.first_page(rows, comparables, size, ids_descending)
        chosen = page[:size]
        ids = index.ids_at(chosen)
        records = self.runs.rows_with_assets(index.run_id, ids, index.as_of)
        return Page(
            items=[records[i] for i in ids if i in records],
            total_count=total,
            end_cursor=sorting.cursor_of(int(chosen[-1]), columns, index.keys) if chosen.size else None,
            has_next_page=page.size > size,
        )

    def count(self, run_id: UUID | str, clauses: Sequence[Clause], grid: tuple[float, float] | None = None) -> int:
        return int(self._selected(run_id, clauses, grid)[2].size)

    def _column(
        self, index: GalleryIndex, ctx: Context, key: sorting.SortKey, grid: tuple[float, float] | None
    ) -> np.ndarray:
        if key.field == "GLOBAL_KEY":
            return index.global_keys
        if key.field == "METADATA":
            kind = ctx.metadata_kinds.get(str(key.key))
            if kind is None:
                raise ValidationFailed(f"sort: unknown metadata key {key.key!r}; known: {sorted(ctx.metadata_kinds)}")
            return index.metadata_column(self.view, str(key.key), kind, ctx.datasets_stamp)
        if key.field in ("CONFIDENCE_MAX", "CONFIDENCE_MIN"):
            return confidence_column(index, ctx, key)
        if grid is None:
            raise ValidationFailed("sort: a METRIC sort needs the query's confidence and iou")
        loaded = self._results(index)
        self.metrics.require_in_sync(loaded.run_id, "sorts on metrics", loaded)
        values = metric_values(loaded, str(key.metric), key.feature, self.metrics.grid(loaded, *grid))
        return on_index(index, loaded, values)

    def row_detail(self, run_id: UUID | str, row_id: str, confidence: float, iou: float) -> DataRowDetail:
        """One current row with each object's outcome at the grid point (which must be on
        the run's grid) and the row's custom metric values."""
        # One row: neither the run's gallery index nor its results are needed.
        as_of = run_id.version if isinstance(run_id, RunAt) else None
        run_uuid, run = self._live_run(run_id)
        settings = run["metric_settings"]
        if as_of is not None:
            found = self.runs.metric_settings_at(run_uuid, as_of)
            if found is None:
                raise NotFound(f"model run {run_uuid} has no version {as_of}")
            settings = found
        grid_point(settings, confidence, iou)
        parsed = as_uuid(row_id)
        records = {} if parsed is None else self.runs.rows_with_assets(run_uuid, [str(parsed)], as_of)
        record = records.get(str(parsed))
        if record is None:
            raise NotFound(f"data row {row_id} is not in model run {run_uuid}")
        radius = float(settings.get("point_radius", 70.0))
        outcomes = row_detail(record.labels, record.predictions, confidence, iou, radius)
        # Each custom metric's newest value up to the version shown.
        rows = self.metrics.row_custom_values(run_uuid, parsed, as_of)
        custom = [CustomValue(r["name"], r["feature"] or None, r["value"]) for r in rows]
        return DataRowDetail(record, outcomes, custom)

    # -- slices --------------------------------------------------------------------------

    def saved_slice_counts(self, run_id: UUID | str, grid: tuple[float, float] | None = None) -> list[SliceCount]:
        """The run's model's saved slices, each counted in the run."""
        index = self.index(run_id)
        ctx = self._context(index, grid)
        counts = []
        for saved in self.slices.slices_of_model(index.model_id):
            # One slice that cannot be counted here must not take the others down with it.
            try:
                count = int(select(ctx, clauses_from_json(saved.filter)).sum())
                counts.append(SliceCount(saved.name, count, saved.id))
            except ValidationFailed as exc:
                counts.append(SliceCount(saved.name, None, saved.id, exc.message))
        return counts

    def auto_slices(self, run_id: UUID | str, confidence: float, iou: float) -> list[SliceCount]:
        index = self.index(run_id)
        loaded = self._results(index)
        c_index, t = self.metrics.grid(loaded, confidence, iou)
        masks = result_slices(loaded, c_index, t)
        counts = {name: int(mask.sum()) for name, mask in masks.items()}
        counts["Low confidence"] = int(low_confidence(index, loaded, confidence).sum())
        return [SliceCount(name, counts[name]) for name in AUTO_SLICES]
