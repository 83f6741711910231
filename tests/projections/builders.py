"""Small scenarios driven through the real application's commands."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import pytest

from application import SplitSpec
from domain.datasets import Dataset
from projections.catalog.projection import CatalogProjection
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


def poison_catalog(
    monkeypatch: pytest.MonkeyPatch, dataset_name: str, error: str = "injected fault"
) -> threading.Event:
    """The catalog read model fails on the creation of a dataset of this name (an event it
    cannot apply, as a defect would) while the returned event is set; clearing it, or
    `monkeypatch.undo()`, is the fix. Patched on the class: a restarted runner's new
    projection meets the same fault."""
    active = threading.Event()
    active.set()
    dispatch = CatalogProjection.__dict__["process_event"]

    def process_event(self: CatalogProjection, event: Any, tracking: Any) -> None:
        if active.is_set() and isinstance(event, Dataset.Created) and event.name == dataset_name:
            raise RuntimeError(error)
        dispatch.__get__(self, type(self))(event, tracking)

    monkeypatch.setattr(CatalogProjection, "process_event", process_event)
    return active
