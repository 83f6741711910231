"""`modelledger export run`: a run read back through the Python client as NDJSON, as COCO
instances and results, or as metric tables in Parquet or CSV (docs/formats.md).

The files are written by the client's `modelledger_client.exports`, the code the server's
`GET /export/runs/{runId}` runs too. Every read names the version, so an export of
`--version N` is the run exactly as it was at N."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli.imports import ApiKey, Url, connect, echo_json, reported
from cli.main import app

exports = typer.Typer(no_args_is_help=True, help="Export a run's rows, predictions and metrics.")
app.add_typer(exports, name="export")


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
    client = connect(url, api_key)
    from modelledger_client.exports import FORMATS
    from modelledger_client.exports import export_run as write_run

    if export_format not in FORMATS:
        raise typer.BadParameter(f"must be one of {', '.join(FORMATS)}", param_hint="--format")
    with reported():
        run = client.get_model_run(run_id, version)
        written = write_run(client, run, export_format, output, confidence, iou)
    echo_json({"run": run.id, "version": run.version, "files": [str(path) for path in written]})
