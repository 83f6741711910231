"""IoU per pool (docs/metrics.md §2), checked against independent computations."""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
from pycocotools import mask as mask_api

from domain.annotations.objects import (
    Annotation,
    Answer,
    Box,
    Mask,
    Point,
    Polygon,
    Polyline,
    Span,
)
from domain.metrics import build_objects
from domain.metrics.iou import candidate_pairs


def ious(
    gt: list[Annotation], pred: list[Annotation], radius: float = 70.0
) -> dict[tuple[int, int], float]:
    """IoU of every kept pair of one data row, by upload positions."""
    pairs = candidate_pairs(build_objects([gt], [pred]), radius)
    return {
        (int(a), int(p)): float(v) for a, p, v in zip(pairs.ann, pairs.pred, pairs.iou, strict=True)
    }


def obj(geometry: object, feature: str = "f") -> Annotation:
    return Annotation(feature, geometry)  # type: ignore[arg-type]


def test_boxes_continuous_no_plus_one() -> None:
    a = obj(Box(0.0, 0.0, 10.0, 10.0))
    assert ious([a], [obj(Box(5.0, 0.0, 10.0, 10.0))]) == {(0, 0): 50 / 150}
    assert ious([a], [obj(Box(2.5, 2.5, 5.0, 5.0))]) == {(0, 0): 0.25}
    assert ious([a], [obj(Box(0.0, 0.0, 10.0, 10.0))]) == {(0, 0): 1.0}
    # Touching edges and zero-area boxes: IoU 0, so never a candidate.
    assert ious([a], [obj(Box(10.0, 0.0, 5.0, 5.0))]) == {}
    assert ious([obj(Box(1.0, 1.0, 0.0, 0.0))], [obj(Box(1.0, 1.0, 0.0, 0.0))]) == {}


def test_identical_boxes_have_iou_one_despite_rounding() -> None:
    # 0.1 + 0.2 - 0.1 is not 0.2: the edges are computed once, so the IoU is exactly 1.
    a = obj(Box(0.1, 0.1, 0.2, 0.2))
    assert ious([a], [a]) == {(0, 0): 1.0}


def test_box_iou_against_shapely() -> None:
    rng = np.random.default_rng(5)
    gt = [
        obj(Box(*map(float, rng.uniform(0, 50, 2)), *map(float, rng.uniform(1, 30, 2))))
        for _ in range(30)
    ]
    pred = [
        obj(Box(*map(float, rng.uniform(0, 50, 2)), *map(float, rng.uniform(1, 30, 2))))
        for _ in range(30)
    ]
    got = ious(gt, pred)
    assert len(got) > 100

    def shape(b: Box) -> shapely.Geometry:
        return shapely.box(b.left, b.top, b.left + b.width, b.top + b.height)

    for i, a in enumerate(gt):
        for j, p in enumerate(pred):
            sa, sp = shape(a.geometry), shape(p.geometry)  # type: ignore[arg-type]
            expected = sa.intersection(sp).area / sa.union(sp).area
            assert got.get((i, j), 0.0) == pytest.approx(expected, rel=1e-12, abs=1e-15)


BOWTIE = Polygon(((0.0, 0.0), (2.0, 2.0), (2.0, 0.0), (0.0, 2.0)))


def test_a_self_intersecting_polygon_is_repaired() -> None:
    # make_valid splits the bowtie into two triangles of area 1 each; unrepaired, its
    # signed area would be 0. The left triangle covers half of it.
    left = Polygon(((0.0, 0.0), (1.0, 1.0), (0.0, 2.0)))
    assert ious([obj(BOWTIE)], [obj(left)]) == {(0, 0): 0.5}
    assert ious([obj(BOWTIE)], [obj(BOWTIE)]) == {(0, 0): 1.0}


def test_only_the_polygonal_part_of_a_repair_is_kept() -> None:
    # A square with a spike: make_valid gives the square plus a dangling line.
    spiked = Polygon(((0.0, 0.0), (2.0, 0.0), (2.0, 2.0), (0.0, 2.0), (0.0, 3.0), (0.0, 2.0)))
    repaired = shapely.make_valid(shapely.Polygon(spiked.points))
    assert repaired.geom_type == "GeometryCollection"
    square = Polygon(((0.0, 0.0), (2.0, 0.0), (2.0, 2.0), (0.0, 2.0)))
    assert ious([obj(spiked)], [obj(square)]) == {(0, 0): 1.0}
    # A polygon with no area at all (collinear vertices) never pairs.
    flat = Polygon(((0.0, 0.0), (1.0, 0.0), (2.0, 0.0)))
    assert ious([obj(flat)], [obj(square)]) == {}


def test_polygon_iou_against_shapely_union() -> None:
    rng = np.random.default_rng(9)
    shapes = [
        Polygon(tuple(map(tuple, rng.uniform(0, 10, (int(rng.integers(3, 7)), 2)).tolist())))
        for _ in range(40)
    ]
    got = ious([obj(s) for s in shapes[:20]], [obj(s) for s in shapes[20:]])
    assert len(got) > 50
    for (i, j), value in got.items():
        a = shapely.make_valid(shapely.Polygon(shapes[i].points))
        b = shapely.make_valid(shapely.Polygon(shapes[20 + j].points))
        a, b = (shapely.union_all([g for g in shapely.get_parts(x) if g.area > 0]) for x in (a, b))
        assert value == pytest.approx(a.intersection(b).area / a.union(b).area, rel=1e-9)


def circle_area(radius: float) -> float:
    """The area of the 64-gon shapely buffers a point into (16 segments a quarter)."""
    return 0.5 * 64 * radius**2 * math.sin(2 * math.pi / 64)


def test_points_are_buffered_by_the_radius() -> None:
    a, b = obj(Point(0.0, 0.0)), obj(Point(100.0, 0.0))
    assert ious([a], [b], radius=70.0).keys() == {(0, 0)}
    assert ious([a], [b], radius=50.0) == {}  # the circles only touch
    assert ious([a], [a], radius=70.0) == {(0, 0): 1.0}
    value = ious([a], [b], radius=70.0)[0, 0]
    ca, cb = shapely.Point(0, 0).buffer(70.0), shapely.Point(100, 0).buffer(70.0)
    assert ca.area == pytest.approx(circle_area(70.0), rel=1e-12)
    assert value == pytest.approx(ca.intersection(cb).area / ca.union(cb).area, rel=1e-12)


def test_polylines_are_buffered_by_the_radius() -> None:
    a = obj(Polyline(((0.0, 0.0), (100.0, 0.0))))
    b = obj(Polyline(((0.0, 30.0), (100.0, 30.0))))
    la, lb = (shapely.LineString(g.geometry.points).buffer(20.0) for g in (a, b))  # type: ignore[union-attr]
    expected = la.intersection(lb).area / la.union(lb).area
    assert ious([a], [b], radius=20.0)[0, 0] == pytest.approx(expected, rel=1e-12)
    assert ious([a], [b], radius=10.0) == {}


def mask(pixels: np.ndarray) -> Mask:
    rle = mask_api.encode(np.asfortranarray(pixels.astype(np.uint8)))
    return Mask(pixels.shape[0], pixels.shape[1], rle["counts"])


def test_mask_iou_is_pixel_counts() -> None:
    rng = np.random.default_rng(2)
    pixels = [rng.random((7, 9)) < 0.5 for _ in range(6)]
    got = ious([obj(mask(p)) for p in pixels[:3]], [obj(mask(p)) for p in pixels[3:]])
    assert len(got) == 9
    for (i, j), value in got.items():
        a, b = pixels[i], pixels[3 + j]
        assert value == (a & b).sum() / (a | b).sum()
    empty = np.zeros((7, 9), dtype=bool)
    assert ious([obj(mask(empty))], [obj(mask(empty))]) == {}


def test_masks_of_one_row_must_share_its_size() -> None:
    with pytest.raises(ValueError, match="different sizes"):
        ious([obj(mask(np.ones((3, 3), bool)))], [obj(mask(np.ones((4, 3), bool)))])


def test_spans_overlap_over_union() -> None:
    a = obj(Span(0, 10))
    assert ious([a], [obj(Span(5, 15))]) == {(0, 0): 5 / 15}
    assert ious([a], [obj(Span(2, 4))]) == {(0, 0): 0.2}
    assert ious([a], [obj(Span(10, 12))]) == {}  # end is exclusive


def test_classification_pools_are_per_question() -> None:
    gt = [obj(Answer("q", "a"), "q/a"), obj(Answer("r", "a"), "r/a")]
    pred = [
        obj(Answer("q", "b"), "q/b"),
        obj(Answer("r", "a"), "r/a"),
        obj(Answer("q", "a"), "q/a"),
    ]
    assert ious(gt, pred) == {(0, 0): 1.0, (0, 2): 1.0, (1, 1): 1.0}


def test_pools_never_mix_kinds() -> None:
    gt = [
        obj(Box(0.0, 0.0, 10.0, 10.0), "a"),
        obj(Polygon(((0.0, 0.0), (10.0, 0.0), (10.0, 10.0))), "b"),
    ]
    pred = [obj(Point(5.0, 5.0), "c"), obj(Span(0, 10), "d"), obj(Box(0.0, 0.0, 10.0, 10.0), "e")]
    assert ious(gt, pred) == {(0, 2): 1.0}


# pycocotools rasterises this square to the 16 pixels of rows and columns 1 to 4.
SQUARE = Polygon(((1.0, 1.0), (5.0, 1.0), (5.0, 5.0), (1.0, 5.0)))


def _pixels(rows: slice, columns: slice) -> np.ndarray:
    pixels = np.zeros((8, 8), dtype=bool)
    pixels[rows, columns] = True
    return pixels


def test_a_polygon_and_a_mask_of_one_feature_compare_as_pixels() -> None:
    square = mask_api.merge(mask_api.frPyObjects([[1, 1, 5, 1, 5, 5, 1, 5]], 8, 8))
    assert square["counts"] == mask(_pixels(slice(1, 5), slice(1, 5))).counts
    half = mask(_pixels(slice(1, 5), slice(1, 3)))  # the square's left half
    wider = mask(_pixels(slice(1, 5), slice(0, 3)))  # 8 of its 12 pixels in the square
    assert ious([obj(SQUARE)], [obj(half), obj(wider)]) == {(0, 0): 0.5, (0, 1): 0.4}
    assert ious([obj(half), obj(wider)], [obj(SQUARE)]) == {(0, 0): 0.5, (1, 0): 0.4}
    # pycocotools' own IoU of the pair.
    theirs = mask_api.iou([{"size": [8, 8], "counts": half.counts}], [square], [0])
    assert float(theirs[0, 0]) == 0.5


def test_a_polygon_and_a_mask_pair_only_within_their_feature() -> None:
    half = mask(_pixels(slice(1, 5), slice(1, 3)))
    assert ious([obj(SQUARE, "lake")], [obj(half, "field")]) == {}
    # Polygons and masks keep their own pools besides: cross-feature pairs of one kind.
    got = ious([obj(SQUARE, "lake"), obj(half, "lake")], [obj(SQUARE, "field"), obj(half, "field")])
    assert got == {(0, 0): 1.0, (1, 1): 1.0}


def test_a_polygon_and_a_mask_of_different_rows_sizes_are_refused() -> None:
    small = Mask(3, 3, mask_api.encode(np.asfortranarray(np.ones((3, 3), np.uint8)))["counts"])
    with pytest.raises(ValueError, match="different sizes"):
        ious([obj(mask(_pixels(slice(1, 5), slice(1, 3)))), obj(small)], [obj(SQUARE)])
