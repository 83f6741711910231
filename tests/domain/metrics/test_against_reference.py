"""The engine against the literal reference on random rows of every kind, nested
classifications included (§8), at every grid point, and the invariants of docs/metrics.md §3."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.annotations.objects import Annotation, Answer, Box, Mask, Polygon, TextAnswer
from domain.metrics import MatchResult, build_objects, grid, match
from domain.metrics.iou import candidate_pairs
from domain.metrics.objects import KIND_NAMES, EvaluationObjects
from domain.ontology import Ontology
from tests.domain.metrics.random_rows import (
    FEATURES,
    MATCHED_FEATURES,
    checklists,
    matched_features,
    random_ontology,
    random_rows,
)
from tests.domain.metrics.reference import PointResult, Reference, feature_ratios, row_ious

CONFIDENCES = (0.0, 0.2, 0.5, 0.7, 1.0)
IOUS = (0.0, 0.2, 0.25, 1 / 3, 0.5, 0.75, 1.0)
RADIUS = 30.0
ONTOLOGY = random_ontology()
ALL_FEATURES = matched_features(ONTOLOGY)  # top-level and nested


def _dense(point: PointResult, n_rows: int, features: tuple[str, ...]) -> dict[str, np.ndarray]:
    index = {f: k for k, f in enumerate(features)}
    out = {}
    for name in ("tp", "fp", "fn", "tn", "iou_sum"):
        array = np.zeros((n_rows, len(features)))
        for (r, f), value in getattr(point, name).items():
            array[r, index[f]] = value
        out[name] = array
    return out


def _engine_dense(result: MatchResult, ci: int, t: float) -> dict[str, np.ndarray]:
    shape = (result.n_rows, len(result.features))
    cells = result.cell_counts(ci, t)
    out = {name: np.zeros(shape) for name in ("tp", "fp", "fn", "iou_sum")}
    for name in out:
        out[name][cells.row, cells.feature] = getattr(cells.counts, name)
    # Every cell not present at c is a TN, and only those.
    out["tn"] = np.ones(shape)
    out["tn"][cells.row, cells.feature] = 0
    return out


def _upload_ranks(rows: list[list[Annotation]]) -> list[list[int]]:
    """Reference upload index -> engine rank in its row (text answers and crowd regions are
    kept apart)."""
    ranks = []
    for objects in rows:
        rank, mapping = 0, []
        for a in objects:
            mapping.append(rank)
            rank += not isinstance(a.geometry, TextAnswer) and not a.iscrowd
        ranks.append(mapping)
    return ranks


def _compare(
    gt: list[list[Annotation]],
    pred: list[list[Annotation]],
    features: tuple[str, ...],
    confidences: tuple[float, ...] = CONFIDENCES,
    ious: tuple[float, ...] = IOUS,
    radius: float = RADIUS,
    ontology: Ontology | None = None,
    checklist_questions: tuple[str, ...] | None = None,
) -> None:
    """`checklist_questions` (for the reference) defaults to the ontology's checklists."""
    objects = build_objects(gt, pred, features, ontology=ontology)
    result = match(objects, confidences, radius)
    if checklist_questions is None:
        checklist_questions = checklists(ontology) if ontology is not None else ()
    reference = Reference(gt, pred, features, radius, checklists=checklist_questions)
    table = grid(result, ious, per_row=True)
    n_rows = len(gt)
    gt_rank, pred_rank = _upload_ranks(gt), _upload_ranks(pred)
    labels = (*features, None)
    # Nested answers (§8): the ontology's, or (without one) those the objects carry nested.
    nested = {
        x.feature
        for rows in (gt, pred)
        for objects_of_row in rows
        for a in objects_of_row
        for x in _descendants(a)
    }
    if ontology is not None:
        nested |= {f for q in ontology.questions if q.parent is not None for f in q.answers}
    is_nested = np.array([f in nested for f in features], dtype=bool)
    np.testing.assert_array_equal(result.nested, is_nested)
    top = ~is_nested
    for ci, c in enumerate(confidences):
        for ti, t in enumerate(ious):
            expected = reference.at(c, t)
            where = f"at c={c}, t={t}"
            want = _dense(expected, n_rows, features)
            got = _engine_dense(result, ci, t)
            for name in ("tp", "fp", "fn", "tn"):
                np.testing.assert_array_equal(got[name], want[name], err_msg=f"{name} {where}")
            np.testing.assert_allclose(
                got["iou_sum"][:, top], want["iou_sum"][:, top], rtol=1e-12, err_msg=where
            )
            # A nested answer has no geometry: ΣIoU undefined (NaN) wherever it has a cell.
            assert not np.nan_to_num(got["iou_sum"][:, is_nested]).any()

            # The very pairs, by data row and upload positions.
            taken = result.taken_at(ci, t)
            engine_pairs = {
                (
                    int(r),
                    int(a - objects.ground_truth.offsets[r]),
                    int(p - objects.predictions.offsets[r]),
                )
                for r, a, p in zip(
                    result.taken.row[taken],
                    result.taken.ann[taken],
                    result.taken.pred[taken],
                    strict=True,
                )
            }
            reference_pairs = {(r, gt_rank[r][i], pred_rank[r][j]) for r, i, j in expected.taken}
            assert engine_pairs == reference_pairs, where

            # Feature level, from the grid tables and from the per-point call.
            counts = result.feature_counts(ci, t)
            for name in ("tp", "fp", "fn", "tn"):
                np.testing.assert_array_equal(getattr(counts, name), want[name].sum(axis=0))
                np.testing.assert_array_equal(
                    getattr(table.per_feature, name)[ci, ti], want[name].sum(axis=0)
                )
            sums = {name: want[name].sum(axis=0) for name in want}
            for k, f in enumerate(features):
                ratios = feature_ratios(
                    *(int(sums[n][k]) for n in ("tp", "fp", "fn")), sums["iou_sum"][k]
                )
                if is_nested[k]:
                    ratios = (*ratios[:3], None)  # §8: a nested answer's IoU is null
                for name, value in zip(("precision", "recall", "f1", "iou"), ratios, strict=True):
                    expected_value = np.nan if value is None else value
                    got_value = getattr(table.per_feature, name)[ci, ti, k]
                    np.testing.assert_allclose(
                        got_value,
                        expected_value,
                        rtol=1e-12,
                        equal_nan=True,
                        err_msg=f"{name} {f} {where}",
                    )

            # `all` is over top-level features only (§8).
            report = result.feature_metrics(ci, t)
            all_counts = (report.all.tp, report.all.fp, report.all.fn, report.all.tn)
            assert all_counts == tuple(int(sums[n][top].sum()) for n in ("tp", "fp", "fn", "tn"))

            # §9: ignored predictions and crowd regions, per feature, apart from the others.
            ignored = np.zeros(len(features), np.int64)
            for (_, f), value in expected.ignored.items():
                ignored[features.index(f)] += value
            np.testing.assert_array_equal(result.ignored_counts(ci, t), ignored, err_msg=where)
            crowds = np.zeros(len(features), np.int64)
            for objects_of_row in gt:
                for a in objects_of_row:
                    if a.iscrowd:
                        crowds[features.index(a.feature)] += 1
            np.testing.assert_array_equal(result.crowd_counts(), crowds)

            # Free text, top-level and nested, is only counted.
            text_annotations, text_predictions = result.text_counts(ci)
            for k, f in enumerate(result.text_features):
                assert text_annotations[k] == expected.text_annotations[f], where
                assert text_predictions[k] == expected.text_predictions[f], where
            assert sum(expected.text_annotations.values()) == text_annotations.sum()
            assert sum(expected.text_predictions.values()) == text_predictions.sum()

            # Confusion, including the None row and column.
            matrix = result.confusion(ci, t)
            want_matrix = np.array([[expected.confusion[g, f] for f in labels] for g in labels])
            np.testing.assert_array_equal(matrix, want_matrix, err_msg=where)
            np.testing.assert_array_equal(table.confusion[ci, ti], want_matrix)

            # Data-row level: sums over the row's top-level features, like `all`.
            rows = result.row_metrics(ci, t)
            for name in ("tp", "fp", "fn", "tn"):
                row_sums = want[name][:, top].sum(axis=1)
                np.testing.assert_array_equal(getattr(rows, name), row_sums)
                np.testing.assert_array_equal(getattr(table.per_row, name)[ci, ti], row_sums)
            expected_iou = row_ious(*(want[name][:, top] for name in ("tp", "fp", "fn", "iou_sum")))
            np.testing.assert_allclose(
                rows.iou, expected_iou, rtol=1e-12, equal_nan=True, err_msg=where
            )
            np.testing.assert_allclose(
                table.per_row.iou[ci, ti], expected_iou, rtol=1e-12, equal_nan=True
            )


def _descendants(a: Annotation) -> list[Annotation]:
    return [d for x in a.classifications for d in (x, *_descendants(x))]


@pytest.mark.parametrize("kind", list(FEATURES))
def test_each_kind_alone_matches_the_reference(kind: str) -> None:
    gt, pred = random_rows(seed=len(kind), n_rows=400, kinds=(kind,), nested=True)
    _compare(gt, pred, ALL_FEATURES, ontology=ONTOLOGY)


def test_every_kind_together_matches_the_reference() -> None:
    gt, pred = random_rows(seed=7, n_rows=600, nested=True)
    _compare(gt, pred, ALL_FEATURES, ontology=ONTOLOGY)


@pytest.mark.parametrize("kind", ["box", "polygon", "mask"])
def test_crowd_regions_of_each_kind_match_the_reference(kind: str) -> None:
    # docs/metrics.md §9, with nested classifications on the objects (and on ignored ones).
    gt, pred = random_rows(seed=40 + len(kind), n_rows=300, kinds=(kind,), nested=True, crowd=True)
    assert any(a.iscrowd for row in gt for a in row)
    _compare(gt, pred, ALL_FEATURES, ontology=ONTOLOGY)


def _with_more_rings(rows: list[list[Annotation]], rng: np.random.Generator) -> list[list[Annotation]]:
    """Half the polygons given one or two further rings (COCO's several rings of one object),
    often overlapping the first, sometimes self-intersecting."""

    def ring() -> tuple[tuple[float, float], ...]:
        return tuple((float(x), float(y)) for x, y in rng.integers(0, 9, (int(rng.integers(3, 6)), 2)))

    def more(a: Annotation) -> Annotation:
        if isinstance(a.geometry, Polygon) and rng.random() < 0.5:
            rings = tuple(ring() for _ in range(int(rng.integers(1, 3))))
            return replace(a, geometry=Polygon(a.geometry.points, rings))
        return a

    return [[more(a) for a in row] for row in rows]


@pytest.mark.parametrize("mixed", [False, True])
def test_polygons_of_several_rings_match_the_reference(mixed: bool) -> None:
    # Their region is the union of their rings, as crowd regions too (docs/metrics.md §9); beside
    # a mask of their feature, the rasterised union of their rings.
    gt, pred = random_rows(
        seed=43, n_rows=300, kinds=("polygon",), nested=True, crowd=True, mixed=mixed
    )
    rng = np.random.default_rng(43)
    gt, pred = _with_more_rings(gt, rng), _with_more_rings(pred, rng)
    assert sum(len(a.geometry.more) for row in gt + pred for a in row if isinstance(a.geometry, Polygon)) > 100
    _compare(gt, pred, ALL_FEATURES, ontology=ONTOLOGY)


def test_crowd_regions_among_every_kind_match_the_reference() -> None:
    gt, pred = random_rows(seed=41, n_rows=300, nested=True, crowd=True)
    objects = build_objects(gt, pred, ALL_FEATURES, ontology=ONTOLOGY)
    result = match(objects, CONFIDENCES, RADIUS)
    # The data has what §9 is about: predictions ignored (none at t = 1: a share is <= 1).
    assert result.ignored_counts(0, 0.0).sum() > 0 and result.ignored_counts(0, 0.5).sum() > 0
    assert result.ignored_counts(0, 1.0).sum() == 0
    _compare(gt, pred, ALL_FEATURES, ontology=ONTOLOGY)


def _kind_pairs(objects: EvaluationObjects) -> set[tuple[str, str]]:
    """The (annotation kind, prediction kind) of every candidate pair."""
    pairs = candidate_pairs(objects, RADIUS)
    gt_kind = objects.ground_truth.kind[pairs.ann]
    pred_kind = objects.predictions.kind[pairs.pred]
    return {(KIND_NAMES[a], KIND_NAMES[p]) for a, p in zip(gt_kind, pred_kind, strict=True)}


@pytest.mark.parametrize("seed", [51, 52])
def test_polygon_features_holding_masks_match_the_reference(seed: int) -> None:
    # A POLYGON tool takes masks too: a polygon and a mask of one feature on one row are
    # compared as pixels (the polygon rasterised as pycocotools does), crowd regions too.
    gt, pred = random_rows(
        seed=seed, n_rows=300, kinds=("polygon", "mask"), nested=True, crowd=True, mixed=True
    )
    polygon_features = set(FEATURES["polygon"])
    assert any(
        a.iscrowd and isinstance(a.geometry, Mask) and a.feature in polygon_features
        for row in gt
        for a in row
    )
    objects = build_objects(gt, pred, ALL_FEATURES, ontology=ONTOLOGY)
    assert {("polygon", "mask"), ("mask", "polygon")} <= _kind_pairs(objects)
    _compare(gt, pred, ALL_FEATURES, ontology=ONTOLOGY)


def test_polygon_features_holding_masks_among_every_kind_match_the_reference() -> None:
    gt, pred = random_rows(seed=53, n_rows=300, nested=True, crowd=True, mixed=True)
    _compare(gt, pred, ALL_FEATURES, ontology=ONTOLOGY)


def test_without_nested_classifications_nothing_changes() -> None:
    gt, pred = random_rows(seed=7, n_rows=150)
    _compare(gt, pred, MATCHED_FEATURES)


def test_without_an_ontology_nested_answers_are_read_from_the_objects() -> None:
    # Two answers of a checklist on one object are frequent here, so every checklist is
    # recognised; the radios are answered once per object.
    gt, pred = random_rows(seed=17, n_rows=200, kinds=("box", "polygon"), nested=True)
    _compare(gt, pred, ALL_FEATURES, ontology=None, checklist_questions=checklists(ONTOLOGY))


def test_a_radius_of_another_size_matches_the_reference() -> None:
    gt, pred = random_rows(seed=11, n_rows=200, kinds=("point", "polyline"))
    _compare(gt, pred, MATCHED_FEATURES, radius=70.0)


def test_thresholds_in_any_order_and_off_the_grid() -> None:
    gt, pred = random_rows(seed=13, n_rows=200, kinds=("box", "span"))
    _compare(gt, pred, MATCHED_FEATURES, confidences=(0.9, 0.05, 0.5, 0.0), ious=(0.9, 0.1, 0.6))


# Small boxes on a 4-pixel grid: ties everywhere, IoUs of 1/2, 1/3, 1/4 exactly.
_boxes = st.builds(
    Box,
    st.integers(0, 4).map(float),
    st.integers(0, 4).map(float),
    st.integers(1, 3).map(float),
    st.integers(1, 3).map(float),
)
_features = st.sampled_from(("car", "truck"))
_confidence = st.sampled_from((None, 0.0, 0.5, 1.0, 0.25))
_gt_rows = st.lists(
    st.lists(st.builds(Annotation, _features, _boxes), max_size=4), min_size=1, max_size=6
)


@st.composite
def _box_rows(draw: st.DrawFn) -> tuple[list[list[Annotation]], list[list[Annotation]]]:
    gt = draw(_gt_rows)
    prediction = st.builds(Annotation, _features, _boxes, _confidence)
    pred = [draw(st.lists(prediction, max_size=5)) for _ in gt]
    return gt, pred


@st.composite
def _crowd_box_rows(draw: st.DrawFn) -> tuple[list[list[Annotation]], list[list[Annotation]]]:
    """Box rows whose ground truth has crowd regions too (§9)."""
    gt, pred = draw(_box_rows())
    crowd = st.builds(Annotation, _features, _boxes, st.none(), st.just(()), st.just(True))
    for row in gt:
        for _ in range(draw(st.integers(0, 2))):
            row.insert(draw(st.integers(0, len(row))), draw(crowd))
    return gt, pred


_colors = st.sampled_from(("red", "blue"))
_parts = st.lists(st.sampled_from(("wheel", "door")), unique=True, max_size=2)


@st.composite
def _nested_box(draw: st.DrawFn, confidence: st.SearchStrategy) -> Annotation:
    """A car or truck box with, maybe, a color (radio) and parts (checklist, cars only)."""
    feature = draw(_features)
    children = []
    if draw(st.booleans()):
        color = draw(_colors)
        answer_confidence = draw(_confidence)  # ignored: the parent's counts
        children.append(
            Annotation(
                f"{feature}/color/{color}", Answer(f"{feature}/color", color), answer_confidence
            )
        )
    if feature == "car":
        children += [Annotation(f"car/parts/{p}", Answer("car/parts", p)) for p in draw(_parts)]
    return Annotation(feature, draw(_boxes), draw(confidence), tuple(children))


@st.composite
def _nested_box_rows(draw: st.DrawFn) -> tuple[list[list[Annotation]], list[list[Annotation]]]:
    gt = draw(st.lists(st.lists(_nested_box(st.none()), max_size=4), min_size=1, max_size=6))
    pred = [draw(st.lists(_nested_box(_confidence), max_size=5)) for _ in gt]
    return gt, pred


_NESTED_BOXES = Ontology.build(
    [
        {
            "name": name,
            "tool": "BBOX",
            "classifications": [
                {"name": "color", "kind": "RADIO", "answers": ["red", "blue"]},
                *(
                    [{"name": "parts", "kind": "CHECKLIST", "answers": ["wheel", "door"]}]
                    if name == "car"
                    else []
                ),
            ],
        }
        for name in ("bus", "car", "truck")
    ],
    id_factory=iter(f"n{i}" for i in range(100)).__next__,
)


@settings(max_examples=40, deadline=None)
@given(_nested_box_rows())
def test_random_box_rows_with_nested_classifications_match_the_reference(
    rows: tuple[list[list[Annotation]], list[list[Annotation]]],
) -> None:
    gt, pred = rows
    _compare(
        gt,
        pred,
        matched_features(_NESTED_BOXES),
        confidences=(0.0, 0.25, 0.5, 1.0),
        ious=(0.0, 0.25, 1 / 3, 0.5, 1.0),
        ontology=_NESTED_BOXES,
    )


@settings(max_examples=150, deadline=None)
@given(_box_rows())
def test_random_box_rows_match_the_reference(
    rows: tuple[list[list[Annotation]], list[list[Annotation]]],
) -> None:
    gt, pred = rows
    _compare(
        gt,
        pred,
        ("bus", "car", "truck"),
        confidences=(0.0, 0.25, 0.5, 1.0),
        ious=(0.0, 0.25, 1 / 3, 0.5, 1.0),
    )


@settings(max_examples=100, deadline=None)
@given(_crowd_box_rows())
def test_random_box_rows_with_crowd_regions_match_the_reference(
    rows: tuple[list[list[Annotation]], list[list[Annotation]]],
) -> None:
    gt, pred = rows
    _compare(
        gt,
        pred,
        ("bus", "car", "truck"),
        confidences=(0.0, 0.25, 0.5, 1.0),
        ious=(0.0, 0.25, 1 / 3, 0.5, 1.0),
    )


@pytest.mark.parametrize("crowd", [False, True])
def test_invariants_at_every_grid_point(crowd: bool) -> None:
    gt, pred = random_rows(seed=3, n_rows=800, crowd=crowd)
    result = match(build_objects(gt, pred, MATCHED_FEATURES), CONFIDENCES, RADIUS)
    n = len(MATCHED_FEATURES)
    checked = 0
    for ci, c in enumerate(CONFIDENCES):
        annotations, all_active = result.object_counts(ci)
        previous_tp = None
        for t in IOUS:
            # §9: ignored predictions leave the active ones they are counted against.
            active = all_active - result.ignored_counts(ci, t)
            counts = result.feature_counts(ci, t)
            np.testing.assert_array_equal(counts.tp + counts.fn, annotations)
            np.testing.assert_array_equal(counts.tp + counts.fp, active)
            matrix = result.confusion(ci, t)
            np.testing.assert_array_equal(matrix[:n].sum(axis=1), annotations)
            np.testing.assert_array_equal(matrix[:, :n].sum(axis=0), active)
            # The None row holds the untaken predictions, the None column the untaken annotations.
            taken = result.taken_at(ci, t)
            np.testing.assert_array_equal(
                matrix[n, :n], active - np.bincount(result.taken.pred_feature[taken], minlength=n)
            )
            assert matrix[n, n] == 0
            if previous_tp is not None:
                assert (counts.tp <= previous_tp).all(), f"TP rose with t at c={c}, t={t}"
            previous_tp = counts.tp
            checked += 1
        # The active predictions are those with confidence >= c, a missing one being 1.
        expected_active = sum(
            1
            for row in pred
            for p in row
            if not isinstance(p.geometry, TextAnswer)
            and (1.0 if p.confidence is None else p.confidence) >= c
        )
        assert all_active.sum() == expected_active
        # Crowd regions are no annotations.
        assert annotations.sum() == sum(
            1
            for row in gt
            for a in row
            if not isinstance(a.geometry, TextAnswer) and not a.iscrowd
        )
    assert checked == len(CONFIDENCES) * len(IOUS)
    # The data has what the invariants are about: cross-feature pairs and TP that falls with t.
    first = result.feature_counts(0, 0.0)
    last = result.feature_counts(0, 0.75)
    assert first.tp.sum() > last.tp.sum() > 0
    assert result.confusion(0, 0.0)[:n, :n].sum() > np.trace(result.confusion(0, 0.0)[:n, :n])


@pytest.mark.parametrize("crowd", [False, True])
def test_a_row_selection_sums_only_its_rows(crowd: bool) -> None:
    gt, pred = random_rows(seed=21, n_rows=300, kinds=("box", "span"), crowd=crowd)
    result = match(build_objects(gt, pred, MATCHED_FEATURES), CONFIDENCES, RADIUS)
    selected = np.arange(300) % 3 == 0
    table = grid(result, IOUS, rows=selected)
    for ci in range(len(CONFIDENCES)):
        for ti, t in enumerate(IOUS):
            cells = _engine_dense(result, ci, t)
            counts = result.feature_counts(ci, t, rows=np.flatnonzero(selected))
            for name in ("tp", "fp", "fn", "tn"):
                expected = cells[name][selected].sum(axis=0)
                np.testing.assert_array_equal(getattr(counts, name), expected)
                np.testing.assert_array_equal(getattr(table.per_feature, name)[ci, ti], expected)
            matrix = result.confusion(ci, t, rows=selected)
            assert matrix.sum() < result.confusion(ci, t).sum()
            np.testing.assert_array_equal(table.confusion[ci, ti], matrix)
            if crowd:
                # §9: ignored predictions of the selected rows only.
                ignored = result.ignored_counts(ci, t, rows=selected)
                per_row = [result.ignored_counts(ci, t, rows=[r]) for r in np.flatnonzero(selected)]
                np.testing.assert_array_equal(ignored, np.sum(per_row, axis=0))
                assert result.crowd_counts(selected).sum() < result.crowd_counts().sum()
