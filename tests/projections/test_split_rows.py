"""A row with more objects than one upload chunk holds is split over chunks, then joined."""

from __future__ import annotations

from runtime import Runtime
from tests.projections.builders import all_run_rows, box, numbered, predict, row_line

MANY = 7_000  # boxes: more than two chunks' worth for one data row


def test_a_row_split_over_chunks_is_whole_in_the_read_models(ledger: Runtime) -> None:
    app = ledger.app
    dataset = app.create_dataset("crowded", actor="alice")
    labels = [{"name": "person", "bbox": box(top=i % 400)} for i in range(MANY)]
    app.add_data_rows(dataset.id, numbered([row_line("crowd", labels), row_line("empty")]), actor="alice")
    model = app.create_model("people", tools=[{"name": "person", "tool": "BBOX"}], classifications=[], actor="bob")
    run = app.create_model_run(model.id, "run", dataset.id, actor="carol")
    ledger.read_models.wait_until_current()

    rows = {r.global_key: r for r in ledger.read_models.data_rows(dataset.id).items}
    assert len(rows["crowd"].labels) == MANY and rows["empty"].labels == []
    assert len(all_run_rows(ledger, run.id)["crowd"].labels) == MANY

    lines = [{"dataRow": {"globalKey": "crowd"}, "name": "person", "bbox": box(left=i % 500)} for i in range(MANY)]
    for _ in range(2):  # the second upload replaces the first, it does not add to it
        predict(ledger, run.id, lines)
        crowd = all_run_rows(ledger, run.id)["crowd"]
        assert crowd.covered and len(crowd.predictions) == MANY
        assert crowd.predictions[-1]["bbox"]["left"] == (MANY - 1) % 500
    with ledger.database.connect() as conn:
        counts = conn.execute(
            "SELECT valid_from, prediction_count FROM run_predictions WHERE run_id = %s ORDER BY valid_from",
            (run.id,),
        ).fetchall()
    assert counts == [(2, MANY), (3, MANY)]
