"""A run's metrics as flat tables (one dict per row, one key per column) and their files:
Parquet through pyarrow, imported only when a table is written, or CSV.

The per-row figures come from each row's objects and their outcomes at the grid point: the
API gives a row's outcomes, not its metric values, so a row's TP, FP and FN are counted from
them (a TP or FP is a prediction's outcome, an FN an annotation's)."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

from modelledger_client.run import RowOutcomes
from modelledger_client.tables import ConfusionMatrix, DataRow, RunMetrics

TableFormat = Literal["parquet", "csv"]
Rows = list[dict[str, Any]]

FEATURE_COLUMNS = (
    "feature", "tp", "fp", "fn", "tn", "precision", "recall", "f1", "iou", "annotations", "predictions",
)  # fmt: skip
DATA_ROW_COLUMNS = ("global_key", "data_row_id", "split", "tp", "fp", "fn")
CUSTOM_COLUMNS = ("global_key", "data_row_id", "name", "feature", "value")
CONFUSION_COLUMNS = ("ground_truth", "prediction", "count")


def row_counts(outcomes: RowOutcomes) -> dict[str, int]:
    """A row's TP, FP and FN at the grid point, counted from its objects' outcomes."""
    return {
        "tp": sum(o.outcome == "TP" for o in outcomes.predictions),
        "fp": sum(o.outcome == "FP" for o in outcomes.predictions),
        "fn": sum(o.outcome == "FN" for o in outcomes.annotations),
    }


def row_metrics(outcomes: RowOutcomes) -> dict[str, Any]:
    """A row's figures for an NDJSON export line: its counts and its custom metrics."""
    custom = [
        {"name": m.name, "feature": m.feature, "value": m.value} for m in outcomes.custom_metrics
    ]
    return {**row_counts(outcomes), "custom": custom}


def feature_table(metrics: RunMetrics) -> Rows:
    """One row per feature, then the micro row over all features (feature empty)."""
    return [
        {column: getattr(f, column) for column in FEATURE_COLUMNS}
        for f in [*metrics.features, metrics.all]
    ]


def data_row_table(rows: Iterable[tuple[DataRow, RowOutcomes]]) -> tuple[Rows, Rows]:
    """The per-row counts, and the per-row custom metrics in long form."""
    counts: Rows = []
    custom: Rows = []
    for row, outcomes in rows:
        names = {"global_key": row.global_key, "data_row_id": row.id}
        counts.append({**names, "split": row.split, **row_counts(outcomes)})
        custom += [
            {**names, "name": m.name, "feature": m.feature, "value": m.value}
            for m in outcomes.custom_metrics
        ]
    return counts, custom


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
