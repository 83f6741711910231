"""A large prediction upload projects completely (its speed is printed, not asserted)."""

from __future__ import annotations

import random
import time
from typing import Any

from runtime import Runtime
from tests.projections.builders import numbered, row_line

ROWS = 20_000
PER_ROW = 10


def _predictions(rnd: random.Random) -> list[dict[str, Any]]:
    return [
        {
            "dataRow": {"globalKey": f"r{i}"},
            "name": ("car", "person")[j % 2],
            "bbox": {
                "top": rnd.uniform(0, 400), "left": rnd.uniform(0, 500),
                "height": rnd.uniform(1, 80), "width": rnd.uniform(1, 80),
            },
            "confidence": rnd.random(),
        }
        for i in range(ROWS)
        for j in range(PER_ROW)
    ]


def test_200k_box_predictions_over_20k_rows(ledger: Runtime, capsys: Any) -> None:
    app, read_models = ledger.app, ledger.read_models
    dataset = app.create_dataset("bulk", actor="loader")
    app.add_data_rows(dataset.id, numbered([row_line(f"r{i}") for i in range(ROWS)]), actor="loader")
    tools = [{"name": "car", "tool": "BBOX"}, {"name": "person", "tool": "BBOX"}]
    model = app.create_model("bulk model", tools=tools, classifications=[], actor="loader")
    run = app.create_model_run(model.id, "bulk run", dataset.id, actor="loader")
    read_models.wait_until_current(timeout=300)

    lines = _predictions(random.Random(7))
    _, notification, count = app.upload_predictions(run.id, numbered(lines), actor="loader")
    saved = time.perf_counter()
    read_models.wait(notification, timeout=600)
    elapsed = time.perf_counter() - saved
    assert count == ROWS * PER_ROW

    with ledger.database.connect() as conn:
        stored = conn.execute(
            "SELECT count(*), sum(prediction_count) FROM run_predictions"
            " WHERE run_id = %s AND valid_to IS NULL",
            (run.id,),
        ).fetchone()
    assert stored == (ROWS, ROWS * PER_ROW)
    page = read_models.run_rows(run.id, first=1000)
    assert page.total_count == ROWS
    assert all(r.covered and len(r.predictions) == PER_ROW for r in page.items)
    assert page.items[0].predictions[0]["bbox"].keys() == {"top", "left", "height", "width"}
    with capsys.disabled():
        print(f"\n[info] {count:,} predictions projected in {elapsed:.2f} s after the save: {count / elapsed:,.0f} predictions/s")
