"""Commands on datasets: create, add data rows with labels, update metadata and labels."""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from typing import Any
from uuid import UUID

from application.ledger import LedgerCore
from application.upload_lines import ErrorCollector, collector_paused, in_chunks, lines_of_rows
from domain.annotations.box_labels import BoxLabels, RowObjects
from domain.annotations.box_payloads import prediction_payloads
from domain.annotations.columns import chunk_rows, encode_rows
from domain.annotations.ndjson.keys import check_keys
from domain.annotations.ndjson.lines import DataRowRef, parse_annotation_line, parse_data_row_ref
from domain.annotations.objects import Annotation, Mask
from domain.annotations.validation import check_against_row
from domain.data_rows import (
    MAX_OBJECTS_PER_ROW,
    DataRowLine,
    MetadataField,
    RowInfo,
    declared_metadata_field,
    infer_metadata_field,
    parse_data_row_line,
)
from domain.datasets import Dataset
from domain.errors import AnnotationLineError, ValidationFailed
from domain.uploads import Part, UploadKind, chunk_payload

# The keys of each kind of line (docs/uploads.md), in the order messages list them.
DATA_ROW_LINE_KEYS = ("globalKey", "rowData", "mediaType", "width", "height", "metadata", "labels")
METADATA_LINE_KEYS = ("dataRow", "metadata")
LABELS_LINE_KEYS = ("dataRow", "labels")
# What a line of each update looks like, for the message of a line that is not like it.
_ROW_SHAPE = '{"dataRow": {"globalKey": "..."} | {"id": "..."}'
METADATA_LINE = _ROW_SHAPE + ', "metadata": {key: value}}'
LABELS_LINE = _ROW_SHAPE + ', "labels": [label, ...]}'


def parse_labels(
    labels: Any, line_no: int, row: RowInfo, errors: ErrorCollector
) -> list[Annotation]:
    """A row's `labels` list (annotation objects without their own dataRow), each checked
    against the row: its mediaType, its image and, for masks, its size."""
    if labels is None:
        return []
    if not isinstance(labels, list):
        errors.add(line_no, f"labels of {row.global_key!r} must be a list")
        return []
    if len(labels) > MAX_OBJECTS_PER_ROW:
        errors.add(line_no, f"data row {row.global_key!r} has {len(labels)} labels; at most {MAX_OBJECTS_PER_ROW} per data row")
        return []
    parsed: list[Annotation] = []
    for number, label in enumerate(labels, 1):
        which = f"label {number} of {row.global_key!r}"
        if not isinstance(label, dict):
            errors.add(line_no, f"{which} is not an object")
            continue
        if "dataRow" in label:
            errors.add(line_no, f'{which}: a label belongs to the row of its line and takes no "dataRow"')
            continue
        try:
            _, annotations = parse_annotation_line({**label, "dataRow": {"id": row.id}}, line_no)
            check_against_row(annotations, row, line_no)
            for annotation in annotations:
                check_mask_size(annotation, row, line_no)
        except AnnotationLineError as exc:
            errors.add(line_no, f"{which}: {exc.reason}")
            continue
        parsed.extend(annotations)
    return parsed


def check_mask_size(annotation: Annotation, row: RowInfo, line_no: int) -> None:
    geometry = annotation.geometry
    if isinstance(geometry, Mask) and (geometry.height, geometry.width) != row.size:
        raise AnnotationLineError(
            line_no,
            f"mask of {annotation.feature!r} is {geometry.height}x{geometry.width} (height x width), "
            + (
                "the data row has no width and height"
                if row.size is None
                else f"the data row is {row.size[0]}x{row.size[1]}"
            ),
        )


class DatasetCommands(LedgerCore):
    def create_dataset(self, name: str, actor: str) -> Dataset:
        dataset = Dataset(name=name, actor=actor)
        self.store(dataset)
        return dataset

    def rename_dataset(self, dataset_id: UUID, name: str, actor: str) -> Dataset:
        return self.change(Dataset, dataset_id, "dataset", lambda dataset: dataset.rename(name=name, actor=actor))

    def delete_dataset(self, dataset_id: UUID, actor: str) -> Dataset:
        return self.change(Dataset, dataset_id, "dataset", lambda dataset: dataset.delete(actor=actor))

    def declare_metadata_fields(self, dataset_id: UUID, fields: list[dict[str, Any]], actor: str) -> Dataset:
        """Declare typed metadata keys ({key, kind, options}) before rows use them; a key
        already declared must be declared the same. All or nothing."""
        parsed = [declared_metadata_field(f.get("key"), f.get("kind"), f.get("options")) for f in fields]
        keys = [f.key for f in parsed]
        if len(set(keys)) != len(keys):
            raise ValidationFailed(f"a metadata key is declared twice: {sorted(k for k in set(keys) if keys.count(k) > 1)}")

        def declare(dataset: Dataset) -> None:
            dataset.check_live()
            dataset.declare_metadata_fields(parsed, actor=actor)

        return self.change(Dataset, dataset_id, "dataset", declare)

    @collector_paused()
    def add_data_rows(self, dataset_id: UUID, lines: Iterable[tuple[int, Any]], actor: str) -> tuple[Dataset, int]:
        """Add new rows (globalKey unique per dataset) with their labels; all or nothing."""
        dataset = self.load(Dataset, dataset_id, "dataset")
        self.rows.wait_until_current()
        fields = dataset.fields
        errors = ErrorCollector()
        rows: list[DataRowLine] = []
        # Rows whose labels are all plain boxes go into columns; the others' labels are
        # parsed into objects: (line, row id, labels).
        box_labels = BoxLabels(MAX_OBJECTS_PER_ROW)
        infos: dict[str, RowInfo] = {}
        labels: RowObjects = []
        label_lines: list[tuple[str, int]] = []
        declared: dict[str, MetadataField] = {}
        seen: dict[str, int] = {}
        for line_no, obj in lines:
            if isinstance(obj, dict) and not errors.passes(line_no, partial(check_keys, obj, DATA_ROW_LINE_KEYS, line_no)):
                continue
            parsed = errors.attempt(line_no, partial(parse_data_row_line, obj, line_no, dataset.id, fields))
            if parsed is None:
                continue
            row, new_fields = parsed
            for field in new_fields:
                fields[field.key] = declared[field.key] = field
            if row.global_key in seen:
                errors.add(line_no, f"globalKey {row.global_key!r} repeats line {seen[row.global_key]}")
                continue
            seen[row.global_key] = line_no
            info = RowInfo(row.id, row.global_key, row.width, row.height, row.media_type)
            rows.append(row)
            if box_labels.take(obj.get("labels"), row.id, line_no):
                infos[row.id] = info
                label_lines.append((row.id, line_no))
                continue
            row_labels = parse_labels(obj.get("labels"), line_no, info, errors)
            if row_labels:
                labels.append((line_no, row.id, row_labels))
                label_lines.append((row.id, line_no))
        boxes, numbers = box_labels.finish()
        shapes = [infos[row_id] for row_id in boxes.ref_ids()]
        box_lines, box_refs = boxes.line.tolist(), boxes.ref.tolist()
        for index, message in boxes.misfit_messages(shapes):
            key = shapes[box_refs[index]].global_key
            errors.add(box_lines[index], f"label {numbers[index]} of {key!r}: {message}")
        self._check_new_keys(dataset.id, seen, errors)
        if not rows and not errors.errors:
            errors.add(1, "the upload holds no data row")
        errors.raise_if_any("data row upload")

        chunks: list[dict[str, Any]] = [
            chunk_payload(
                UploadKind.DATA_ROWS,
                Part.ROWS,
                [[r.id, r.global_key, r.row_data, r.media_type, r.width, r.height, r.metadata] for r in part],
            )
            for part in in_chunks(rows)
        ]
        with lines_of_rows(lambda: {row_id: line for row_id, line in label_lines}):
            payloads, _ = prediction_payloads(boxes, boxes.ref_ids(), labels)
        chunks += [chunk_payload(UploadKind.DATA_ROWS, Part.LABELS, payload) for payload in payloads]
        label_count = len(boxes) + sum(len(x) for _, _, x in labels)

        def write(attempt: int) -> tuple[Dataset, int]:
            fresh = dataset
            if attempt:  # another upload got there first: its rows may hold our keys now
                fresh = self.load(Dataset, dataset_id, "dataset")
                self.rows.wait_until_current()
                again = ErrorCollector()
                self._check_new_keys(fresh.id, seen, again)
                again.raise_if_any("data row upload")
            fresh.declare_metadata_fields(list(declared.values()), actor=actor)
            upload = self.new_upload(fresh, UploadKind.DATA_ROWS, actor, chunks)
            fresh.add_data_rows(upload_id=upload.id, rows=len(rows), labels=label_count, actor=actor)
            return fresh, self.store(fresh, upload)

        return self.retrying(write)

    def _check_new_keys(self, dataset_id: UUID, lines_of_keys: dict[str, int], errors: ErrorCollector) -> None:
        for key in self.rows.dataset_rows(dataset_id, global_keys=list(lines_of_keys)):
            errors.add(lines_of_keys[key], f"globalKey {key!r} already exists in dataset {dataset_id}")

    def _resolve_dataset_rows(
        self,
        dataset: Dataset,
        items: list[tuple[int, Any]],
        keys: tuple[str, ...],
        shape: str,
        errors: ErrorCollector,
    ) -> list[tuple[int, dict[str, Any], RowInfo | None]]:
        """The lines that are objects of the update's keys, each with its data row (None,
        and an error, when the line names none or one not in the dataset). A line that is
        not such an object gets an error showing what a line looks like (`shape`)."""
        lines: list[tuple[int, dict[str, Any], DataRowRef | None]] = []
        for line_no, obj in items:
            if not isinstance(obj, dict):
                errors.add(line_no, f"a line must be a JSON object; expected {shape}")
                continue
            try:
                check_keys(obj, keys, line_no)
                if "dataRow" not in obj:
                    raise AnnotationLineError(line_no, f'missing "dataRow"; expected {shape}')
            except AnnotationLineError as exc:
                errors.add(line_no, exc.reason)
                continue
            ref = errors.attempt(line_no, partial(parse_data_row_ref, obj["dataRow"], line_no))
            lines.append((line_no, obj, ref))
        ids = [ref.id for _, _, ref in lines if ref is not None and ref.id is not None]
        global_keys = [ref.global_key for _, _, ref in lines if ref is not None and ref.global_key is not None]
        found = self.rows.dataset_rows(dataset.id, ids=ids, global_keys=global_keys)
        resolved: list[tuple[int, dict[str, Any], RowInfo | None]] = []
        for line_no, obj, ref in lines:
            row = None
            if ref is not None:
                named = ("id", ref.id) if ref.id is not None else ("globalKey", ref.global_key)
                row = found.get(named[1]) if named[1] is not None else None
                if row is None:
                    errors.add(line_no, f"data row with {named[0]} {named[1]!r} is not in dataset {dataset.id}")
            resolved.append((line_no, obj, row))
        return resolved

    def update_metadata(self, dataset_id: UUID, lines: Iterable[tuple[int, Any]], actor: str) -> tuple[Dataset, int]:
        """Lines {"dataRow": {"id"|"globalKey"}, "metadata": {key: value|null}}: merged in,
        null removes a key."""
        dataset = self.load(Dataset, dataset_id, "dataset")
        self.rows.wait_until_current()
        fields = dataset.fields
        errors = ErrorCollector()
        resolved = self._resolve_dataset_rows(dataset, list(lines), METADATA_LINE_KEYS, METADATA_LINE, errors)
        updates: list[list[Any]] = []
        declared: dict[str, MetadataField] = {}
        line_of: dict[str, int] = {}
        for line_no, obj, row in resolved:
            if row is not None:
                if row.id in line_of:
                    errors.add(line_no, f"data row {row.global_key!r} repeats line {line_of[row.id]}; give each row's metadata once")
                    continue
                line_of[row.id] = line_no
            if "metadata" not in obj:
                errors.add(line_no, f'missing "metadata"; expected {METADATA_LINE}')
                continue
            metadata = obj["metadata"]
            if not isinstance(metadata, dict) or not metadata:
                errors.add(line_no, "metadata must be a non-empty object {key: value}")
                continue
            checked: dict[str, Any] = {}
            for key, value in metadata.items():
                field = fields.get(key)
                if field is None and value is not None:
                    made = errors.attempt(line_no, partial(infer_metadata_field, key, value, line_no))
                    if made is None:
                        continue
                    field = fields[key] = declared[key] = made
                if field is None:
                    checked[key] = None
                    continue
                result = errors.attempt(line_no, partial(field.check, value, line_no))
                if result is not None or value is None:
                    checked[key] = result
            if row is not None:
                updates.append([row.id, checked])
        errors.raise_if_any("metadata update")
        chunks = [chunk_payload(UploadKind.METADATA, Part.METADATA, part) for part in in_chunks(updates)]

        def write(attempt: int) -> tuple[Dataset, int]:
            fresh = dataset if attempt == 0 else self.load(Dataset, dataset_id, "dataset")
            fresh.declare_metadata_fields(list(declared.values()), actor=actor)
            upload = self.new_upload(fresh, UploadKind.METADATA, actor, chunks)
            fresh.update_metadata(upload_id=upload.id, rows=len(updates), actor=actor)
            return fresh, self.store(fresh, upload)

        return self.retrying(write)

    def update_labels(self, dataset_id: UUID, lines: Iterable[tuple[int, Any]], actor: str) -> tuple[Dataset, int]:
        """Lines {"dataRow": {...}, "labels": [...]}: each row's labels are replaced."""
        dataset = self.load(Dataset, dataset_id, "dataset")
        self.rows.wait_until_current()
        errors = ErrorCollector()
        resolved = self._resolve_dataset_rows(dataset, list(lines), LABELS_LINE_KEYS, LABELS_LINE, errors)
        replaced: dict[str, list[Annotation]] = {}
        line_of: dict[str, int] = {}
        for line_no, obj, row in resolved:
            if row is None:
                continue
            if row.id in line_of:
                errors.add(line_no, f"data row {row.global_key!r} repeats line {line_of[row.id]}; give each row's labels once")
                continue
            line_of[row.id] = line_no
            replaced[row.id] = parse_labels(obj.get("labels", []), line_no, row, errors)
        if not replaced and not errors.errors:
            raise ValidationFailed("the label update holds no data row")
        errors.raise_if_any("label update")
        rows = list(replaced.items())
        with lines_of_rows(lambda: line_of):
            chunks = [chunk_payload(UploadKind.LABELS, Part.LABELS, encode_rows(part)) for part in chunk_rows(rows)]
        labels = sum(len(v) for v in replaced.values())

        def write(attempt: int) -> tuple[Dataset, int]:
            fresh = dataset if attempt == 0 else self.load(Dataset, dataset_id, "dataset")
            upload = self.new_upload(fresh, UploadKind.LABELS, actor, chunks)
            fresh.update_labels(upload_id=upload.id, rows=len(rows), labels=labels, actor=actor)
            return fresh, self.store(fresh, upload)

        return self.retrying(write)
