"""`modelledger export run`: a run read back through the Python client as NDJSON, as COCO
instances and results, or as metric tables in Parquet or CSV (docs/formats.md).

Every read goes through the client and names the version, so an export of `--version N`
is the run exactly as it was at N."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cli.imports import ApiKey, Url, connect, echo_json, reported
from cli.main import app

if TYPE_CHECKING:
    from modelledger_client import Client, DataRow, ModelRun, RowCustomMetric

exports = typer.Typer(no_args_is_help=True, help="Export a run's rows, predictions and metrics.")
app.add_typer(exports, name="export")

FORMATS = ("ndjson", "coco", "parquet", "csv")
# The object tools COCO has a form for: a category each.
COCO_TOOLS = ("BBOX", "POLYGON", "MASK")
# Rows read per request: the server's largest page is 1000.
PAGE = 500


@exports.command("run")
def export_run(
    run_id: Annotated[str, typer.Argument(help="The run's id.")],
    output: Annotated[
        Path, typer.Option(help="The NDJSON file, or the directory of the other formats.")
    ],
    export_format: Annotated[
        str, typer.Option("--format", help="ndjson, coco, parquet or csv.")
    ] = "ndjson",
    version: Annotated[
        int | None, typer.Option(help="The run as of this version (default: the newest).")
    ] = None,
    confidence: Annotated[
        float, typer.Option(help="The grid point's confidence threshold, for the metrics.")
    ] = 0.5,
    iou: Annotated[
        float, typer.Option(help="The grid point's IoU threshold, for the metrics.")
    ] = 0.5,
    url: Url = None,
    api_key: ApiKey = None,
) -> None:
    """A run's rows, predictions and metrics as NDJSON, COCO, Parquet or CSV.

    ndjson: one line per data row with its labels, predictions and figures at the grid
    point. coco: instances.json and results.json. parquet or csv: the metric tables per
    feature, per data row and of the confusion matrix, and config.json."""
    if export_format not in FORMATS:
        raise typer.BadParameter(f"must be one of {', '.join(FORMATS)}", param_hint="--format")
    with reported():
        client = connect(url, api_key)
        run = client.get_model_run(run_id, version)
        if export_format == "ndjson":
            written = [_write_ndjson(run, output, confidence, iou)]
        elif export_format == "coco":
            written = _write_coco(client, run, output)
        else:
            written = _write_tables(run, output, export_format, confidence, iou)
    echo_json({"run": run.id, "version": run.version, "files": [str(path) for path in written]})


def _rows(run: ModelRun, confidence: float | None = None, iou: float | None = None) -> Iterator[DataRow]:
    """The run's rows, a page per request, with a progress bar; with their metrics at the
    grid point when one is given."""
    from tqdm import tqdm

    pages = run.data_rows(page_size=PAGE, confidence=confidence, iou=iou)
    yield from tqdm(pages, total=run.row_count, unit="rows", desc="data rows")


def _with_custom(run: ModelRun, confidence: float, iou: float) -> Iterator[tuple[DataRow, list[RowCustomMetric]]]:
    """Each row with its metrics at the grid point and its custom metric values; the values
    take a request per row, made only when the run has custom metrics."""
    has_custom = bool(run.metrics(confidence, iou).custom)
    for row in _rows(run, confidence, iou):
        custom = list(run.data_row_outcomes(row.id, confidence, iou).custom_metrics) if has_custom else []
        yield row, custom


def _write_ndjson(run: ModelRun, output: Path, confidence: float, iou: float) -> Path:
    from modelledger_client.formats.tables import custom_values, row_figures

    with output.open("w", encoding="utf-8") as file:
        for row, custom in _with_custom(run, confidence, iou):
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


def _write_coco(client: Client, run: ModelRun, output: Path) -> list[Path]:
    from modelledger_client.formats import coco

    features = [f.name for f in client.get_model(run.model_id).features if f.kind in COCO_TOOLS]
    instances, results = coco.to_coco(_rows(run), coco.categories_of(features, run.config))
    output.mkdir(parents=True, exist_ok=True)
    return [
        _write_json(output / "instances.json", instances),
        _write_json(output / "results.json", results),
    ]


def _write_tables(
    run: ModelRun, output: Path, table_format: Any, confidence: float, iou: float
) -> list[Path]:
    from modelledger_client.formats import tables

    output.mkdir(parents=True, exist_ok=True)
    per_row, custom = tables.data_row_table(_with_custom(run, confidence, iou))
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
