"""What other read models, the projector's commands and queries look up in the model runs'
read model: a run's state and settings, the global keys of its rows, its live runs, its
rows by dataset, its rows' objects as of a version.

The tables stay this read model's own: the metrics read model (projections.metrics.queries.
RunRows), the gallery, the slice membership refresher and the projector ask here instead of
reading them. ModelRunQueries (queries.py) holds these too, beside what the API reads.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal
from uuid import UUID

import numpy as np
import orjson
from numpy.typing import NDArray
from psycopg.rows import DictRow, tuple_row

from projections.ids import as_uuid, as_uuids
from projections.model_runs.view import ModelRunsView, as_of


class RunLookups:
    def __init__(self, view: ModelRunsView) -> None:
        self.view = view

    # -- for the gallery read model (projections/gallery/queries.py) ----------------------

    def live_state(self, run_id: UUID) -> DictRow | None:
        """A run not deleted: its version, model_id and current metric_settings."""
        return self.view.fetch_one(
            "SELECT m.version, m.model_id, v.metric_settings FROM {s}.model_runs m JOIN {s}.model_run_versions v"
            " ON v.run_id = m.id AND v.version = m.version WHERE m.id = %s AND NOT m.deleted",
            (run_id,),
        )

    def metric_settings_at(self, run_id: UUID, version: int) -> dict[str, Any] | None:
        """The run's metric settings at a version (None: the run has no such version)."""
        found = self.view.fetch_one(
            "SELECT metric_settings FROM {s}.model_run_versions WHERE run_id = %s AND version = %s", (run_id, version)
        )
        return None if found is None else dict(found["metric_settings"])

    # -- for the slice membership refresher (projections/slice_membership) ----------------

    def live_runs(self) -> list[tuple[UUID, UUID, int]]:
        """Every run not deleted: (id, model id, version)."""
        rows = self.view.fetch("SELECT id, model_id, version FROM {s}.model_runs WHERE NOT deleted")
        return [(r["id"], r["model_id"], int(r["version"])) for r in rows]

    def live_runs_of_model(self, model_id: UUID) -> set[UUID]:
        """The model's runs, not deleted."""
        rows = self.view.fetch("SELECT id FROM {s}.model_runs WHERE model_id = %s AND NOT deleted", (model_id,))
        return {r["id"] for r in rows}

    def live_runs_with_rows_of(self, dataset_id: UUID) -> set[UUID]:
        """The runs, not deleted, with a current row of the dataset."""
        rows = self.view.fetch(
            "SELECT DISTINCT r.run_id FROM {s}.run_rows r JOIN {s}.model_runs m ON m.id = r.run_id"
            " WHERE r.dataset_id = %s AND r.valid_to IS NULL AND NOT m.deleted",
            (dataset_id,),
        )
        return {r["run_id"] for r in rows}

    # -- for the projector (projections/projector, schema/types/projection.py) -------------

    def run_row_details(
        self, run_id: UUID | str, version: int, row_ids: bytes | Sequence[UUID]
    ) -> tuple[list[str | None], list[str | None]]:
        """Global key and split (None: not in the run at `version`) per row, in order.

        `row_ids` may come packed (16 bytes per row, as the points are stored): matched
        as fixed-width byte strings with numpy, 100,000 points need no UUID object.
        """
        wanted = _keys(row_ids)
        rows = self.view.fetch(
            "SELECT DISTINCT ON (r.row_id) uuid_send(r.row_id) AS key, r.global_key,"
            " CASE WHEN " + as_of("r") + " THEN r.split END AS split"
            " FROM {s}.run_rows r WHERE r.run_id = %(run)s"
            " ORDER BY r.row_id, (" + as_of("r") + ") DESC, r.valid_from DESC",
            {"run": as_uuid(str(run_id)), "v": version},
        )
        if not rows or not len(wanted):
            return [None] * len(wanted), [None] * len(wanted)
        known = np.array([bytes(r["key"]) for r in rows], dtype="S16")
        order = np.argsort(known, kind="stable")
        at = np.minimum(np.searchsorted(known[order], wanted), len(known) - 1)
        found = known[order][at] == wanted
        index = np.where(found, order[at], -1)
        keys = [rows[i]["global_key"] if i >= 0 else None for i in index.tolist()]
        splits = [rows[i]["split"] if i >= 0 else None for i in index.tolist()]
        return keys, splits

    def features_present(
        self, run_id: UUID | str, version: int, row_ids: Sequence[UUID], source: Source
    ) -> dict[str, list[int]]:
        """Per feature, the points (indexes) whose row has an object of it, as of `version`."""
        table, column = _SET_TABLES[source]
        position = {row_id: i for i, row_id in enumerate(row_ids)}
        found: dict[str, list[int]] = {}
        with self.view.reading() as curs:
            curs.execute(
                self.view.sql(
                    f"SELECT x.row_id, x.{column} AS items FROM {{s}}.{table} x"
                    " WHERE x.run_id = %(run)s AND " + as_of("x")
                ),
                {"run": as_uuid(str(run_id)), "v": version},
            )
            while batch := curs.fetchmany(8192):
                for row in batch:
                    index = position.get(row["row_id"])
                    if index is None:
                        continue
                    for name in feature_names(orjson.loads(row["items"])):
                        found.setdefault(name, []).append(index)
        return {name: sorted(points) for name, points in sorted(found.items())}

    def run_rows_by_dataset(self, run_id: UUID) -> dict[UUID, list[UUID]]:
        grouped: dict[UUID, list[UUID]] = {}
        with self.view.reading() as curs:
            curs.row_factory = tuple_row  # 100,000 rows: no dict per row
            curs.execute(
                self.view.sql("SELECT row_id, dataset_id FROM {s}.run_rows WHERE run_id = %s AND valid_to IS NULL"),
                (run_id,),
                binary=True,
            )
            for row_id, dataset_id in curs.fetchall():
                grouped.setdefault(dataset_id, []).append(row_id)
        return grouped

    # -- for the metrics read model (projections.metrics.queries.RunRows) -----------------

    def model_ids(self, run_ids: Sequence[str]) -> set[UUID]:
        """The models of these runs (deleted runs included)."""
        rows = self.view.fetch("SELECT DISTINCT model_id FROM {s}.model_runs WHERE id = ANY(%s)", (as_uuids(run_ids),))
        return {r["model_id"] for r in rows}

    def global_keys_of(self, run_id: str, ids: Sequence[str], version: int | None = None) -> dict[str, str]:
        """The global keys of these rows of the run, at a version (None: the current rows)."""
        if not ids:
            return {}
        rows = self.view.fetch(
            "SELECT r.row_id, r.global_key FROM {s}.run_rows r WHERE r.run_id = %(run)s AND r.row_id = ANY(%(ids)s::uuid[])"
            + _rows_at(version),
            {"run": UUID(run_id), "ids": list(ids), "v": version},
        )
        return {str(r["row_id"]): r["global_key"] for r in rows}

    def ids_of_global_keys(self, run_id: str, global_keys: Sequence[str], version: int | None = None) -> list[str]:
        """The ids of the run's rows with these global keys, at a version (None: the current rows)."""
        rows = self.view.fetch(
            "SELECT r.row_id FROM {s}.run_rows r WHERE r.run_id = %(run)s AND r.global_key = ANY(%(keys)s)"
            + _rows_at(version),
            {"run": UUID(run_id), "keys": list(global_keys), "v": version},
        )
        return [str(r["row_id"]) for r in rows]


def _rows_at(version: int | None) -> str:
    """The condition on run_rows (as r) for the rows at a version (None: the current ones)."""
    return " AND r.valid_to IS NULL" if version is None else " AND " + as_of("r")


# What a projection's points are coloured by: a run's labels or its predictions.
Source = Literal["labels", "predictions"]
_SET_TABLES: dict[str, tuple[str, str]] = {
    "labels": ("run_labels", "labels"),
    "predictions": ("run_predictions", "predictions"),
}


def _keys(row_ids: bytes | Sequence[UUID]) -> NDArray[np.bytes_]:
    """Row ids as fixed-width 16-byte strings (numpy compares them as raw bytes)."""
    if isinstance(row_ids, bytes | bytearray | memoryview):
        return np.frombuffer(bytes(row_ids), dtype="S16")
    return np.array([row_id.bytes for row_id in row_ids], dtype="S16")


def feature_names(items: list[dict[str, Any]]) -> set[str]:
    """Features of a row's stored objects; a classification answer is "<question>/<answer>"."""
    names: set[str] = set()
    for item in items:
        answer = item.get("answer")
        if isinstance(answer, dict):
            names.add(f"{item['name']}/{answer.get('name')}")
        elif isinstance(answer, list):
            names.update(f"{item['name']}/{a.get('name')}" for a in answer if isinstance(a, dict))
        else:
            names.add(item["name"])
    return names
