"""A run's metrics as flat tables (one dict per row, one key per column) and their files:
Parquet through pyarrow, imported only when a table is written, or CSV.

The per-row figures are the rows' metrics at the grid point, as `dataRows` gives them with a
confidence and an IoU; a row's custom metric values come from its detail, asked only when the
run has custom metrics."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

from modelledger_client.run import RowCustomMetric
from modelledger_client.tables import ConfusionMatrix, DataRow, RowMetrics, RunMetrics

TableFormat = Literal["parquet", "csv"]
Rows = list[dict[str, Any]]

FEATURE_COLUMNS = (
    "feature", "tp", "fp", "fn", "tn", "precision", "recall", "f1", "iou", "annotations", "predictions",
)  # fmt: skip
RATIO_COLUMNS = ("tp", "fp", "fn", "tn", "precision", "recall", "f1", "iou")
DATA_ROW_COLUMNS = ("global_key", "data_row_id", "split", *RATIO_COLUMNS)
CUSTOM_COLUMNS = ("global_key", "data_row_id", "name", "feature", "value")
CONFUSION_COLUMNS = ("ground_truth", "prediction", "count")


def row_figures(metrics: RowMetrics | None) -> dict[str, Any]:
    """A row's metrics as columns (all empty for a row no prediction upload covered)."""
    return {column: None if metrics is None else getattr(metrics, column) for column in RATIO_COLUMNS}


def custom_values(custom: Iterable[RowCustomMetric]) -> list[dict[str, Any]]:
    return [{"name": m.name, "feature": m.feature, "value": m.value} for m in custom]


def feature_table(metrics: RunMetrics) -> Rows:
    """One row per feature, then the micro row over all features (feature empty)."""
    return [
        {column: getattr(f, column) for column in FEATURE_COLUMNS}
        for f in [*metrics.features, metrics.all]
    ]


def data_row_table(rows: Iterable[tuple[DataRow, list[RowCustomMetric]]]) -> tuple[Rows, Rows]:
    """The per-row metrics, and the per-row custom metrics in long form."""
    figures: Rows = []
    custom: Rows = []
    for row, values in rows:
        names = {"global_key": row.global_key, "data_row_id": row.id}
        figures.append({**names, "split": row.split, **row_figures(row.metrics)})
        custom += [{**names, **value} for value in custom_values(values)]
    return figures, custom


def confusion_table(matrix: ConfusionMatrix) -> Rows:
    """Every cell of the matrix in long form; None (no object) is an empty label."""
    return [
        {"ground_truth": truth, "prediction": predicted, "count": count}
        for truth, counts in zip(matrix.labels, matrix.counts, strict=True)
        for predicted, count in zip(matrix.labels, counts, strict=True)
    ]


def write_table(
    rows: Rows, columns: tuple[str, ...], path: Path, table_format: TableFormat
) -> Path:
    """`path` with the format's suffix, holding `rows` in `columns` order (headers even when empty)."""
    target = path.with_suffix(f".{table_format}")
    if table_format == "parquet":
        _write_parquet(rows, columns, target)
    else:
        with target.open("w", newline="", encoding="utf-8") as file:
            writer = csv.DictWriter(file, fieldnames=columns)
            writer.writeheader()
            writer.writerows(rows)
    return target


def _write_parquet(rows: Rows, columns: tuple[str, ...], target: Path) -> None:
    try:
        import pyarrow
        import pyarrow.parquet
    except ImportError as exc:
        raise ImportError(
            "writing Parquet needs pyarrow, which is not installed: pip install pyarrow"
        ) from exc
    table = pyarrow.table({column: [row[column] for row in rows] for column in columns})
    pyarrow.parquet.write_table(table, target)
