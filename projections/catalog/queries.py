"""Reading the catalog: datasets, data rows and models as records, and row look-ups for
commands."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar
from uuid import UUID

import orjson
from psycopg.rows import DictRow

from domain.annotations.box_columns import BoxColumns
from domain.annotations.box_labels import RowObjects, label_columns
from domain.annotations.objects import Annotation
from domain.data_rows import RowInfo
from domain.errors import NotFound
from projections.annotation_json import annotations_from_json
from projections.catalog.view import CatalogView
from projections.ids import as_uuid, as_uuids, keyed_as_asked
from projections.postgres_view import encode_cursor, int_cursor, page_size
from projections.records import DataRowRecord, DatasetRecord, ModelRecord, Page

R = TypeVar("R")


def _dataset(row: DictRow) -> DatasetRecord:
    return DatasetRecord(
        id=str(row["id"]),
        name=row["name"],
        row_count=row["row_count"],
        version=row["version"],
        created_at=row["created_at"],
        metadata_fields=row["metadata_fields"],
    )


def _model(row: DictRow) -> ModelRecord:
    return ModelRecord(
        id=str(row["id"]),
        name=row["name"],
        version=row["version"],
        created_at=row["created_at"],
        ontology=row["ontology"],
    )


def _data_row(row: DictRow) -> DataRowRecord:
    return DataRowRecord(
        id=str(row["id"]),
        dataset_id=str(row["dataset_id"]),
        global_key=row["global_key"],
        row_data=row["row_data"],
        media_type=row["media_type"],
        width=row["width"],
        height=row["height"],
        metadata=row["metadata"],
        labels=row["labels"],
    )


class CatalogQueries:
    def __init__(self, view: CatalogView) -> None:
        self.view = view

    def _page(self, kind: str, table: str, first: int | None, after: str | None) -> Page:
        """A page of live datasets or models in creation order."""
        size = page_size(first)
        start = int_cursor(kind, after)
        rows = self.view.fetch(
            f"SELECT * FROM {{s}}.{table} WHERE NOT deleted AND seq > %s ORDER BY seq LIMIT %s",
            (start or 0, size + 1),
        )
        total = self.view.fetch_one(f"SELECT count(*) AS n FROM {{s}}.{table} WHERE NOT deleted")
        items = rows[:size]
        return Page(
            items=items,
            total_count=total["n"] if total else 0,
            end_cursor=encode_cursor(kind, items[-1]["seq"]) if items else None,
            has_next_page=len(rows) > size,
        )

    def datasets(self, first: int | None = None, after: str | None = None) -> Page:
        page = self._page("datasets", "catalog_datasets", first, after)
        return Page([_dataset(r) for r in page.items], page.total_count, page.end_cursor, page.has_next_page)

    def dataset(self, dataset_id: UUID | str) -> DatasetRecord | None:
        return self.datasets_by_id([dataset_id])[0]

    def datasets_by_id(self, dataset_ids: Sequence[UUID | str]) -> list[DatasetRecord | None]:
        """Each id's dataset (None for no such dataset, or a deleted one), in one query."""
        return self._by_id("catalog_datasets", _dataset, dataset_ids)

    def models(self, first: int | None = None, after: str | None = None) -> Page:
        page = self._page("models", "catalog_models", first, after)
        return Page([_model(r) for r in page.items], page.total_count, page.end_cursor, page.has_next_page)

    def model(self, model_id: UUID | str) -> ModelRecord | None:
        return self.models_by_id([model_id])[0]

    def models_by_id(self, model_ids: Sequence[UUID | str]) -> list[ModelRecord | None]:
        """Each id's model (None for no such model, or a deleted one), in one query."""
        return self._by_id("catalog_models", _model, model_ids)

    def ontology(self, model_id: UUID) -> dict[str, Any] | None:
        """A model's ontology, deleted or not: a deleted model's runs stay, with its features."""
        row = self.view.fetch_one("SELECT ontology FROM {s}.catalog_models WHERE id = %s", (model_id,))
        return None if row is None else dict(row["ontology"])

    def metadata_values(self, row_ids: Sequence[UUID], key: str) -> list[Any]:
        """The catalog's current value of one metadata field per row (None where unset)."""
        rows = self.view.fetch(
            "SELECT d.id, d.metadata -> %(key)s AS value FROM unnest(%(ids)s::uuid[]) AS u(id),"
            " LATERAL (SELECT c.id, c.metadata FROM {s}.catalog_data_rows c WHERE c.id = u.id"
            " LIMIT 1) AS d",
            {"ids": list(row_ids), "key": key},
        )
        by_id = {r["id"]: r["value"] for r in rows}
        return [by_id.get(row_id) for row_id in row_ids]

    def metadata_of_datasets(self, dataset_ids: Sequence[UUID]) -> list[DictRow]:
        """Per dataset (by id): its version, its metadata_fields, and metadata_at, the log
        position of its rows' newest metadata change (0 for none)."""
        return self.view.fetch(
            "SELECT id, version, metadata_fields, (SELECT coalesce(max(r.metadata_at), 0)"
            " FROM {s}.catalog_data_rows r WHERE r.dataset_id = d.id) AS metadata_at"
            " FROM {s}.catalog_datasets d WHERE id = ANY(%s) ORDER BY id",
            (list(dataset_ids),),
        )

    def _by_id(self, table: str, record: Callable[[DictRow], R], ids: Sequence[UUID | str]) -> list[R | None]:
        parsed = [as_uuid(str(i)) for i in ids]
        wanted = list({i for i in parsed if i is not None})
        rows = self.view.fetch(f"SELECT * FROM {{s}}.{table} WHERE id = ANY(%s) AND NOT deleted", (wanted,)) if wanted else []
        found = {row["id"]: record(row) for row in rows}
        return [None if i is None else found.get(i) for i in parsed]

    def data_rows(
        self, dataset_id: UUID | str, first: int | None = None, after: str | None = None
    ) -> Page:
        """The dataset's rows in upload order."""
        dataset = self.dataset(dataset_id)
        if dataset is None:
            raise NotFound(f"dataset {dataset_id} not found")
        size = page_size(first)
        start = int_cursor("data_rows", after)
        rows = self.view.fetch(
            "SELECT * FROM {s}.catalog_data_rows WHERE dataset_id = %s AND ord > %s"
            " ORDER BY ord LIMIT %s",
            (dataset.id, -1 if start is None else start, size + 1),
        )
        items = rows[:size]
        return Page(
            items=[_data_row(r) for r in items],
            total_count=dataset.row_count,
            end_cursor=encode_cursor("data_rows", items[-1]["ord"]) if items else None,
            has_next_page=len(rows) > size,
        )

    # -- for commands (application.row_directory.RowDirectory) ----------------------------

    def dataset_rows(
        self, dataset_id: UUID, ids: Sequence[str] = (), global_keys: Sequence[str] = ()
    ) -> dict[str, RowInfo]:
        rows = self.view.fetch(
            "SELECT id, global_key, width, height, media_type FROM {s}.catalog_data_rows"
            " WHERE dataset_id = %s AND (id = ANY(%s) OR global_key = ANY(%s))",
            (dataset_id, as_uuids(ids), list(global_keys)),
        )
        return keyed_as_asked([_row_info(r) for r in rows], ids, global_keys)

    def all_dataset_rows(self, dataset_id: UUID) -> list[RowInfo]:
        rows = self.view.fetch(
            "SELECT id, global_key, width, height, media_type FROM {s}.catalog_data_rows"
            " WHERE dataset_id = %s ORDER BY ord",
            (dataset_id,),
        )
        return [_row_info(r) for r in rows]

    def dataset_labels(self, dataset_id: UUID, row_ids: Sequence[str]) -> dict[str, list[Annotation]]:
        rows = self.view.fetch(
            "SELECT id, labels FROM {s}.catalog_data_rows"
            " WHERE dataset_id = %s AND id = ANY(%s) AND label_count > 0",
            (dataset_id, as_uuids(row_ids)),
        )
        return {str(r["id"]): annotations_from_json(r["labels"]) for r in rows}

    def dataset_label_columns(
        self, dataset_id: UUID, row_ids: Sequence[str], every_row: bool = False
    ) -> tuple[BoxColumns, RowObjects]:
        # As text, decoded here: faster than the driver's JSON decoding of each row. For
        # every row of the dataset, the rows are found by the dataset alone (sending 100,000
        # ids as a parameter cost a tenth of a model run's snapshot); a row added since the
        # caller listed `row_ids` is read and left out.
        if every_row:
            where, params = "dataset_id = %s", (dataset_id,)
        else:
            where, params = "dataset_id = %s AND id = ANY(%s)", (dataset_id, as_uuids(row_ids))
        rows = self.view.fetch(
            f"SELECT id, labels::text AS labels FROM {{s}}.catalog_data_rows WHERE {where} AND label_count > 0", params
        )
        stored = {str(r["id"]): r["labels"] for r in rows}
        return label_columns(
            [(row_id, orjson.loads(stored[row_id]) if row_id in stored else []) for row_id in row_ids],
            annotations_from_json,
        )


def _row_info(row: dict[str, Any]) -> RowInfo:
    return RowInfo(str(row["id"]), row["global_key"], row["width"], row["height"], row["media_type"])
