"""Reading model runs: a run as of any version, its rows, history and diffs, as records."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any
from uuid import UUID

import orjson
from psycopg.rows import DictRow

from domain.annotations.objects import Annotation
from domain.data_rows import RowInfo
from domain.errors import NotFound, ValidationFailed
from domain.splits import Split, parse_split
from projections.annotation_json import annotations_from_json
from projections.ids import as_uuid, as_uuids, keyed_as_asked
from projections.model_runs.lookups import RunLookups
from projections.model_runs.view import as_of
from projections.postgres_view import decode_cursor, encode_cursor, int_cursor, page_size
from projections.records import ModelRunRecord, Page, RunDiffRecord, RunEventRecord, RunRowRecord

# A page of the run's rows as of %(v)s: the rows walk the primary key in id order, and
# each row's labels and predictions are probed by key (LATERAL ... OFFSET 0 keeps the
# planner from joining whole tables, whatever their statistics say).
_ROWS_AS_OF = (
    "SELECT r.row_id, r.global_key, r.split, r.width, r.height,"
    " l.labels, p.row_id IS NOT NULL AS covered, p.predictions"
    " FROM (SELECT r.* FROM {s}.run_rows r WHERE r.run_id = %(run)s AND " + as_of("r") + "{where}"
    "   ORDER BY r.row_id LIMIT %(n)s) r"
    " LEFT JOIN LATERAL (SELECT l.labels FROM {s}.run_labels l WHERE l.run_id = %(run)s"
    "   AND l.row_id = r.row_id AND " + as_of("l") + " OFFSET 0) l ON true"
    " LEFT JOIN LATERAL (SELECT p.row_id, p.predictions FROM {s}.run_predictions p"
    "   WHERE p.run_id = %(run)s AND p.row_id = r.row_id AND " + as_of("p") + " OFFSET 0) p ON true"
    " ORDER BY r.row_id"
)

# The current rows named, with their assets (the gallery's page).
_ROWS_WITH_ASSETS = (
    "SELECT r.row_id, r.global_key, r.split, r.width, r.height, d.row_data, d.media_type, d.metadata,"
    " l.labels, p.row_id IS NOT NULL AS covered, p.predictions"
    " FROM {s}.run_rows r"
    " LEFT JOIN {s}.catalog_data_rows d ON d.dataset_id = r.dataset_id AND d.id = r.row_id"
    " LEFT JOIN {s}.run_labels l ON l.run_id = r.run_id AND l.row_id = r.row_id AND l.valid_to IS NULL"
    " LEFT JOIN {s}.run_predictions p ON p.run_id = r.run_id AND p.row_id = r.row_id AND p.valid_to IS NULL"
    " WHERE r.run_id = %(run)s AND r.row_id = ANY(%(ids)s::uuid[]) AND r.valid_to IS NULL"
)
# The same as of a version.
_ROWS_WITH_ASSETS_AS_OF = (
    "SELECT r.row_id, r.global_key, r.split, r.width, r.height, d.row_data, d.media_type, d.metadata,"
    " l.labels, p.row_id IS NOT NULL AS covered, p.predictions"
    " FROM {s}.run_rows r"
    " LEFT JOIN {s}.catalog_data_rows d ON d.dataset_id = r.dataset_id AND d.id = r.row_id"
    " LEFT JOIN {s}.run_labels l ON l.run_id = r.run_id AND l.row_id = r.row_id AND " + as_of("l") +
    " LEFT JOIN {s}.run_predictions p ON p.run_id = r.run_id AND p.row_id = r.row_id AND " + as_of("p") +
    " WHERE r.run_id = %(run)s AND r.row_id = ANY(%(ids)s::uuid[]) AND " + as_of("r")
)


class ModelRunQueries(RunLookups):
    """What the API reads of model runs; and, inherited, what other read models look up
    (projections/model_runs/lookups.py)."""

    def _run(self, run_id: UUID | str) -> DictRow | None:
        parsed = as_uuid(str(run_id))
        if parsed is None:
            return None
        return self.view.fetch_one("SELECT * FROM {s}.model_runs WHERE id = %s", (parsed,))

    def _version(self, run_id: UUID | str, version: int | None) -> tuple[DictRow, int]:
        """The run and the version to read: the latest of a live run, or any recorded one."""
        run = self._run(run_id)
        if run is None or (version is None and run["deleted"]):
            raise NotFound(f"model run {run_id} not found")
        if version is None:
            return run, run["version"]
        if isinstance(version, bool) or not isinstance(version, int) or not 1 <= version <= run["version"]:
            raise ValidationFailed(
                f"version {version!r} of model run {run_id} does not exist (1 to {run['version']})"
            )
        return run, version

    def model_runs(self, model_id: UUID | str, first: int | None = None, after: str | None = None) -> Page:
        """The model's live runs in creation order, each as of its latest version."""
        size = page_size(first)
        start = int_cursor("model_runs", after)
        parsed = as_uuid(str(model_id))
        rows = self.view.fetch(
            _RUN_RECORD + " WHERE m.model_id = %s AND NOT m.deleted AND m.seq > %s"
            " ORDER BY m.seq LIMIT %s",
            (parsed, start or 0, size + 1),
        )
        total = self.view.fetch_one(
            "SELECT count(*) AS n FROM {s}.model_runs WHERE model_id = %s AND NOT deleted", (parsed,)
        )
        items = rows[:size]
        return Page(
            items=[_run_record(r) for r in items],
            total_count=total["n"] if total else 0,
            end_cursor=encode_cursor("model_runs", items[-1]["seq"]) if items else None,
            has_next_page=len(rows) > size,
        )

    def model_run(self, run_id: UUID | str, version: int | None = None) -> ModelRunRecord | None:
        """The run as of `version` (default: latest). None for an unknown run, and for the
        latest of a deleted one; an earlier version of a deleted run is still readable."""
        if version is None:
            # One statement: the version shown is the latest it names (read apart, a version
            # recorded between the two reads made the latest look like an older one).
            parsed = as_uuid(str(run_id))
            row = None if parsed is None else self.view.fetch_one(_RUN_RECORD + " WHERE m.id = %s AND NOT m.deleted", (parsed,))
            return None if row is None else _run_record(row)
        try:
            run, shown = self._version(run_id, version)
        except NotFound:
            return None
        row = self.view.fetch_one(_RUN_RECORD.replace("v.version = m.version", "v.version = %s")
                                  + " WHERE m.id = %s", (shown, run["id"]))
        return None if row is None else _run_record(row)

    def run_rows(
        self,
        run_id: UUID | str,
        version: int | None = None,
        first: int | None = None,
        after: str | None = None,
        split: str | None = None,
    ) -> Page:
        """The run's rows as of `version`, by data row id."""
        run, shown = self._version(run_id, version)
        size = page_size(first)
        start = decode_cursor("run_rows", after)
        start_id = as_uuid(start) if start is not None else None
        if start is not None and start_id is None:
            raise ValidationFailed(f"invalid cursor {after!r} for run_rows")
        params: dict[str, Any] = {"run": run["id"], "v": shown, "after": start_id, "n": size + 1}
        where = ""
        if split is not None:
            params["split"] = parse_split(split).value
            where = " AND r.split = %(split)s"
        page_where = where + (" AND r.row_id > %(after)s" if start_id is not None else "")
        rows = self.view.fetch(_ROWS_AS_OF.replace("{where}", page_where), params)
        total = self.view.fetch_one(
            "SELECT count(*) AS n FROM {s}.run_rows r WHERE r.run_id = %(run)s AND " + as_of("r") + where,
            params,
        )
        items = rows[:size]
        return Page(
            items=[_run_row(r) for r in items],
            total_count=total["n"] if total else 0,
            end_cursor=encode_cursor("run_rows", items[-1]["row_id"]) if items else None,
            has_next_page=len(rows) > size,
        )

    def rows_with_assets(self, run_id: UUID, ids: list[str], version: int | None = None) -> dict[str, RunRowRecord]:
        """The named rows of the run, now or as of a version, with their assets, by id."""
        query = _ROWS_WITH_ASSETS if version is None else _ROWS_WITH_ASSETS_AS_OF
        rows = self.view.fetch(query, {"run": run_id, "ids": ids, "v": version}) if ids else []
        return {
            str(r["row_id"]): replace(
                _run_row(r), row_data=r["row_data"], media_type=r["media_type"], metadata=r["metadata"]
            )
            for r in rows
        }

    def run_history(self, run_id: UUID | str, first: int | None = None, after: str | None = None) -> Page:
        """The run's audit trail, oldest first (also for a deleted run)."""
        run = self._run(run_id)
        if run is None:
            raise NotFound(f"model run {run_id} not found")
        size = page_size(first)
        start = int_cursor("run_history", after)
        rows = self.view.fetch(
            "SELECT * FROM {s}.model_run_events WHERE run_id = %s AND version > %s"
            " ORDER BY version LIMIT %s",
            (run["id"], start or 0, size + 1),
        )
        items = [
            RunEventRecord(r["version"], r["type"], r["actor"], r["at"], r["summary"]) for r in rows[:size]
        ]
        return Page(
            items=items,
            total_count=run["version"],
            end_cursor=encode_cursor("run_history", items[-1].version) if items else None,
            has_next_page=len(rows) > size,
        )

    def run_diff(self, run_id: UUID | str, from_version: int, to_version: int) -> RunDiffRecord:
        """What changed from one version to another.

        Labels and predictions count as changed for a row of `to_version` whose content
        differs from `from_version` (a row absent then had none, and was not covered).
        """
        run = self._run(run_id)
        if run is None:
            raise NotFound(f"model run {run_id} not found")
        before, after = check_diff_versions(from_version, to_version, run["version"])
        params = {"run": run["id"], "a": before, "b": after}
        rows = self.view.fetch(_DIFF_ROWS, params)
        changed_labels = self.view.fetch(_diff_sets("run_labels", "labels"), params)
        changed_predictions = self.view.fetch(_diff_sets("run_predictions", "predictions"), params)
        states = {
            r["version"]: r
            for r in self.view.fetch(
                "SELECT version, config, metric_settings FROM {s}.model_run_versions"
                " WHERE run_id = %s AND version = ANY(%s)",
                (run["id"], [before, after]),
            )
        }
        return RunDiffRecord(
            from_version=before,
            to_version=after,
            rows_added=[r["key_b"] for r in rows if r["split_a"] is None],
            rows_removed=[r["key_a"] for r in rows if r["split_b"] is None],
            splits_changed=[
                {"globalKey": r["key_b"], "from": r["split_a"], "to": r["split_b"]}
                for r in rows
                if r["split_a"] is not None and r["split_b"] is not None
            ],
            labels_changed=[r["global_key"] for r in changed_labels],
            predictions_changed=[r["global_key"] for r in changed_predictions],
            config_before=states[before]["config"],
            config_after=states[after]["config"],
            metric_settings_before=states[before]["metric_settings"],
            metric_settings_after=states[after]["metric_settings"],
        )

    # -- for commands (application.row_directory.RowDirectory) ----------------------------

    def current_rows(
        self, run_id: UUID, ids: Sequence[str] = (), global_keys: Sequence[str] = ()
    ) -> dict[str, RowInfo]:
        rows = self.view.fetch(
            "SELECT r.row_id, r.global_key, r.width, r.height, r.split, d.media_type FROM {s}.run_rows r"
            " LEFT JOIN {s}.catalog_data_rows d ON d.dataset_id = r.dataset_id AND d.id = r.row_id"
            " WHERE r.run_id = %s AND r.valid_to IS NULL AND (r.row_id = ANY(%s) OR r.global_key = ANY(%s))",
            (run_id, as_uuids(ids), list(global_keys)),
        )
        infos = [
            RowInfo(str(r["row_id"]), r["global_key"], r["width"], r["height"], r["media_type"], Split(r["split"]))
            for r in rows
        ]
        return keyed_as_asked(infos, ids, global_keys)

    def current_labels(self, run_id: UUID, row_ids: Sequence[str]) -> dict[str, list[Annotation]]:
        """The run's current labels of the given rows (rows without labels absent), as the
        catalog's `dataset_labels` gives a dataset's: an upsert that would take the same
        labels (and splits) again changes nothing."""
        rows = self.view.fetch(
            "SELECT x.row_id, x.labels FROM unnest(%s::uuid[]) AS u(id), LATERAL ("
            " SELECT l.row_id, l.labels FROM {s}.run_labels l"
            " WHERE l.run_id = %s AND l.row_id = u.id AND l.valid_to IS NULL OFFSET 0) AS x",
            (as_uuids(row_ids), run_id),
        )
        return {str(r["row_id"]): annotations_from_json(_objects(r["labels"])) for r in rows}


def check_diff_versions(from_version: int, to_version: int, current: int) -> tuple[int, int]:
    """Both versions recorded, the first not after the second (the same one twice is an
    empty diff): a reversed pair would read as the opposite change, and an unknown version
    as none at all."""
    versions = f"the run's versions are 1 to {current}"
    for name, version in (("fromVersion", from_version), ("toVersion", to_version)):
        if isinstance(version, bool) or not isinstance(version, int):
            raise ValidationFailed(f"{name} must be a version number, got {version!r}; {versions}")
        if version < 1:
            raise ValidationFailed(f"{name} {version} is below 1; {versions}")
        if version > current:
            raise ValidationFailed(f"{name} {version} is beyond the run's current version {current}; {versions}")
    if from_version > to_version:
        raise ValidationFailed(
            f"fromVersion {from_version} is after toVersion {to_version}; give the earlier version first ({versions})"
        )
    return from_version, to_version


# A run with the state of one of its versions (the latest unless the statement says).
_RUN_RECORD = (
    "SELECT m.id, m.model_id, m.seq, m.version AS latest_version, m.created_at,"
    " v.version, v.name, v.config, v.metric_settings, v.row_count, v.deleted, v.at"
    " FROM {s}.model_runs m JOIN {s}.model_run_versions v"
    " ON v.run_id = m.id AND v.version = m.version"
)


def _run_record(row: DictRow) -> ModelRunRecord:
    return ModelRunRecord(
        id=str(row["id"]),
        model_id=str(row["model_id"]),
        name=row["name"],
        version=row["version"],
        latest_version=row["latest_version"],
        created_at=row["created_at"],
        updated_at=row["at"],
        config=row["config"],
        metric_settings=row["metric_settings"],
        row_count=row["row_count"],
        deleted=row["deleted"],
    )


def _objects(stored: bytes | None) -> list[dict[str, Any]]:
    return [] if stored is None else orjson.loads(stored)


def _run_row(row: DictRow) -> RunRowRecord:
    return RunRowRecord(
        id=str(row["row_id"]),
        global_key=row["global_key"],
        split=row["split"],
        width=row["width"],
        height=row["height"],
        labels=_objects(row["labels"]),
        covered=row["covered"],
        predictions=_objects(row["predictions"]),
    )


def _at(alias: str, version: str) -> str:
    return as_of(alias).replace("%(v)s", version)


# Rows present at either version whose membership or split differs between them.
_DIFF_ROWS = (
    "SELECT a.global_key AS key_a, a.split AS split_a, b.global_key AS key_b, b.split AS split_b"
    " FROM (SELECT * FROM {s}.run_rows a WHERE a.run_id = %(run)s AND " + _at("a", "%(a)s") + ") a"
    " FULL JOIN (SELECT * FROM {s}.run_rows b WHERE b.run_id = %(run)s AND " + _at("b", "%(b)s") + ") b"
    " ON a.row_id = b.row_id"
    " WHERE a.split IS DISTINCT FROM b.split"
    " ORDER BY coalesce(b.row_id, a.row_id)"
)


def _diff_sets(table: str, column: str) -> str:
    """Rows of version b whose set in `table` differs from the one at version a (no record
    means no labels; for predictions, not covered)."""
    return (
        "SELECT r.global_key FROM {s}.run_rows r"
        f" LEFT JOIN {{s}}.{table} x ON x.run_id = r.run_id AND x.row_id = r.row_id AND "
        + _at("x", "%(a)s")
        + f" LEFT JOIN {{s}}.{table} y ON y.run_id = r.run_id AND y.row_id = r.row_id AND "
        + _at("y", "%(b)s")
        + " WHERE r.run_id = %(run)s AND "
        + _at("r", "%(b)s")
        + f" AND x.{column} IS DISTINCT FROM y.{column}"
        " ORDER BY r.row_id"
    )
