"""The metrics queries over a selection of rows: splits, ids, filters on metrics, custom
metrics, distributions, histograms, comparisons; and the out-of-sync refusal."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from application import SplitSpec
from domain.errors import ValidationFailed
from domain.filter_language import (
    AnnotationClause,
    ConfusionClause,
    DataRowsClause,
    MetricClause,
    PredictionClause,
    SplitClause,
)
from projections.metrics import cells as cells_module
from projections.metrics import results as results_module
from projections.metrics.compare import compare_runs
from projections.metrics.distributions import distribution, histogram
from projections.metrics.queries import MetricsOutOfSync
from tests.projections.builders import box, numbered, predict, scenario
from tests.workers.stack import Stack


def _lines(keys: list[str], good: set[int]) -> list[dict[str, Any]]:
    """A car per row: on its label for rows in `good`, far off otherwise."""
    lines = []
    for i, key in enumerate(keys):
        top = i if i in good else i + 200
        lines.append({"dataRow": {"globalKey": key}, "name": "car", "bbox": box(top=top), "confidence": 0.8})
    return lines


@pytest.fixture
def run(stack: Stack) -> Any:
    s = scenario(stack.runtime, rows=8)  # k0..k3 TRAINING, k4..k7 TEST
    stack.start_work()
    predict(stack.runtime, s.run_id, _lines(s.keys, good={0, 1, 2, 4}))
    stack.wait_for_status(s.run_id, "IN_SYNC")
    return s


def test_a_split_and_a_list_of_rows_select_their_rows(stack: Stack, run: Any) -> None:
    q = stack.metrics_read_models.metrics
    whole = q.metrics(run.run_id, 0.5, 0.5)
    car = lambda m: next(f for f in m.features if f.feature == "car")  # noqa: E731
    assert (car(whole).tp, car(whole).fp, car(whole).fn) == (4, 4, 4)
    training = q.metrics(run.run_id, 0.5, 0.5, [SplitClause(("TRAINING",))])
    assert training.data_rows == 4 and car(training).tp == 3
    listed = q.metrics(run.run_id, 0.5, 0.5, [DataRowsClause(global_keys=("k4", "k5"))])
    assert listed.data_rows == 2 and car(listed).tp == 1 and car(listed).fn == 1
    both = q.metrics(run.run_id, 0.5, 0.5, [SplitClause(("TEST",)), DataRowsClause(global_keys=("k0", "k4"))])
    assert both.data_rows == 1
    # The weather answer: labels on even rows, never predicted: FN there, TN on odd rows.
    sunny = next(f for f in whole.features if f.feature == "weather/sunny")
    assert (sunny.fn, sunny.tn, sunny.recall) == (4, 4, 0.0)


def test_off_the_grid_values_are_refused_by_name(stack: Stack, run: Any) -> None:
    q = stack.metrics_read_models.metrics
    with pytest.raises(ValidationFailed, match="confidence 0.55"):
        q.metrics(run.run_id, 0.55, 0.5)
    with pytest.raises(ValidationFailed, match="iou 0.33"):
        q.confusion(run.run_id, 0.5, 0.33)


def test_metric_filters_and_confusion_cells_select_rows(stack: Stack, run: Any) -> None:
    q = stack.metrics_read_models.metrics
    perfect = q.metrics(run.run_id, 0.5, 0.5, [MetricClause("precision", min=1.0)])
    assert perfect.data_rows == 4
    matrix = q.confusion(run.run_id, 0.5, 0.5)
    cells = {(c.ground_truth, c.prediction): c for c in matrix.cells}
    assert cells[("car", "car")].count == 4 and cells[("car", "car")].data_rows == 4
    assert cells[("car", None)].data_rows == 4 and cells[(None, "car")].count == 4
    # The matrices hold the cells' figures, zero elsewhere; labels index both.
    at = {label: i for i, label in enumerate(matrix.labels)}
    for i, gt in enumerate(matrix.labels):
        for j, pred in enumerate(matrix.labels):
            cell = cells.get((gt, pred))
            assert (matrix.counts[i][j], matrix.data_rows[i][j]) == ((cell.count, cell.data_rows) if cell else (0, 0))
    assert matrix.data_rows[at["car"]][at[None]] == 4
    for clauses in ([SplitClause(("TRAINING",))], [PredictionClause(("car",))]):  # split figures and the general path
        some = q.confusion(run.run_id, 0.5, 0.5, clauses)
        assert some.cells
        for c in some.cells:
            i, j = some.labels.index(c.ground_truth), some.labels.index(c.prediction)
            assert (some.counts[i][j], some.data_rows[i][j]) == (c.count, c.data_rows)
        assert sum(map(sum, some.data_rows)) == sum(c.data_rows for c in some.cells)
    page = q.rows(run.run_id, [ConfusionClause("car", None)], 0.5, 0.5)
    assert sorted(r.global_key for r in page.items) == ["k3", "k5", "k6", "k7"]
    assert q.metrics(run.run_id, 0.5, 0.5, [AnnotationClause(("weather/sunny",))]).data_rows == 4
    assert q.metrics(run.run_id, 0.5, 0.5, [AnnotationClause(("weather/sunny",), present=False)]).data_rows == 4
    assert q.metrics(run.run_id, 0.5, 0.5, [PredictionClause(("person",))]).data_rows == 0


def test_distributions_and_histograms(stack: Stack, run: Any) -> None:
    q = stack.metrics_read_models.metrics
    annotations = distribution(q, run.run_id, "ann")
    assert [(b.feature, b.objects, b.data_rows) for b in annotations.items] == [("car", 8, 8), ("weather/sunny", 4, 4)]
    first = distribution(q, run.run_id, "ann", first=1)
    assert first.has_next_page and first.total_count == 2
    rest = distribution(q, run.run_id, "ann", first=1, after=first.end_cursor)
    assert [b.feature for b in rest.items] == ["weather/sunny"]
    assert [b.objects for b in distribution(q, run.run_id, "pred", confidence=0.9).items] == []
    precision = histogram(q, run.run_id, "precision", 0.5, 0.5, feature="car")
    assert [b.data_rows for b in precision.bins] == [4, 0, 0, 0, 0, 0, 0, 0, 0, 4]
    assert precision.nulls == 0
    recall = histogram(q, run.run_id, "recall", 0.5, 0.5)
    # Rows with a sunny label have recall 1/2 or 0 (car found or not); odd rows 1 or 0.
    assert sum(b.data_rows for b in recall.bins) + recall.nulls == 8


def test_custom_metrics_aggregate_as_declared(stack: Stack, run: Any) -> None:
    lines = [
        {"dataRow": {"globalKey": f"k{i}"}, "metricName": "blur", "metricValue": float(i + 1), "aggregation": "SUM"}
        for i in range(8)
    ] + [
        {"dataRow": {"globalKey": f"k{i}"}, "metricName": "score", "featureName": "car",
         "metricValue": {"0.0": 0.25, "0.7": 0.5}, "aggregation": "GEOMETRIC_MEAN"}
        for i in range(4)
    ]  # fmt: skip
    stack.app.upload_custom_metrics(run.run_id, numbered(lines), actor="gina")
    stack.wait_until_current()
    q = stack.metrics_read_models.metrics
    report = q.metrics(run.run_id, 0.5, 0.5)
    blur = next(c for c in report.custom if c.name == "blur")
    assert (blur.value, blur.count, blur.aggregation, blur.feature) == (36.0, 8, "SUM", None)
    score = next(c for c in report.custom if c.name == "score")
    assert score.feature == "car" and score.value == pytest.approx(0.25) and score.count == 4
    car = next(f for f in report.features if f.feature == "car")
    assert [c.name for c in car.custom] == ["score"]
    at_high = q.metrics(run.run_id, 0.9, 0.5)
    assert next(c for c in at_high.custom if c.name == "score").value == pytest.approx(0.5)
    assert q.metrics(run.run_id, 0.5, 0.5, [MetricClause("blur", min=7)]).data_rows == 2
    assert histogram(q, run.run_id, "blur", 0.5, 0.5).outside == 7


def test_filters_on_metrics_are_refused_while_computing(stack: Stack, run: Any) -> None:
    stack.stop_work()
    predict(stack.runtime, run.run_id, _lines(run.keys, good=set(range(8))))
    stack.wait_until_current()
    q = stack.metrics_read_models.metrics
    with pytest.raises(MetricsOutOfSync, match="out of sync: 8 data rows pending"):
        q.metrics(run.run_id, 0.5, 0.5, [MetricClause("f1", min=0.5)])
    # Without a filter on metrics, the figures of the rows computed so far still answer.
    assert q.metrics(run.run_id, 0.5, 0.5, [SplitClause(("TEST",))]).data_rows == 4


def test_two_runs_compare_on_their_common_rows(stack: Stack, run: Any) -> None:
    app = stack.app
    splits = {f"k{i}": "TRAINING" for i in range(8)}
    second = app.create_model_run(run.model_id, "run 2", run.dataset_id, actor="carol", splits=SplitSpec(assignments=splits))
    stack.wait_until_current()
    predict(stack.runtime, second.id, _lines(run.keys[:6], good={0, 1, 3, 5}))
    stack.wait_for_status(second.id, "IN_SYNC")
    q = stack.metrics_read_models.metrics
    found = compare_runs(q, run.run_id, second.id, 0.5, 0.5, metric="f1", feature="car")
    assert found.common_data_rows == 6
    assert found.a.data_rows == found.b.data_rows == 6
    # A is right on k0 k1 k2 k4, B on k0 k1 k3 k5: B is worse on k2 and k4.
    assert sorted(w.row.global_key for w in found.worse.page().items) == ["k2", "k4"]
    assert all(w.by == 1.0 for w in found.worse.page().items)
    fewer = compare_runs(q, run.run_id, second.id, 0.5, 0.5, metric="fn", feature="car")
    assert sorted(w.row.global_key for w in fewer.worse.page().items) == ["k2", "k4"]
    assert np.isclose(found.a.all.recall or 0, 4 / 6 * 6 / 9) or found.a.all.recall is not None
    # B evaluates two more rows: the rows in common, kept with A's results, follow.
    predict(stack.runtime, second.id, _lines(run.keys[6:], good={0, 1}))
    stack.wait_for_status(second.id, "IN_SYNC")
    again = compare_runs(q, run.run_id, second.id, 0.5, 0.5, metric="f1", feature="car")
    assert again.common_data_rows == again.a.data_rows == again.b.data_rows == 8


def test_cells_found_with_flags_or_by_sorting_are_the_same(stack: Stack, run: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Past DENSE_CELLS possible cells the keys are sorted instead: the same cells and places."""
    table = stack.metrics_read_models.metrics.loaded(run.run_id).results.table
    flagged = results_module.RunResults(table)
    monkeypatch.setattr(cells_module, "DENSE_CELLS", 0)
    sorted_ = results_module.RunResults(table)
    assert flagged.cell_row.size > 0
    for name in ("cell_row", "cell_feature", "ann_cell", "pred_cell", "pair_cell", "pair_pred_cell", "cell_ann"):
        assert np.array_equal(getattr(flagged, name), getattr(sorted_, name)), name
    (mine, *mine_rest), (theirs, *theirs_rest) = flagged.feature_counts(0, 0.5), sorted_.feature_counts(0, 0.5)
    pairs = [(getattr(mine, f), getattr(theirs, f)) for f in ("tp", "fp", "fn", "tn", "iou_sum")]
    for a, b in [*pairs, *zip(mine_rest, theirs_rest, strict=True)]:
        assert np.array_equal(a, b, equal_nan=True)


def test_rows_with_a_cell_in_a_mask_are_those_the_cells_name(stack: Stack, run: Any) -> None:
    results = stack.metrics_read_models.metrics.loaded(run.run_id).results
    rng = np.random.default_rng(2)
    for share in (0.0, 0.3, 1.0):
        cell_mask = rng.random(results.cell_row.size) < share
        expected = np.zeros(results.n_rows, dtype=bool)
        expected[results.cell_row[cell_mask]] = True
        assert np.array_equal(results.rows_with(cell_mask), expected)
    assert results.rows_with(np.ones(results.cell_row.size, dtype=bool)).sum() == len(set(results.cell_row.tolist())) > 0


def test_per_row_metrics_are_sums_over_the_rows_top_level_cells(stack: Stack, run: Any) -> None:
    """Each row's TP, FP, FN (and TN, IoU) from its cells one by one, nested answers left out."""
    results = stack.metrics_read_models.metrics.loaded(run.run_id).results
    for c_index, t in ((0, 0.5), (5, 0.3)):
        cells, present = results.cell_counts(c_index, t)
        m = results.row_metrics(c_index, t)
        for r in range(results.n_rows):
            mine = [i for i in np.flatnonzero(results.cell_row == r) if not results.cell_nested[i]]
            assert (m.tp[r], m.fp[r], m.fn[r]) == tuple(int(sum(v[i] for i in mine)) for v in (cells.tp, cells.fp, cells.fn))
            assert m.tn[r] == int((~results.nested).sum()) - sum(1 for i in mine if present[i])
            ious = [cells.iou_sum[i] / (cells.tp[i] + cells.fp[i] + cells.fn[i]) for i in mine if present[i] and cells.tp[i] + cells.fp[i] + cells.fn[i]]
            assert (np.isnan(m.iou[r]) and not ious) or m.iou[r] == pytest.approx(np.mean(ious))
        assert m.tp.sum() > 0
