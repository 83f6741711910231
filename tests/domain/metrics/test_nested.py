"""One hand-made case per rule of docs/metrics.md §8: nested classifications.

A nested answer is a feature of its own, evaluated on the objects of its parent feature T
after T's pool has been matched; it is active exactly when its parent object is.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from domain.annotations.objects import Annotation, Answer, Box, TextAnswer
from domain.metrics import MatchResult, build_objects, grid, match
from domain.ontology import Ontology

_ids = itertools.count()
ONTOLOGY = Ontology.build(
    tools=[
        {
            "name": "car",
            "tool": "BBOX",
            "classifications": [
                {
                    "name": "color",
                    "kind": "RADIO",
                    "answers": [
                        {
                            "name": "red",
                            "classifications": [
                                {"name": "shade", "kind": "RADIO", "answers": ["dark", "light"]}
                            ],
                        },
                        "blue",
                    ],
                },
                {"name": "parts", "kind": "CHECKLIST", "answers": ["wheel", "door", "roof"]},
                {"name": "note", "kind": "TEXT"},
            ],
        },
        {
            "name": "truck",
            "tool": "BBOX",
            "classifications": [{"name": "color", "kind": "RADIO", "answers": ["red"]}],
        },
    ],
    classifications=[
        {
            "name": "weather",
            "kind": "RADIO",
            "answers": [
                {
                    "name": "sunny",
                    "classifications": [
                        {"name": "intensity", "kind": "RADIO", "answers": ["high", "low"]}
                    ],
                },
                "rainy",
            ],
        }
    ],
    id_factory=lambda: f"id{next(_ids)}",
)
FEATURES = [f.name for f in ONTOLOGY.features if f.kind != "TEXT"]
TOP_LEVEL = ("car", "truck", "weather/rainy", "weather/sunny")


def nested(feature: str, *children: Annotation, confidence: float | None = None) -> Annotation:
    """A nested answer by its feature name, e.g. "car/color/red"."""
    question, _, answer = feature.rpartition("/")
    return Annotation(feature, Answer(question, answer), confidence, children)


def car(
    left: float = 0.0, confidence: float | None = None, *children: Annotation, feature: str = "car"
) -> Annotation:
    return Annotation(feature, Box(left, 0, 10, 10), confidence, children)


def run(
    gt: list[list[Annotation]],
    pred: list[list[Annotation]],
    confidences: tuple[float, ...] = (0.0,),
    ontology: Ontology | None = ONTOLOGY,
) -> MatchResult:
    features = FEATURES if ontology is not None else None
    return match(build_objects(gt, pred, features, ontology=ontology), confidences)


def counts(
    result: MatchResult, feature: str, c_index: int = 0, t: float = 0.0
) -> tuple[int, int, int, int]:
    k = result.features.index(feature)
    c = result.feature_counts(c_index, t)
    return int(c.tp[k]), int(c.fp[k]), int(c.fn[k]), int(c.tn[k])


def cells(result: MatchResult, c_index: int = 0, t: float = 0.0) -> dict[tuple, int]:
    """The non-zero confusion cells by label."""
    labels = result.confusion_labels
    matrix = result.confusion(c_index, t)
    return {
        (labels[i], labels[j]): int(matrix[i, j]) for i, j in zip(*np.nonzero(matrix), strict=True)
    }


RED, BLUE = "car/color/red", "car/color/blue"
WHEEL, DOOR, ROOF = "car/parts/wheel", "car/parts/door", "car/parts/roof"


def test_nested_answers_are_features_of_their_own() -> None:
    result = run([[car(0, None, nested(RED))]], [[car(0, 0.9, nested(RED))]])
    assert RED in result.features
    assert counts(result, RED) == (1, 0, 0, 0)
    assert cells(result) == {("car", "car"): 1, (RED, RED): 1}
    # The parent's own counts do not change.
    assert counts(result, "car") == (1, 0, 0, 0)
    annotations, predictions = result.object_counts(0)
    k = result.features.index(RED)
    assert (annotations[k], predictions[k]) == (1, 1)


def test_radio_on_a_taken_same_feature_pair() -> None:
    gt = [[car(0, None, nested(RED))], [car(0, None, nested(RED))], [car(0)]]
    pred = [[car(0, 0.9, nested(BLUE))], [car(0, 0.9)], [car(0, 0.9, nested(BLUE))]]
    result = run(gt, pred)
    # Row 0: (red, blue); row 1: (red, None); row 2: (None, blue).
    assert counts(result, RED) == (0, 0, 2, 1)
    assert counts(result, BLUE) == (0, 2, 0, 1)
    assert cells(result) == {("car", "car"): 3, (RED, BLUE): 1, (RED, None): 1, (None, BLUE): 1}
    assert counts(result, "car") == (3, 0, 0, 0)


def test_checklist_on_a_taken_same_feature_pair() -> None:
    gt = [[car(0, None, nested(WHEEL), nested(DOOR))]]
    pred = [[car(0, 0.9, nested(ROOF), nested(WHEEL))]]
    result = run(gt, pred)
    assert counts(result, WHEEL) == (1, 0, 0, 0)
    assert counts(result, DOOR) == (0, 0, 1, 0)
    assert counts(result, ROOF) == (0, 1, 0, 0)
    # No cross cells within a checklist: (a, a) per TP, (a, None) per FN, (None, a) per FP.
    assert cells(result) == {("car", "car"): 1, (WHEEL, WHEEL): 1, (DOOR, None): 1, (None, ROOF): 1}


def test_a_cross_feature_pair_leaves_its_nested_answers_unpaired() -> None:
    gt = [[car(0, None, nested(RED))]]
    pred = [[car(0, 0.9, nested("truck/color/red"), feature="truck")]]
    result = run(gt, pred)
    assert counts(result, "car") == (0, 0, 1, 0)
    assert counts(result, RED) == (0, 0, 1, 0)
    assert counts(result, "truck/color/red") == (0, 1, 0, 0)
    assert cells(result) == {
        ("car", "truck"): 1,
        (RED, None): 1,
        (None, "truck/color/red"): 1,
    }


def test_untaken_objects_count_their_nested_answers() -> None:
    gt = [[car(0, None, nested(RED))]]
    pred = [[car(50, 0.9, nested(RED), nested(WHEEL))]]  # no overlap: both untaken
    result = run(gt, pred)
    assert counts(result, RED) == (0, 1, 1, 0)
    assert counts(result, WHEEL) == (0, 1, 0, 0)
    assert cells(result) == {
        ("car", None): 1,
        (None, "car"): 1,
        (RED, None): 1,
        (None, RED): 1,
        (None, WHEEL): 1,
    }


def test_a_nested_answer_is_active_exactly_when_its_parent_is() -> None:
    # The nested answers' own confidences are ignored: the parent's decides.
    gt = [[], []]
    pred = [
        [car(0, 0.3, nested(RED, confidence=0.9))],
        [car(0, 0.9, nested(BLUE, confidence=0.1))],
    ]
    result = run(gt, pred, confidences=(0.0, 0.5))
    assert counts(result, RED, c_index=0) == (0, 1, 0, 1)
    assert counts(result, RED, c_index=1) == (0, 0, 0, 2)  # inactive: no FP, a TN
    assert counts(result, BLUE, c_index=1) == (0, 1, 0, 1)
    assert cells(result, c_index=1) == {(None, "car"): 1, (None, BLUE): 1}


def test_an_inactive_parent_leaves_the_annotations_nested_answers_fns() -> None:
    gt = [[car(0, None, nested(RED))]]
    pred = [[car(0, 0.3, nested(RED))]]
    result = run(gt, pred, confidences=(0.0, 0.5))
    assert counts(result, RED, c_index=0) == (1, 0, 0, 0)
    assert counts(result, RED, c_index=1) == (0, 0, 1, 0)


def test_true_negatives_of_nested_answers() -> None:
    gt = [[car(0, None, nested(RED))], [car(0)], [], []]
    pred = [[], [car(0, 0.3, nested(RED))], [car(0, 0.9, nested(RED))], []]
    result = run(gt, pred, confidences=(0.0, 0.5))
    # Row 0 has an annotation with red, row 2 an active prediction with red.
    assert counts(result, RED, c_index=0)[3] == 1  # only row 3
    assert counts(result, RED, c_index=1)[3] == 2  # row 1's prediction is inactive
    assert counts(result, BLUE, c_index=0)[3] == 4
    assert counts(result, "car/color/red/shade/dark", c_index=0)[3] == 4


def test_the_iou_cut_of_the_parent_pair_cuts_its_nested_pairs() -> None:
    # IoU 1/3: taken at t = 0.3, not at t = 0.5.
    gt = [[car(0, None, nested(RED))]]
    pred = [[car(5, 0.9, nested(RED))]]
    result = run(gt, pred)
    assert counts(result, RED, t=0.3) == (1, 0, 0, 0)
    assert counts(result, RED, t=0.5) == (0, 1, 1, 0)
    assert cells(result, t=0.5) == {
        ("car", None): 1,
        (None, "car"): 1,
        (RED, None): 1,
        (None, RED): 1,
    }


def test_all_is_over_top_level_features_and_nested_iou_is_null() -> None:
    gt = [[car(0, None, nested(RED), nested(WHEEL))], []]
    pred = [[car(0, 0.9, nested(RED), nested(DOOR))], []]
    result = run(gt, pred)
    report = result.feature_metrics(0, 0.0)
    m = report.per_feature
    k = result.features.index(RED)
    assert (m.tp[k], m.precision[k], m.recall[k]) == (1, 1.0, 1.0)
    for name in (RED, WHEEL, DOOR, BLUE):
        assert math.isnan(m.iou[result.features.index(name)])
    assert m.iou[result.features.index("car")] == 1.0
    # all: car TP 1 (TN 1), truck TN 2, weather/* TN 2 each; nothing of the nested answers.
    assert (report.all.tp, report.all.fp, report.all.fn, report.all.tn) == (1, 0, 0, 7)
    assert report.all.iou == 1.0
    assert report.macro.precision == 1.0 and report.macro.recall == 1.0
    assert report.macro.iou == 1.0
    # The grid gives the same.
    table = grid(result, (0.0,))
    assert math.isnan(table.per_feature.iou[0, 0, k])
    assert table.per_feature.tp[0, 0, k] == 1


def test_data_rows_sum_over_top_level_features() -> None:
    gt = [[car(0, None, nested(RED), nested(WHEEL))]]
    pred = [[car(0, 0.9, nested(BLUE))]]
    rows = run(gt, pred).row_metrics(0, 0.0)
    assert (rows.tp[0], rows.fp[0], rows.fn[0], rows.tn[0]) == (1, 0, 0, 3)
    assert rows.iou[0] == 1.0


def test_pr_curves_of_nested_answers_and_of_all() -> None:
    gt = [[car(0, None, nested(RED))]]
    pred = [[car(0, 0.4, nested(BLUE))]]
    result = run(gt, pred, confidences=(0.0, 0.5))
    curve = result.pr_curve(0.0)
    assert [(p.precision, p.recall) for p in curve] == [(1.0, 1.0), (None, 0.0)]
    red = result.pr_curve(0.0, feature=RED)
    assert [(p.precision, p.recall) for p in red] == [(None, 0.0), (None, 0.0)]
    blue = result.pr_curve(0.0, feature=BLUE)
    assert [(p.precision, p.recall) for p in blue] == [(0.0, None), (None, None)]


def test_nested_under_a_nested_answer() -> None:
    dark, light = "car/color/red/shade/dark", "car/color/red/shade/light"
    gt = [
        [car(0, None, nested(RED, nested(dark)))],
        [car(0, None, nested(RED, nested(dark)))],
        [car(0, None, nested(RED, nested(dark)))],
    ]
    pred = [
        [car(0, 0.9, nested(RED, nested(dark)))],  # red and dark on both
        [car(0, 0.9, nested(RED, nested(light)))],  # red on both, dark against light
        [car(0, 0.9, nested(BLUE))],  # red against blue: the shade is not compared
    ]
    result = run(gt, pred)
    assert counts(result, RED) == (2, 0, 1, 0)
    assert counts(result, dark) == (1, 0, 2, 0)
    assert counts(result, light) == (0, 1, 0, 2)
    got = cells(result)
    assert got[(dark, dark)] == 1 and got[(dark, light)] == 1 and got[(dark, None)] == 1
    assert got[(RED, BLUE)] == 1 and got[(RED, RED)] == 2


def test_nested_under_a_top_level_classification_answer() -> None:
    high, low = "weather/sunny/intensity/high", "weather/sunny/intensity/low"

    def sunny(confidence: float | None, *children: Annotation) -> Annotation:
        return Annotation("weather/sunny", Answer("weather", "sunny"), confidence, children)

    rainy = Annotation("weather/rainy", Answer("weather", "rainy"), 0.9)
    gt = [[sunny(None, nested(high))], [sunny(None, nested(high))], [sunny(None, nested(low))]]
    pred = [[sunny(0.9, nested(high))], [rainy], [sunny(0.9, nested(high))]]
    result = run(gt, pred)
    assert counts(result, "weather/sunny") == (2, 0, 1, 0)
    assert counts(result, high) == (1, 1, 1, 0)
    assert counts(result, low) == (0, 0, 1, 2)
    got = cells(result)
    assert got[(high, high)] == 1 and got[(high, None)] == 1 and got[(low, high)] == 1


def test_free_text_nested_answers_are_counted_with_their_parents_confidence() -> None:
    note = Annotation("car/note", TextAnswer("car/note", "dented"))
    guess = Annotation("car/note", TextAnswer("car/note", "dented"), 0.9)
    gt = [[car(0, None, note)]]
    pred = [[car(0, 0.3, guess)]]
    result = run(gt, pred, confidences=(0.0, 0.5))
    assert result.text_features == ("car/note",)
    assert "car/note" not in result.features
    assert [v.tolist() for v in result.text_counts(0)] == [[1], [1]]
    assert [v.tolist() for v in result.text_counts(1)] == [[1], [0]]


def test_row_selection_applies_to_nested_answers() -> None:
    gt = [[car(0, None, nested(RED))], [car(0, None, nested(RED))]]
    pred = [[car(0, 0.9, nested(RED))], [car(0, 0.9, nested(BLUE))]]
    result = run(gt, pred)
    only = result.feature_counts(0, 0.0, rows=np.array([1]))
    k, b = result.features.index(RED), result.features.index(BLUE)
    assert (only.tp[k], only.fn[k], only.fp[b]) == (0, 1, 1)
    cell = result.cell_counts(0, 0.0)
    of_red = cell.feature == k
    assert cell.row[of_red].tolist() == [0, 1]
    assert cell.counts.tp[of_red].tolist() == [1, 0]


def test_a_repeated_answer_pairs_once_and_the_rest_count_alone() -> None:
    # Not valid input (uploads are validated), but the engine still gives defined numbers:
    # the answers of an object pair in upload order, same answer first.
    gt = [[car(0, None, nested(WHEEL), nested(WHEEL))]]
    pred = [[car(0, 0.9, nested(WHEEL))]]
    result = run(gt, pred)
    assert counts(result, WHEEL) == (1, 0, 1, 0)


def test_without_an_ontology_nested_answers_are_found_in_the_objects() -> None:
    gt = [[car(0, None, nested(RED), nested(WHEEL), nested(DOOR))]]
    pred = [[car(0, 0.9, nested(BLUE), nested(WHEEL))]]
    result = run(gt, pred, ontology=None)
    assert result.features == ("car", BLUE, RED, DOOR, WHEEL)
    assert counts(result, RED) == (0, 0, 1, 0)
    report = result.feature_metrics(0, 0.0)
    assert (report.all.tp, report.all.fn, report.all.tn) == (1, 0, 0)
    # A question is a checklist when an object carries two answers of it; a radio otherwise.
    assert cells(result) == {
        ("car", "car"): 1,
        (RED, BLUE): 1,
        (WHEEL, WHEEL): 1,
        (DOOR, None): 1,
    }


def test_nested_features_known_to_the_evaluation_are_left_out_of_all() -> None:
    result = run([[car(0)]], [[car(0, 0.9)]])
    report = result.feature_metrics(0, 0.0)
    # car TP; truck, weather/rainy, weather/sunny TN: nested answers add no TN to all.
    assert (report.all.tp, report.all.tn) == (1, 3)
    assert counts(result, RED) == (0, 0, 0, 1)
    assert result.row_metrics(0, 0.0).tn.tolist() == [3]


def test_a_feature_used_nested_and_at_the_top_level_is_refused() -> None:
    with pytest.raises(ValueError, match="nested"):
        build_objects([[car(0, None, nested("q/a"))]], [[nested("q/a")]])
    with pytest.raises(ValueError, match="nested"):
        build_objects([[nested(RED)]], [[]], FEATURES, ontology=ONTOLOGY)
