"""A prediction upload records and rejects the same whether its box lines take the columnar
path or, forced here, the general one (every line parsed into objects)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import orjson
import pytest

from application.upload_lines import decode_lines
from domain.annotations.box_columns import BoxLines
from domain.errors import ValidationFailed
from domain.model_runs import ModelRun
from domain.uploads import Upload
from runtime import Runtime
from tests.projections.builders import all_run_rows, box, numbered, scenario


def recorded(ledger: Runtime, run_id: UUID, lines: Any) -> dict[str, Any]:
    """The upload's event and chunk payloads; the read models have caught up on return."""
    _, notification, _ = ledger.app.upload_predictions(run_id, lines, actor="dave")
    ledger.read_models.wait(notification)
    events = ledger.app.repository.event_store.get(run_id)
    uploaded = [e for e in events if isinstance(e, ModelRun.PredictionsUploaded)][-1]
    chunks = [
        e.payload
        for e in ledger.app.repository.event_store.get(uploaded.upload_id)
        if isinstance(e, Upload.ChunkAdded)
    ]
    return {"rows": uploaded.rows, "predictions": uploaded.predictions, "chunks": chunks}


def rejected(ledger: Runtime, run_id: UUID, lines: Any) -> tuple[str, list[Any]]:
    with pytest.raises(ValidationFailed) as caught:
        ledger.app.upload_predictions(run_id, lines, actor="dave")
    return caught.value.message, caught.value.errors


def general_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(BoxLines, "take", lambda self, obj, line_no: False)


def car(key: str, **changes: Any) -> dict[str, Any]:
    return {"dataRow": {"globalKey": key}, "name": "car", "bbox": box(), "confidence": 0.5, **changes}


def test_box_and_mixed_uploads_record_the_same_chunks(
    ledger: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = scenario(ledger, rows=4)
    row_id = ledger.app.rows.run_rows(s.run_id, global_keys=["k2"])["k2"].id
    boxes = [
        car("k1"),
        {"dataRow": {"id": row_id}, "name": "person", "bbox": box(top=1.5), "confidence": 1},
        {"dataRow": {"globalKey": "k3"}},
        car("k1", bbox={"top": 0, "left": 1, "height": 2.5, "width": 3}),
        {"dataRow": {"globalKey": "k2"}, "name": "car", "bbox": box(left=7)},
        car("k0", confidence=0.0),
    ]
    mixed = [
        *boxes[:3],
        {"dataRow": {"globalKey": "k1"}, "name": "road", "polygon": [{"x": 0, "y": 0}, {"x": 5, "y": 0}, {"x": 0, "y": 5}]},
        *boxes[3:],
        {"dataRow": {"globalKey": "k0"}, "name": "weather", "answer": {"name": "sunny"}},
    ]
    fast = [recorded(ledger, s.run_id, numbered(lines)) for lines in (boxes, mixed)]
    rows = all_run_rows(ledger, s.run_id)
    with monkeypatch.context() as patch:
        general_only(patch)
        slow = [recorded(ledger, s.run_id, numbered(lines)) for lines in (boxes, mixed)]
    assert fast == slow
    assert [(f["rows"], f["predictions"]) for f in fast] == [(4, 5), (4, 7)]
    assert rows["k1"].predictions[1] == {"name": "road", "polygon": [{"x": 0, "y": 0}, {"x": 5, "y": 0}, {"x": 0, "y": 5}]}
    assert rows["k3"].covered and rows["k3"].predictions == []


BAD = [
    car("k0"),
    car("k0", confidence=float("nan")),
    car("k0", confidence=1.5),
    car("k1", bbox=box(width=0)),
    car("k1", bbox={"top": float("inf"), "left": 1, "height": 2, "width": 2}),
    car("k1", bbox={"top": True, "left": 1, "height": 2, "width": 2}),
    car("k1", bbox={"top": 1, "left": 1, "height": 2}),
    car("k2", name="truck"),
    car("k2", name="road"),
    car("k2", name="weather"),
    car("nope"),
    car("nope", name="truck"),
    {"dataRow": {"id": "no-such-id"}, "name": "person", "bbox": box()},
    {"dataRow": {"globalKey": "k3"}, "name": "car", "point": {"x": 1, "y": 2}},
    {"dataRow": {"globalKey": "k3"}, "name": "car"},
    {"dataRow": {"globalKey": "k3"}, "schemaId": "unknown-id", "bbox": box()},
    car("k3"),
]


def test_bad_lines_are_rejected_with_the_same_errors(
    ledger: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = scenario(ledger, rows=4)
    fast = rejected(ledger, s.run_id, numbered(BAD))
    with monkeypatch.context() as patch:
        general_only(patch)
        slow = rejected(ledger, s.run_id, numbered(BAD))
    assert fast == slow
    assert [e.line for e in fast[1]] == list(range(2, 17))
    assert fast[0].startswith("prediction upload rejected: 15 invalid line(s); first: line 2:")
    assert ledger.app.repository.get(s.run_id).version == 1


def test_the_error_bound_stops_reading_at_the_same_line(
    ledger: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = scenario(ledger, rows=2)
    # 150 bad lines among good ones, then a line that is not JSON: reading stops at the
    # 100th error, before it.
    body = [orjson.dumps(car("k0", confidence=2 if i % 3 else 0.5)) for i in range(225)]
    body.append(b'{"dataRow": ')
    fast = rejected(ledger, s.run_id, decode_lines(body))
    with monkeypatch.context() as patch:
        general_only(patch)
        slow = rejected(ledger, s.run_id, decode_lines(body))
    assert fast == slow
    assert len(fast[1]) == 100
