"""Commands on model runs: create from data rows, rows, splits, predictions, config."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any
from uuid import UUID, uuid4

from application.ledger import LedgerCore
from application.metric_commands import MetricCommands
from application.upload_lines import ErrorCollector, collector_paused, in_chunks, lines_of_rows
from domain.annotations.box_columns import BoxLines
from domain.annotations.box_payloads import crowded_rows, first_lines, prediction_payloads
from domain.annotations.ndjson.lines import DataRowRef, parse_annotation_line
from domain.annotations.objects import Annotation
from domain.annotations.validation import check_against_row, validate_annotations
from domain.custom_metrics import parse_custom_metric_line
from domain.data_rows import MAX_OBJECTS_PER_ROW, RowInfo
from domain.datasets import Dataset
from domain.errors import AnnotationLineError, ValidationFailed
from domain.model_runs import ModelRun
from domain.models import Model
from domain.ontology import Ontology
from domain.splits import Split, parse_split, split_by_ratios
from domain.uploads import Part, Upload, UploadKind, chunk_payload, read_chunk


def held_splits(rows: Iterable[RowInfo]) -> dict[str, Split]:
    """The split of each of the run's rows, by row id."""
    held: dict[str, Split] = {}
    for row in rows:
        if row.split is None:
            raise TypeError(f"the row directory gave run row {row.id} without its split")
        held[row.id] = row.split
    return held


@dataclass(frozen=True)
class SplitSpec:
    """Either explicit splits per global key or id, or ratios with a seed."""

    train: float = 0.0
    validate: float = 0.0
    test: float = 0.0
    seed: int = 0
    assignments: dict[str, str] = field(default_factory=dict)

    def assign(self, rows: list[RowInfo], held: Mapping[str, Split] | None = None) -> list[Split]:
        """Each row's split: the one the assignments name; else, for a row the run already
        holds (in `held`, by id), the split it has; else, if there are no assignments, the
        ratios' (UNASSIGNED when none is given)."""
        held = held or {}
        if self.assignments:
            known = {r.global_key for r in rows} | {r.id for r in rows}
            unknown = [k for k in self.assignments if k not in known]
            if unknown:
                raise ValidationFailed(f"split assignment names data rows not in the run: {unknown[:10]}")
            named = [self.assignments.get(r.global_key, self.assignments.get(r.id)) for r in rows]
            return [
                parse_split(split) if split is not None else held.get(r.id, Split.UNASSIGNED)
                for r, split in zip(rows, named, strict=True)
            ]
        new = [r.id for r in rows if r.id not in held]
        placed = dict(zip(new, split_by_ratios(new, self.train, self.validate, self.test, self.seed), strict=True))
        return [held[r.id] if r.id in held else placed[r.id] for r in rows]


class ModelRunCommands(MetricCommands):
    def _snapshot_chunks(
        self, model: Model, dataset_id: UUID, rows: list[RowInfo], splits: list[Split], every_row: bool
    ) -> tuple[list[dict[str, Any]], int]:
        """Rows, their splits and their current labels, checked against the ontology.
        `every_row`: the rows are all of the dataset's."""
        boxes, others = self.rows.dataset_label_columns(dataset_id, [r.id for r in rows], every_row)
        # The first row (in `rows`) whose labels the model's ontology does not take.
        reasons = {line: message for line, message in reversed(boxes.line_errors({}, model.ontology))}
        for index, _, row_labels in others:
            try:
                validate_annotations(row_labels, model.ontology, rows[index].size, 0)
            except AnnotationLineError as exc:
                reasons.setdefault(index, exc.reason)
        if reasons:
            first = min(reasons)
            raise ValidationFailed(f"labels of data row {rows[first].global_key!r}: {reasons[first]}")
        chunks: list[dict[str, Any]] = [
            chunk_payload(
                UploadKind.RUN_ROWS,
                Part.ROWS,
                [[r.id, r.global_key, s.value, r.width, r.height, str(dataset_id)] for r, s in part],
            )
            for part in in_chunks(list(zip(rows, splits, strict=True)))
        ]
        payloads, _ = prediction_payloads(boxes, boxes.ref_ids(), others)
        chunks += [chunk_payload(UploadKind.RUN_ROWS, Part.LABELS, payload) for payload in payloads]
        return chunks, len(boxes) + sum(len(labels) for _, _, labels in others)

    def _dataset_rows(self, dataset: Dataset, ids: list[str], global_keys: list[str]) -> tuple[list[RowInfo], bool]:
        """The rows named (every row of the dataset when none is), and whether they are every row."""
        if not ids and not global_keys:
            return self.rows.all_dataset_rows(dataset.id), True
        found = self.rows.dataset_rows(dataset.id, ids=ids, global_keys=global_keys)
        missing = [k for k in [*ids, *global_keys] if k not in found]
        if missing:
            raise ValidationFailed(f"data rows not in dataset {dataset.id}: {missing[:10]}")
        unique: dict[str, RowInfo] = {}
        for key in [*ids, *global_keys]:
            unique.setdefault(found[key].id, found[key])
        return list(unique.values()), False

    @collector_paused()  # a snapshot builds an object or more per row and label
    def create_model_run(
        self,
        model_id: UUID,
        name: str,
        dataset_id: UUID,
        actor: str,
        data_row_ids: list[str] | None = None,
        global_keys: list[str] | None = None,
        splits: SplitSpec | None = None,
    ) -> ModelRun:
        model = self.load(Model, model_id, "model")
        dataset = self.load(Dataset, dataset_id, "dataset")
        self.rows.wait_until_current()
        rows, every_row = self._dataset_rows(dataset, data_row_ids or [], global_keys or [])
        if not rows:
            raise ValidationFailed(f"dataset {dataset_id} has no data rows to put in a model run")
        assigned = (splits or SplitSpec()).assign(rows)
        chunks, labels = self._snapshot_chunks(model, dataset.id, rows, assigned, every_row)
        run_id = uuid4()
        upload = Upload(owner_id=run_id, owner_version=1, kind=UploadKind.RUN_ROWS, actor=actor)
        for index, payload in enumerate(chunks):
            upload.add_chunk(index=index, payload=payload)
        source = {"datasetId": str(dataset_id), "labels": labels}
        run = ModelRun(
            id=run_id, model_id=model.id, name=name, upload_id=upload.id, rows=len(rows), source=source, actor=actor
        )
        self.store(run, upload)
        return run

    @collector_paused()
    def upsert_run_rows(
        self,
        run_id: UUID,
        dataset_id: UUID,
        actor: str,
        data_row_ids: list[str] | None = None,
        global_keys: list[str] | None = None,
        splits: SplitSpec | None = None,
        expected_version: int | None = None,
    ) -> ModelRun:
        """Take the rows' current labels (and splits) into the run; new rows are added."""
        run = self.load_run(run_id, expected_version)
        model = self.load(Model, run.model_id, "model")
        dataset = self.load(Dataset, dataset_id, "dataset")
        self.rows.wait_until_current()
        rows, every_row = self._dataset_rows(dataset, data_row_ids or [], global_keys or [])
        present = self.rows.run_rows(run.id, ids=[r.id for r in rows])
        # Rows the run holds keep their split unless the request names another.
        held = held_splits(present.values())
        assigned = (splits or SplitSpec()).assign(rows, held)
        if self._holds_already(run, dataset.id, rows, present, assigned):
            return run  # the run holds these rows as they are: no new version
        chunks, _ = self._snapshot_chunks(model, dataset.id, rows, assigned, every_row)
        upload = self.new_upload(run, UploadKind.RUN_ROWS, actor, chunks)
        run.upsert_rows(upload_id=upload.id, rows=len(rows), added=len(rows) - len(present), actor=actor)
        parts = (read_chunk(UploadKind.RUN_ROWS, payload) for payload in chunks)
        row_chunks = [(i, len(value)) for i, (part, value) in enumerate(parts) if part is Part.ROWS]
        self.store(run, upload, self.metrics_for_upload(run, upload, row_chunks, len(rows), actor))
        return run

    def _holds_already(
        self, run: ModelRun, dataset_id: UUID, rows: list[RowInfo], present: dict[str, RowInfo], splits: list[Split]
    ) -> bool:
        """Whether the run holds every row with this split, size and the dataset's labels."""
        for row, split in zip(rows, splits, strict=True):
            held = present.get(row.id)
            if held is None or held.split != split or (held.width, held.height) != (row.width, row.height):
                return False
        ids = [r.id for r in rows]
        return self.rows.run_labels(run.id, ids) == self.rows.dataset_labels(dataset_id, ids)

    def _run_rows_named(self, run: ModelRun, keys: list[str]) -> dict[str, RowInfo]:
        found = self.rows.run_rows(run.id, ids=keys, global_keys=keys)
        missing = [k for k in keys if k not in found]
        if missing:
            raise ValidationFailed(f"data rows not in model run {run.id}: {missing[:10]}")
        return found

    def reassign_splits(
        self, run_id: UUID, assignments: dict[str, str], actor: str, expected_version: int | None = None
    ) -> ModelRun:
        run = self.load_run(run_id, expected_version)
        self.rows.wait_until_current()
        if not assignments:
            raise ValidationFailed("no split assignment given")
        found = self._run_rows_named(run, list(assignments))
        held = held_splits(found.values())
        wanted = {found[key].id: parse_split(split) for key, split in assignments.items()}
        pairs = [[row_id, split.value] for row_id, split in wanted.items() if held[row_id] != split]
        if not pairs:
            return run  # every row is in its split already: no new version
        upload = self.new_upload(
            run, UploadKind.SPLITS, actor, [chunk_payload(UploadKind.SPLITS, Part.SPLITS, p) for p in in_chunks(pairs)]
        )
        run.reassign_splits(upload_id=upload.id, rows=len(pairs), actor=actor)
        self.store(run, upload)
        return run

    def remove_run_rows(
        self, run_id: UUID, keys: list[str], actor: str, expected_version: int | None = None
    ) -> ModelRun:
        run = self.load_run(run_id, expected_version)
        self.rows.wait_until_current()
        if not keys:
            raise ValidationFailed("no data row to remove")
        ids = sorted({row.id for row in self._run_rows_named(run, keys).values()})
        upload = self.new_upload(
            run, UploadKind.REMOVE_ROWS, actor, [chunk_payload(UploadKind.REMOVE_ROWS, Part.REMOVE, p) for p in in_chunks(ids)]
        )
        run.remove_rows(upload_id=upload.id, rows=len(ids), actor=actor)
        self.store(run, upload)
        return run

    @collector_paused()
    def upload_predictions(
        self, run_id: UUID, lines: Iterable[tuple[int, Any]], actor: str
    ) -> tuple[ModelRun, int, int]:
        """One prediction per line; each covered row's set is replaced; all or nothing.

        Returns the run, the notification id of the save and the number of predictions.
        """
        run = self.load_run(run_id)
        model = self.load(Model, run.model_id, "model")
        self.rows.wait_until_current()
        errors = ErrorCollector()
        parsed: list[tuple[int, DataRowRef, list[Annotation]]] = []
        names = model.ontology.names_by_id
        # Plain box lines go straight into columns; every other line is parsed into objects.
        box_lines = BoxLines(names)
        take = box_lines.take
        for line_no, obj in lines:
            if take(obj, line_no):
                continue
            result = errors.attempt(line_no, partial(parse_annotation_line, obj, line_no, names, prediction=True))
            if result is not None:
                parsed.append((line_no, result[0], result[1]))
            if errors.full:
                break
        boxes = box_lines.finish()
        refs = [*boxes.refs, *(ref for _, ref, _ in parsed)]
        ids = list({ref.id for ref in refs if ref.id is not None})
        keys = list({ref.global_key for ref in refs if ref.global_key is not None})
        found = self.rows.run_rows(run.id, ids=ids, global_keys=keys)
        box_rows = [found.get(_key(ref)) for ref in boxes.refs]
        unknown = {
            index: f"data row {_key(ref)!r} is not in model run {run.id}"
            for index, (ref, row) in enumerate(zip(boxes.refs, box_rows, strict=True))
            if row is None
        }
        for line_no, message in boxes.line_errors(unknown, model.ontology, box_rows):
            errors.add(line_no, message)
        others: list[tuple[int, str, list[Annotation]]] = []
        count = len(boxes)
        for line_no, ref, row_predictions in parsed:
            key = _key(ref)
            row = found.get(key)
            if row is None:
                errors.add(line_no, f"data row {key!r} is not in model run {run.id}")
                continue
            if not errors.passes(line_no, partial(_check_predictions, row_predictions, model.ontology, row, line_no)):
                continue
            others.append((line_no, row.id, row_predictions))
            count += len(row_predictions)
        if not parsed and not len(boxes) and not errors.errors:
            errors.add(1, "the upload holds no prediction line")
        errors.raise_if_any("prediction upload")
        ref_rows = [row.id for row in box_rows if row is not None]
        keys_of = {row.id: row.global_key for row in found.values()}
        for line_no, row_id, many in crowded_rows(boxes, ref_rows, others, MAX_OBJECTS_PER_ROW):
            errors.add(
                line_no,
                f"data row {keys_of.get(row_id, row_id)!r} is given {many} predictions; at most {MAX_OBJECTS_PER_ROW} per data row",
            )
        errors.raise_if_any("prediction upload")
        with lines_of_rows(lambda: first_lines(boxes, ref_rows, others)):
            payloads, rows = prediction_payloads(boxes, ref_rows, others)
        chunks = [chunk_payload(UploadKind.PREDICTIONS, Part.PREDICTIONS, p) for p in payloads]
        chunk_rows = [(i, len(dict.fromkeys(p["rows"]))) for i, p in enumerate(payloads)]
        row_ids = list(dict.fromkeys([*ref_rows, *(row_id for _, row_id, _ in others)]))

        def write(attempt: int) -> tuple[ModelRun, int]:
            fresh = run if attempt == 0 else self.still_holding(run_id, row_ids)
            upload = self.new_upload(fresh, UploadKind.PREDICTIONS, actor, chunks)
            fresh.upload_predictions(upload_id=upload.id, rows=rows, predictions=count, actor=actor)
            computation = self.metrics_for_upload(fresh, upload, chunk_rows, rows, actor)
            return fresh, self.store(fresh, upload, computation)

        written, position = self.retrying(write)
        return written, position, count

    def update_config(
        self, run_id: UUID, config: Any, actor: str, expected_version: int | None = None
    ) -> ModelRun:
        return self.change(ModelRun, run_id, "model run", lambda run: run.update_config(config=config, actor=actor), expected_version)

    def reset_config(self, run_id: UUID, actor: str, expected_version: int | None = None) -> ModelRun:
        return self.change(ModelRun, run_id, "model run", lambda run: run.reset_config(actor=actor), expected_version)

    def copy_config(
        self, run_id: UUID, source_run_id: UUID, actor: str, expected_version: int | None = None
    ) -> ModelRun:
        source = self.load_run(source_run_id)
        return self.change(ModelRun, run_id, "model run", lambda run: run.copy_config(source_run=source, actor=actor), expected_version)

    def set_metric_settings(
        self, run_id: UUID, actor: str, expected_version: int | None = None, **changes: Any
    ) -> ModelRun:
        def write(_: int) -> ModelRun:
            run = self.load_run(run_id, expected_version)
            before = run.settings
            run.change_metric_settings(actor=actor, **changes)
            self.store(run, self.metrics_for_settings(run, before, actor))
            return run

        return self.retrying(write, expected_version)

    def rename_model_run(self, run_id: UUID, name: str, actor: str, expected_version: int | None = None) -> ModelRun:
        return self.change(ModelRun, run_id, "model run", lambda run: run.rename(name=name, actor=actor), expected_version)

    def delete_model_run(self, run_id: UUID, actor: str, expected_version: int | None = None) -> ModelRun:
        return self.change(ModelRun, run_id, "model run", lambda run: run.delete(actor=actor), expected_version)

def _key(ref: DataRowRef) -> str:
    """How a line names its data row: by id or by global key."""
    if ref.id is not None:
        return ref.id
    assert ref.global_key is not None  # a DataRowRef holds exactly one of the two
    return ref.global_key


def _check_predictions(predictions: list[Annotation], ontology: Ontology, row: RowInfo, line_no: int) -> None:
    """Raises AnnotationLineError if a line's predictions do not fit the model's ontology
    or their data row."""
    validate_annotations(predictions, ontology, row.size, line_no)
    check_against_row(predictions, row, line_no)


class CustomMetricCommands(LedgerCore):
    def upload_custom_metrics(
        self, run_id: UUID, lines: Iterable[tuple[int, Any]], actor: str
    ) -> tuple[ModelRun, int, int]:
        """Custom metric values per data row (and feature); a value for the same (row,
        metric, feature) replaces the earlier one. All or nothing."""
        run = self.load_run(run_id)
        model = self.load(Model, run.model_id, "model")
        self.rows.wait_until_current()
        errors = ErrorCollector()
        parsed = []
        for line_no, obj in lines:
            value = errors.attempt(line_no, partial(parse_custom_metric_line, obj, line_no, model.ontology))
            if value is not None:
                parsed.append((line_no, value))
        ids = [v.data_row["id"] for _, v in parsed if "id" in v.data_row]
        keys = [v.data_row["globalKey"] for _, v in parsed if "globalKey" in v.data_row]
        found = self.rows.run_rows(run.id, ids=ids, global_keys=keys)
        records: list[list[Any]] = []
        for line_no, value in parsed:
            key = next(iter(value.data_row.values()))
            if key not in found:
                errors.add(line_no, f"data row {key!r} is not in model run {run.id}")
                continue
            records.append(value.to_record(found[key].id))
        if not parsed and not errors.errors:
            errors.add(1, "the upload holds no custom metric value")
        errors.raise_if_any("custom metric upload")
        chunks = [chunk_payload(UploadKind.CUSTOM_METRICS, Part.VALUES, part) for part in in_chunks(records)]
        row_ids = list(dict.fromkeys(str(record[0]) for record in records))

        def write(attempt: int) -> tuple[ModelRun, int]:
            fresh = run if attempt == 0 else self.still_holding(run_id, row_ids)
            upload = self.new_upload(fresh, UploadKind.CUSTOM_METRICS, actor, chunks)
            fresh.upload_custom_metrics(upload_id=upload.id, values=len(records), actor=actor)
            return fresh, self.store(fresh, upload)

        written, position = self.retrying(write)
        return written, position, len(records)
