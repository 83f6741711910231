"""Small scenarios driven through the real application's commands."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from application import SplitSpec
from runtime import Runtime

TOOLS = [
    {"name": "car", "tool": "BBOX"},
    {"name": "person", "tool": "BBOX"},
    {"name": "road", "tool": "POLYGON"},
]
CLASSIFICATIONS = [{"name": "weather", "kind": "RADIO", "answers": ["sunny", "rainy"]}]


def box(top: float = 10, left: float = 20, height: float = 30, width: float = 40) -> dict[str, float]:
    return {"top": top, "left": left, "height": height, "width": width}


def row_line(key: str, labels: list[dict[str, Any]] | None = None, **extra: Any) -> dict[str, Any]:
    line: dict[str, Any] = {"globalKey": key, "rowData": f"https://assets/{key}.jpg", "width": 640, "height": 480}
    if labels is not None:
        line["labels"] = labels
    line.update(extra)
    return line


def numbered(lines: list[dict[str, Any]]) -> list[tuple[int, dict[str, Any]]]:
    return list(enumerate(lines, start=1))


@dataclass
class Scenario:
    """A dataset of `rows` rows (k0, k1, ...; every row has one "car" box label, even rows
    also a "weather/sunny" answer), a model and a run of all rows (split by key: the
    first half TRAINING, the rest TEST)."""

    dataset_id: UUID
    model_id: UUID
    run_id: UUID
    keys: list[str]


def scenario(ledger: Runtime, rows: int = 6) -> Scenario:
    app = ledger.app
    dataset = app.create_dataset("street scenes", actor="alice")
    lines = []
    for i in range(rows):
        labels: list[dict[str, Any]] = [{"name": "car", "bbox": box(top=i)}]
        if i % 2 == 0:
            labels.append({"name": "weather", "answer": {"name": "sunny"}})
        # Row i's car sits at top i: the image is tall enough to hold every row's car.
        lines.append(row_line(f"k{i}", labels, metadata={"index": i, "city": "Lyon"}, height=max(480, rows + 60)))
    app.add_data_rows(dataset.id, numbered(lines), actor="alice")
    model = app.create_model("detector", tools=TOOLS, classifications=CLASSIFICATIONS, actor="bob")
    keys = [f"k{i}" for i in range(rows)]
    splits = {key: ("TRAINING" if i < rows // 2 else "TEST") for i, key in enumerate(keys)}
    run = app.create_model_run(
        model.id, "run 1", dataset.id, actor="carol", splits=SplitSpec(assignments=splits)
    )
    ledger.read_models.wait_until_current()
    return Scenario(dataset.id, model.id, run.id, keys)


def predict(ledger: Runtime, run_id: UUID, lines: list[dict[str, Any]], actor: str = "dave") -> int:
    """Upload prediction lines; the read models have caught up on return."""
    _, notification, count = ledger.app.upload_predictions(run_id, numbered(lines), actor=actor)
    ledger.read_models.wait(notification)
    return count


def all_run_rows(ledger: Runtime, run_id: UUID, version: int | None = None) -> dict[str, Any]:
    """Every row of the run as of the version, by global key (reads all pages)."""
    rows: dict[str, Any] = {}
    after = None
    while True:
        page = ledger.read_models.run_rows(run_id, version=version, first=2, after=after)
        rows.update((r.global_key, r) for r in page.items)
        if not page.has_next_page:
            return rows
        after = page.end_cursor
