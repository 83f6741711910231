"""Nested classifications (docs/metrics.md §8) on the way from an upload line to the metrics.

The engine evaluates nested answers from the objects the worker reads back: uploaded NDJSON,
encoded in chunk columns, stored as JSON by the model runs read model, decoded again; the
match table carries their pairs and objects to the metric read model.
"""

from __future__ import annotations

import itertools

import numpy as np
import orjson

from domain.annotations.column_decoding import decode_rows
from domain.annotations.columns import encode_rows
from domain.annotations.ndjson.lines import parse_annotation_line
from domain.metrics import build_objects, match
from domain.ontology import Ontology
from domain.ontology_features import TEXT
from projections.annotation_json import annotations_from_json, row_sets
from projections.metrics.match_table import from_match
from projections.metrics.results import RunResults

_ids = itertools.count()
ONTOLOGY = Ontology.build(
    tools=[
        {
            "name": "car",
            "tool": "BBOX",
            "classifications": [
                {"name": "color", "kind": "RADIO", "answers": ["red", "blue"]},
                {"name": "note", "kind": "TEXT"},
            ],
        }
    ],
    id_factory=lambda: f"id{next(_ids)}",
)
FEATURES = [f.name for f in ONTOLOGY.features if f.kind != TEXT]
ROW = "00000000-0000-0000-0000-000000000001"


def _line(color: str, confidence: float | None = None) -> dict:
    line: dict = {
        "dataRow": {"globalKey": "row"},
        "name": "car",
        "bbox": {"top": 0, "left": 0, "height": 10, "width": 10},
        "classifications": [
            {"name": "color", "answer": {"name": color}},
            {"name": "note", "answer": "dented"},
        ],
    }
    if confidence is not None:
        line["confidence"] = confidence
    return line


def _stored(line: dict) -> list:
    """One object as the worker reads it: parsed, chunk-encoded, stored as JSON, read back."""
    _, parsed = parse_annotation_line(line, 1)
    payload = encode_rows([(ROW, parsed)])
    assert decode_rows(payload) == [(ROW, parsed)]
    ((row_id, stored, count),) = row_sets(payload)
    assert (row_id, count) == (ROW, 1)
    objects = annotations_from_json(orjson.loads(stored))
    assert objects == parsed
    return objects


def _result():  # noqa: ANN202 - the engine's MatchResult
    gt = [_stored(_line("red")), _stored(_line("red"))]
    pred = [_stored(_line("red", 0.9)), _stored(_line("blue", 0.9))]
    return match(build_objects(gt, pred, FEATURES, ontology=ONTOLOGY), (0.0,))


def test_nested_answers_survive_the_chunk_codec_and_reach_the_engine() -> None:
    result = _result()
    counts = result.feature_counts(0, 0.0)
    red = result.features.index("car/color/red")
    blue = result.features.index("car/color/blue")
    assert (counts.tp[red], counts.fp[red], counts.fn[red]) == (1, 0, 1)
    assert (counts.tp[blue], counts.fp[blue], counts.fn[blue]) == (0, 1, 0)
    assert [v.tolist() for v in result.text_counts(0)] == [[2], [2]]
    assert result.feature_metrics(0, 0.0).all.tp == 2


def test_the_read_model_gives_a_nested_answers_counts() -> None:
    result = _result()
    table = from_match(result, [ROW, ROW.replace("1", "2")])
    counts, annotations, _ = RunResults(table).feature_counts(0, 0.0)
    red = table.features.index("car/color/red")
    assert annotations[red] == 2
    assert (counts.tp[red], counts.fn[red]) == (1, 1)
    ours = RunResults(table)
    for ci in (0,):
        for t in (0.0, 0.5, 1.0):
            expected = result.feature_counts(ci, t)
            got = ours.feature_counts(ci, t)[0]
            for name in ("tp", "fp", "fn", "tn", "iou_sum"):
                np.testing.assert_array_equal(getattr(got, name), getattr(expected, name))
            np.testing.assert_array_equal(ours.confusion(ci, t), result.confusion(ci, t))
            a, b = ours.feature_report(ci, t), result.feature_metrics(ci, t)
            assert a.all == b.all and a.macro == b.macro
            for name in ("tp", "fp", "fn", "tn"):
                np.testing.assert_array_equal(
                    getattr(ours.row_metrics(ci, t), name), getattr(result.row_metrics(ci, t), name)
                )


def test_the_read_model_gives_the_engines_numbers_on_random_nested_rows() -> None:
    import uuid

    from tests.domain.metrics.random_rows import matched_features, random_ontology, random_rows

    ontology = random_ontology()
    features = matched_features(ontology)
    gt, pred = random_rows(5, 80, nested=True)
    confidences = (0.0, 0.2, 0.5, 0.7, 1.0)
    result = match(build_objects(gt, pred, features, ontology=ontology), confidences, 30.0)
    ids = sorted(str(uuid.uuid4()) for _ in range(80))
    ours = RunResults(from_match(result, ids))
    half = np.arange(80) % 2 == 0
    for ci in range(len(confidences)):
        for t in (0.0, 0.25, 0.5, 1.0):
            for mask in (None, half):
                expected = result.feature_counts(ci, t, mask)
                got = ours.feature_counts(ci, t, mask)[0]
                for name in ("tp", "fp", "fn", "tn", "iou_sum"):
                    np.testing.assert_allclose(
                        getattr(got, name), getattr(expected, name), equal_nan=True
                    )
                np.testing.assert_array_equal(
                    ours.confusion(ci, t, mask), result.confusion(ci, t, mask)
                )
                a, b = ours.feature_report(ci, t, mask), result.feature_metrics(ci, t, mask)
                assert a.all == b.all and a.macro == b.macro
            rows_a, rows_b = ours.row_metrics(ci, t), result.row_metrics(ci, t)
            for name in ("tp", "fp", "fn", "tn", "precision", "recall", "f1", "iou"):
                np.testing.assert_allclose(
                    getattr(rows_a, name), getattr(rows_b, name), equal_nan=True
                )
    for t in (0.0, 0.5):
        for feature in (None, "car/color/red", "weather/sunny/intensity/high"):
            index = None if feature is None else features.index(feature)
            got = [(p.precision, p.recall) for p in ours.pr_curve(t, index)]
            assert got == [(p.precision, p.recall) for p in result.pr_curve(t, feature)]


def test_figures_per_split_agree_on_nested_rows() -> None:
    import uuid

    from projections.metrics.split_figures import SplitFigures
    from tests.domain.metrics.random_rows import matched_features, random_ontology, random_rows

    ontology = random_ontology()
    features = matched_features(ontology)
    gt, pred = random_rows(9, 60, nested=True)
    result = match(build_objects(gt, pred, features, ontology=ontology), (0.0, 0.5), 30.0)
    ours = RunResults(from_match(result, sorted(str(uuid.uuid4()) for _ in range(60))))
    splits = (np.arange(60) % 4).astype(np.uint8)
    figures = SplitFigures(ours, splits, 4)
    for ci in (0, 1):
        for t in (0.0, 0.5):
            got = figures.feature_counts(ci, t, [0, 1])[0]
            want = ours.feature_counts(ci, t, splits < 2)[0]
            for name in ("tp", "fp", "fn", "tn", "iou_sum"):
                np.testing.assert_allclose(getattr(got, name), getattr(want, name), equal_nan=True)
    for feature in (None, features.index("car/color/red")):
        a = figures.pr_curve(0.0, feature, [0, 1])
        b = ours.pr_curve(0.0, feature, splits < 2)
        assert [(p.precision, p.recall) for p in a] == [(p.precision, p.recall) for p in b]
