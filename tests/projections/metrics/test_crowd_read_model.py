"""Crowd regions (docs/metrics.md §9) in the metrics read model: the match table carries the
crowd regions and the predictions they cover, and every cut gives the engine's numbers."""

from __future__ import annotations

import uuid

import numpy as np
import orjson
import pytest

from domain.annotations.column_decoding import decode_rows
from domain.annotations.columns import encode_rows
from domain.annotations.objects import Annotation, Box, Mask
from domain.metrics import build_objects, match
from projections.annotation_json import annotations_from_json, row_sets
from projections.metrics.assemble import assemble
from projections.metrics.match_table import from_match, from_payload, to_parts, to_payload
from projections.metrics.results import RunResults
from projections.metrics.split_figures import SplitFigures
from tests.domain.metrics.random_rows import matched_features, random_ontology, random_rows

CONFIDENCES = (0.0, 0.2, 0.5, 0.7, 1.0)
IOUS = (0.0, 0.25, 0.5, 0.75, 1.0)


def _same(a: np.ndarray, b: np.ndarray) -> None:
    np.testing.assert_allclose(np.asarray(a, float), np.asarray(b, float), rtol=1e-12, atol=1e-12, equal_nan=True)


def _evaluate(seed: int, n_rows: int, mixed: bool = False):  # noqa: ANN202 - the engine's result, the features, ours
    """`mixed`: the polygon features hold masks too, crowd regions included."""
    ontology = random_ontology()
    features = matched_features(ontology)
    gt, pred = random_rows(seed, n_rows, nested=True, crowd=True, mixed=mixed)
    result = match(build_objects(gt, pred, features, ontology=ontology), CONFIDENCES, 30.0)
    ids = sorted(str(uuid.uuid4()) for _ in range(n_rows))
    return result, features, ids, from_match(result, ids)


def _ignoring(result) -> bool:  # noqa: ANN001 - the engine's MatchResult
    """Whether the scene has ignored predictions at some grid point (else it proves nothing)."""
    return any(result.ignored_counts(ci, t).sum() for ci in range(len(CONFIDENCES)) for t in IOUS)


@pytest.mark.parametrize(("seed", "mixed"), [(3, False), (4, False), (7, True)])
def test_every_cut_gives_the_engines_numbers_with_crowd_regions(seed: int, mixed: bool) -> None:
    result, features, _, table = _evaluate(seed, 80, mixed)
    assert _ignoring(result)
    ours = RunResults(table)
    half = np.arange(80) % 2 == 0
    for ci in range(len(CONFIDENCES)):
        for t in IOUS:
            for mask in (None, half):
                expected = result.feature_counts(ci, t, mask)
                got = ours.feature_counts(ci, t, mask)[0]
                for name in ("tp", "fp", "fn", "tn", "iou_sum"):
                    _same(getattr(got, name), getattr(expected, name))
                _same(ours.confusion(ci, t, mask), result.confusion(ci, t, mask))
                _same(ours.ignored_per_feature(ci, t, mask), result.ignored_counts(ci, t, mask))
            rows_a, rows_b = ours.row_metrics(ci, t), result.row_metrics(ci, t)
            for name in ("tp", "fp", "fn", "tn", "precision", "recall", "f1", "iou"):
                _same(getattr(rows_a, name), getattr(rows_b, name))
    for t in (0.0, 0.5):
        for feature in (None, "car", "car/color/red"):
            index = None if feature is None else features.index(feature)
            got = [(p.precision, p.recall) for p in ours.pr_curve(t, index, half)]
            assert got == [(p.precision, p.recall) for p in result.pr_curve(t, feature, half)]


def test_crowd_regions_are_counted_apart_and_survive_parts() -> None:
    result, _, ids, table = _evaluate(5, 120)
    assert table.group("crowd")["count"].sum() == result.crowd_counts().sum() > 0
    parts = to_parts(table, max_bytes=8_000)
    assert len(parts) > 2
    whole = RunResults(assemble([from_payload(p) for p in parts], ids))
    for ci in range(len(CONFIDENCES)):
        for t in (0.25, 0.5):
            _same(whole.confusion(ci, t), result.confusion(ci, t))
            _same(whole.feature_counts(ci, t)[0].fp, result.feature_counts(ci, t).fp)
    crowd = whole.table.group("crowd")
    per_feature = np.bincount(crowd["feature"], weights=crowd["count"], minlength=len(whole.features))
    _same(per_feature, result.crowd_counts())


def test_figures_per_split_leave_out_the_ignored_predictions() -> None:
    result, _, _, table = _evaluate(6, 90)
    ours = RunResults(table)
    splits = (np.arange(90) % 4).astype(np.uint8)
    figures = SplitFigures(ours, splits, 4)
    n = len(ours.features)
    for chosen in ([0, 1, 2, 3], [1, 2]):
        mask = np.isin(splits, chosen)
        for ci in range(len(CONFIDENCES)):
            for t in (0.0, 0.25, 0.5):
                got = figures.feature_counts(ci, t, chosen)[0]
                want = result.feature_counts(ci, t, mask)
                for name in ("tp", "fp", "fn", "tn", "iou_sum"):
                    _same(getattr(got, name), getattr(want, name))
                keys, counts, rows = figures.confusion(ci, t, chosen)
                dense = np.zeros((n + 1) ** 2, dtype=np.int64)
                dense[keys] = counts
                _same(dense.reshape(n + 1, n + 1), result.confusion(ci, t, mask))
                dense_rows = np.zeros((n + 1) ** 2, dtype=np.int64)
                dense_rows[keys] = rows
                _same(dense_rows.reshape(n + 1, n + 1), ours.confusion_rows(ci, t, mask))
        for feature in (None, 0):
            a = figures.pr_curve(0.25, feature, chosen)
            b = result.pr_curve(0.25, None if feature is None else ours.features[feature], mask)
            assert [(p.precision, p.recall) for p in a] == [(p.precision, p.recall) for p in b]


def _box(feature: str, left: float, width: float, confidence: float | None = None, crowd: bool = False) -> Annotation:
    return Annotation(feature, Box(left, 0, width, 10), confidence, (), crowd, None)


def test_a_prediction_inside_a_crowd_region_is_neither_fp_nor_in_the_none_row() -> None:
    # The crowd region covers the prediction's left 6 of 10 columns: share 0.6.
    gt = [[_box("car", 0, 10), _box("car", 30, 16, crowd=True)]]
    pred = [[_box("car", 0, 10, 0.9), _box("car", 40, 10, 0.8)]]
    result = match(build_objects(gt, pred, ["car"]), (0.0, 0.85))
    ours = RunResults(from_match(result, [str(uuid.uuid4())]))
    counts, annotations, predictions = ours.feature_counts(0, 0.5)
    assert (counts.tp[0], counts.fp[0], counts.fn[0], annotations[0], predictions[0]) == (1, 0, 0, 1, 1)
    assert ours.confusion(0, 0.5)[1, 0] == 0
    # Covered by no more than t: it counts again.
    assert ours.feature_counts(0, 0.6)[0].fp[0] == 1
    assert ours.confusion(0, 0.6)[1, 0] == 1
    # Below the confidence threshold it is no prediction at all.
    assert ours.feature_counts(1, 0.5)[0].fp[0] == 0
    assert ours.table.group("crowd")["count"].tolist() == [1]


def test_a_part_recorded_before_crowd_regions_reads_as_having_none() -> None:
    gt = [[_box("car", 0, 10)]]
    pred = [[_box("car", 0, 10, 0.9)]]
    result = match(build_objects(gt, pred, ["car"]), (0.0,))
    payload = to_payload(from_match(result, [str(uuid.uuid4())]))
    for key in ("pair.pred_id", "crowd.row", "crowd.feature", "crowd.count", *(f"covered.{c}" for c in ("row", "feature", "level", "cover", "pred_id"))):
        del payload[key]
    old = from_payload(payload)
    assert old.group("pair")["pred_id"].tolist() == [-1]
    assert old.group("covered")["row"].size == 0
    assert RunResults(old).feature_counts(0, 0.5)[0].tp.tolist() == [1]


def test_masks_of_polygon_features_survive_the_chunk_codec() -> None:
    # What the worker reads back (chunk columns, stored JSON) is what was uploaded, so the
    # read model evaluates the same mixed scene as the engine above.
    gt, pred = random_rows(8, 40, nested=True, crowd=True, mixed=True)
    rows = [(str(uuid.UUID(int=i)), objects) for i, objects in enumerate(gt + pred)]
    polygon_masks = [
        a for _, objects in rows for a in objects if isinstance(a.geometry, Mask) and a.feature in ("lake", "field")
    ]
    assert any(a.iscrowd for a in polygon_masks) and any(not a.iscrowd for a in polygon_masks)
    payload = encode_rows(rows)
    assert decode_rows(payload) == rows
    assert [(row_id, annotations_from_json(orjson.loads(stored))) for row_id, stored, _ in row_sets(payload)] == [
        (row_id, objects) for row_id, objects in rows if objects
    ]
