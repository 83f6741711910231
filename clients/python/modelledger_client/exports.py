"""A run read back through the client and written as NDJSON, as COCO instances and results,
or as metric tables in Parquet or CSV (docs/formats.md in the repository).

One implementation for every way out: `modelledger export run` calls it with a client of a
remote server, the server's `GET /export/runs/{runId}` with a client of itself. Every read
names the run's version, so an export of a run from `client.get_model_run(id, N)` is the run
exactly as it was at N."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from modelledger_client.client import Client
    from modelledger_client.formats.tables import TableFormat
    from modelledger_client.run import ModelRun, RowCustomMetric
    from modelledger_client.tables import DataRow

FORMATS = ("ndjson", "coco", "parquet", "csv")
# The object tools COCO has a form for: a category each.
COCO_TOOLS = ("BBOX", "POLYGON", "MASK")
# Rows read per request: the server's largest page is 1000.
PAGE = 500


def export_run(
    client: Client,
    run: ModelRun,
    export_format: str,
    output: Path,
    confidence: float = 0.5,
    iou: float = 0.5,
    progress: bool = True,
) -> list[Path]:
    """Writes `run` in `export_format`: ndjson into the file `output`, the other formats into
    the directory `output` (made if missing). The files written, in a fixed order.

    ndjson: one line per data row with its labels, predictions and figures at the grid
    point. coco: instances.json and results.json (the grid point plays no part). parquet or
    csv: the metric tables per feature, per data row and of the confusion matrix, and
    config.json. `progress` shows a progress bar of the rows on stderr."""
    if export_format not in FORMATS:
        raise ValueError(f"export format {export_format!r} is not one of {', '.join(FORMATS)}")
    if export_format == "ndjson":
        return [_write_ndjson(run, output, confidence, iou, progress)]
    if export_format == "coco":
        return _write_coco(client, run, output, progress)
    table_format: TableFormat = "parquet" if export_format == "parquet" else "csv"
    return _write_tables(run, output, table_format, confidence, iou, progress)


def _rows(
    run: ModelRun, progress: bool, confidence: float | None = None, iou: float | None = None
) -> Iterable[DataRow]:
    """The run's rows, a page per request, with a progress bar if asked; with their metrics
    at the grid point when one is given."""
    pages = run.data_rows(page_size=PAGE, confidence=confidence, iou=iou)
    if not progress:
        return pages
    from tqdm import tqdm

    return tqdm(pages, total=run.row_count, unit="rows", desc="data rows")


def _with_custom(
    run: ModelRun, confidence: float, iou: float, progress: bool
) -> Iterator[tuple[DataRow, list[RowCustomMetric]]]:
    """Each row with its metrics at the grid point and its custom metric values; the values
    take a request per row, made only when the run has custom metrics."""
    has_custom = bool(run.metrics(confidence, iou).custom)
    for row in _rows(run, progress, confidence, iou):
        custom = list(run.data_row_outcomes(row.id, confidence, iou).custom_metrics) if has_custom else []
        yield row, custom


def _write_ndjson(run: ModelRun, output: Path, confidence: float, iou: float, progress: bool) -> Path:
    from modelledger_client.formats.tables import custom_values, row_figures

    with output.open("w", encoding="utf-8") as file:
        for row, custom in _with_custom(run, confidence, iou, progress):
            line = {
                "globalKey": row.global_key,
                "id": row.id,
                "rowData": row.row_data,
                "mediaType": row.media_type,
                "width": row.width,
                "height": row.height,
                "split": row.split,
                "metadata": row.metadata,
                "labels": row.labels,
                "predictions": row.predictions,
                "metrics": {"confidence": confidence, "iou": iou, **row_figures(row.metrics), "custom": custom_values(custom)},
            }
            file.write(json.dumps(line, ensure_ascii=False) + "\n")
    return output


def _write_coco(client: Client, run: ModelRun, output: Path, progress: bool) -> list[Path]:
    from modelledger_client.formats import coco_export

    features = [f.name for f in client.get_model(run.model_id).features if f.kind in COCO_TOOLS]
    instances, results = coco_export.to_coco(_rows(run, progress), coco_export.categories_of(features, run.config))
    output.mkdir(parents=True, exist_ok=True)
    return [
        _write_json(output / "instances.json", instances),
        _write_json(output / "results.json", results),
    ]


def _write_tables(
    run: ModelRun, output: Path, table_format: TableFormat, confidence: float, iou: float, progress: bool
) -> list[Path]:
    from modelledger_client.formats import tables

    output.mkdir(parents=True, exist_ok=True)
    per_row, custom = tables.data_row_table(_with_custom(run, confidence, iou, progress))
    confusion = tables.confusion_table(run.confusion_matrix(confidence, iou))
    written = [
        (tables.feature_table(run.metrics(confidence, iou)), tables.FEATURE_COLUMNS, "features"),
        (per_row, tables.DATA_ROW_COLUMNS, "data_rows"),
        (custom, tables.CUSTOM_COLUMNS, "data_row_custom_metrics"),
        (confusion, tables.CONFUSION_COLUMNS, "confusion"),
    ]
    paths = [
        tables.write_table(rows, columns, output / name, table_format)
        for rows, columns, name in written
    ]
    return [*paths, _write_json(output / "config.json", run.config)]


def _write_json(path: Path, document: Any) -> Path:
    path.write_text(json.dumps(document, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return path
