"""A slow, literal reading of docs/metrics.md, to check the engine against.

Plain Python, one object and one pair at a time, and a separate walk at every grid point
(c, t): nothing of the engine's layout, one-walk-per-c trick or IoU cut is used here. The
union of two shapes is area(A) + area(B) - area(A ∩ B) as in the engine, so both compute
bit-identical IoUs and ties compare equal on both sides.

Nested classifications (§8) are followed object by object from each outcome of the walk,
recursively, for valid input only (a radio answered at most once per object, a checklist
answer at most once): the engine's rule for invalid input is its own.

A polygon and a mask of one feature (a POLYGON tool takes both) are a pair: the polygon is
rasterised with pycocotools at the mask's size, as COCO's annToRLE does, and the two pixel
arrays are compared with numpy, for the IoU and for a crowd region's share alike.

Crowd regions (§9) are read as written: not in the walk, no FN, no annotation, no cell, no
bar to a TN; an active prediction left untaken is ignored (no FP, no confusion cell, its
nested answers neither) when |P ∩ G| / area(P) > t for a crowd region G of its feature.
An ignored prediction is still an active prediction of its row for the TN rule.
"""

from __future__ import annotations

import functools
import warnings
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
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
    TextAnswer,
)


def confidence(p: Annotation) -> float:
    return 1.0 if p.confidence is None else p.confidence


def _repaired(points: tuple[tuple[float, float], ...]) -> shapely.Geometry:
    if len(points) < 3:
        return shapely.Polygon()
    fixed = shapely.make_valid(shapely.Polygon(points))
    parts = [
        g for g in getattr(fixed, "geoms", [fixed]) if g.geom_type in ("Polygon", "MultiPolygon")
    ]
    polygons = [p for g in parts for p in getattr(g, "geoms", [g])]
    return shapely.MultiPolygon(polygons) if polygons else shapely.Polygon()


def _shape(a: Annotation, radius: float) -> shapely.Geometry:
    g = a.geometry
    if isinstance(g, Polygon):
        # Each ring repaired on its own, the object their union (COCO's rings of one object).
        shapes = [_repaired(ring) for ring in g.rings]
        return shapes[0] if len(shapes) == 1 else shapely.union_all(shapes)
    if isinstance(g, Point):
        return shapely.Point(g.x, g.y).buffer(radius)
    assert isinstance(g, Polyline)
    line = shapely.LineString(g.points) if len(g.points) > 1 else shapely.Point(g.points[0])
    return line.buffer(radius)


def _shape_iou(a: shapely.Geometry, b: shapely.Geometry) -> float:
    inter = a.intersection(b).area
    union = a.area + b.area - inter
    return min(inter / union, 1.0) if union > 0 else 0.0


def _box_iou(a: Box, b: Box) -> float:
    ax0, ay0, ax1, ay1 = a.left, a.top, a.left + a.width, a.top + a.height
    bx0, by0, bx1, by1 = b.left, b.top, b.left + b.width, b.top + b.height
    iw = min(ax1, bx1) - max(ax0, bx0)
    ih = min(ay1, by1) - max(ay0, by0)
    if iw <= 0 or ih <= 0:
        return 0.0
    inter = iw * ih
    union = (ax1 - ax0) * (ay1 - ay0) + (bx1 - bx0) * (by1 - by0) - inter
    return min(inter / union, 1.0) if union > 0 else 0.0


def _decoded(rle: dict) -> np.ndarray:
    with warnings.catch_warnings():
        # pycocotools' decode predates numpy 2's copy keyword and says so on every call.
        warnings.simplefilter("ignore", DeprecationWarning)
        return mask_api.decode(rle).astype(bool)


@functools.cache
def _pixels(m: Mask) -> np.ndarray:
    return _decoded({"size": [m.height, m.width], "counts": m.counts})


@functools.cache
def _rasterised(g: Polygon, height: int, width: int) -> np.ndarray:
    """A polygon's pixels as COCO's annToRLE makes them: its rings through frPyObjects, then
    merged. A ring of fewer than 3 vertices has no area and is left out."""
    rings = [[c for xy in ring for c in xy] for ring in g.rings if len(ring) >= 3]
    if not rings:
        return np.zeros((height, width), dtype=bool)
    return _decoded(mask_api.merge(mask_api.frPyObjects(rings, height, width)))


def _as_pixels(x: Mask | Polygon, y: Mask | Polygon) -> tuple[np.ndarray, np.ndarray]:
    """Both as pixels; a polygon beside a mask is rasterised at the mask's size."""
    mask = x if isinstance(x, Mask) else y
    assert isinstance(mask, Mask)
    return tuple(  # type: ignore[return-value]
        _pixels(g) if isinstance(g, Mask) else _rasterised(g, mask.height, mask.width)
        for g in (x, y)
    )


def _pixel_iou(pa: np.ndarray, pb: np.ndarray) -> float:
    union = int((pa | pb).sum())
    return int((pa & pb).sum()) / union if union else 0.0


@functools.cache
def _shape_of(a: Annotation, radius: float) -> shapely.Geometry:
    return _shape(a, radius)


def pair_iou(a: Annotation, p: Annotation, radius: float) -> float | None:
    """The IoU of a pair of the same pool, None when the pair is not in one pool."""
    ga, gp = a.geometry, p.geometry
    if {type(ga), type(gp)} == {Polygon, Mask}:
        # A POLYGON tool takes masks too: a polygon and a mask of one feature compare as pixels.
        return _pixel_iou(*_as_pixels(ga, gp)) if a.feature == p.feature else None  # type: ignore[arg-type]
    if type(ga) is not type(gp) or isinstance(ga, TextAnswer):
        return None
    if isinstance(ga, Box):
        return _box_iou(ga, gp)  # type: ignore[arg-type]
    if isinstance(ga, Polygon | Point | Polyline):
        return _shape_iou(_shape_of(a, radius), _shape_of(p, radius))
    if isinstance(ga, Mask):
        return _pixel_iou(_pixels(ga), _pixels(gp))  # type: ignore[arg-type]
    if isinstance(ga, Span):
        assert isinstance(gp, Span)
        overlap = max(0, min(ga.end, gp.end) - max(ga.start, gp.start))
        return overlap / ((ga.end - ga.start) + (gp.end - gp.start) - overlap)
    assert isinstance(ga, Answer) and isinstance(gp, Answer)
    return 1.0 if ga.question == gp.question else None


def crowd_share(g: Annotation, p: Annotation) -> float:
    """|P ∩ G| / area(P) for a crowd region g and a prediction p of one feature; 0 when P
    has no area. A polygon and a mask compare as pixels, as for their IoU."""
    gg, gp = g.geometry, p.geometry
    if isinstance(gg, Box):
        assert isinstance(gp, Box)
        gx1, gy1 = gg.left + gg.width, gg.top + gg.height
        px1, py1 = gp.left + gp.width, gp.top + gp.height
        iw = min(gx1, px1) - max(gg.left, gp.left)
        ih = min(gy1, py1) - max(gg.top, gp.top)
        own = (px1 - gp.left) * (py1 - gp.top)
        if iw <= 0 or ih <= 0 or own <= 0:
            return 0.0
        return min(iw * ih / own, 1.0)
    if isinstance(gg, Polygon) and isinstance(gp, Polygon):
        shape_g, shape_p = _shape_of(g, 0.0), _shape_of(p, 0.0)
        if not shape_p.area > 0:
            return 0.0
        return min(shape_g.intersection(shape_p).area / shape_p.area, 1.0)
    assert isinstance(gg, Mask | Polygon) and isinstance(gp, Mask | Polygon)
    pg, pp = _as_pixels(gg, gp)
    own = int(pp.sum())
    return int((pg & pp).sum()) / own if own else 0.0


@dataclass
class PointResult:
    """Everything at one grid point, keyed by (row, feature) and by confusion cell."""

    tp: Counter = field(default_factory=Counter)
    fp: Counter = field(default_factory=Counter)
    fn: Counter = field(default_factory=Counter)
    tn: Counter = field(default_factory=Counter)
    iou_sum: Counter = field(default_factory=Counter)
    confusion: Counter = field(default_factory=Counter)  # (g or None, f or None)
    taken: list[tuple[int, int, int]] = field(default_factory=list)  # (row, ann, pred)
    text_annotations: Counter = field(default_factory=Counter)  # per free-text feature
    text_predictions: Counter = field(default_factory=Counter)  # active ones
    ignored: Counter = field(default_factory=Counter)  # (row, feature): ignored predictions (§9)


def _answers(a: Annotation | None) -> list[Annotation]:
    """The nested radio and checklist answers directly under an object or answer."""
    if a is None:
        return []
    return [x for x in a.classifications if isinstance(x.geometry, Answer)]


def _descendants(a: Annotation) -> list[Annotation]:
    """Every nested object under `a`, at any depth (free-text answers included)."""
    return [d for x in a.classifications for d in (x, *_descendants(x))]


class Reference:
    """Pair IoUs are computed once per row (they do not depend on c or t)."""

    def __init__(
        self,
        ground_truth: Sequence[Sequence[Annotation]],
        predictions: Sequence[Sequence[Annotation]],
        features: Sequence[str],
        radius: float = 70.0,
        checklists: Sequence[str] = (),
    ) -> None:
        """`checklists` names the nested questions that are checklists (others are radios)."""
        self.gt, self.pred, self.features = ground_truth, predictions, list(features)
        self.checklists = set(checklists)
        self.ious = [
            {
                (i, j): v
                for i, a in enumerate(gts)
                for j, p in enumerate(preds)
                if not a.iscrowd and (v := pair_iou(a, p, radius)) is not None
            }
            for gts, preds in zip(ground_truth, predictions, strict=True)
        ]
        # §9: per prediction, its shares covered by crowd regions of its feature.
        self.shares = [
            {
                j: [crowd_share(a, p) for a in gts if a.iscrowd and a.feature == p.feature]
                for j, p in enumerate(preds)
            }
            for gts, preds in zip(ground_truth, predictions, strict=True)
        ]

    def at(self, c: float, t: float) -> PointResult:
        out = PointResult()
        for r, (gts, preds) in enumerate(zip(self.gt, self.pred, strict=True)):
            anns = {
                i: a
                for i, a in enumerate(gts)
                if not isinstance(a.geometry, TextAnswer) and not a.iscrowd
            }
            active = {
                j: p
                for j, p in enumerate(preds)
                if not isinstance(p.geometry, TextAnswer) and confidence(p) >= c
            }
            # §2 steps 2-3: candidates with IoU > t, in the five-key order.
            candidates = [(i, j, v) for (i, j), v in self.ious[r].items() if j in active and v > t]
            candidates.sort(
                key=lambda x: (
                    -x[2],
                    anns[x[0]].feature != active[x[1]].feature,
                    -confidence(active[x[1]]),
                    x[0],
                    x[1],
                )
            )
            taken_a: set[int] = set()
            taken_p: set[int] = set()
            for i, j, v in candidates:  # step 4
                if i in taken_a or j in taken_p:
                    continue
                taken_a.add(i)
                taken_p.add(j)
                out.taken.append((r, i, j))
                g, f = anns[i].feature, active[j].feature
                out.confusion[g, f] += 1
                if g == f:
                    out.tp[r, f] += 1
                    out.iou_sum[r, f] += v
                    self._nested(out, r, anns[i], active[j])  # §8: a taken same-feature pair
                else:
                    out.fn[r, g] += 1
                    out.fp[r, f] += 1
                    self._nested(out, r, anns[i], None)  # §8: taken in a cross-feature pair
                    self._nested(out, r, None, active[j])
            for i, a in anns.items():
                if i not in taken_a:
                    out.fn[r, a.feature] += 1
                    out.confusion[a.feature, None] += 1
                    self._nested(out, r, a, None)  # §8: untaken
            for j, p in active.items():
                if j not in taken_p:
                    if any(share > t for share in self.shares[r][j]):
                        # §9: neither FP nor in a cell, and its nested answers with it.
                        for x in (p, *_descendants(p)):
                            if not isinstance(x.geometry, TextAnswer):
                                out.ignored[r, x.feature] += 1
                        continue
                    out.fp[r, p.feature] += 1
                    out.confusion[None, p.feature] += 1
                    self._nested(out, r, None, p)
            present = {a.feature for a in anns.values()} | {p.feature for p in active.values()}
            # §8: a nested answer is present when an annotation or an active prediction
            # carries it (a nested answer is active exactly when its parent is).
            for a in (*anns.values(), *active.values()):
                present.update(d.feature for d in _descendants(a))
            for f in self.features:
                if f not in present:
                    out.tn[r, f] = 1
            # Free text, top-level and nested, is only counted; a nested one with its root.
            for a in gts:
                if a.iscrowd:
                    continue
                for x in (a, *_descendants(a)):
                    if isinstance(x.geometry, TextAnswer):
                        out.text_annotations[x.feature] += 1
            for p in preds:
                if confidence(p) >= c:
                    for x in (p, *_descendants(p)):
                        if isinstance(x.geometry, TextAnswer):
                            out.text_predictions[x.feature] += 1
        return out

    def _nested(self, out: PointResult, r: int, g: Annotation | None, p: Annotation | None) -> None:
        """§8 for the nested answers of a taken same-feature pair (g, p), or of an object
        alone (an annotation g, or an active prediction p), recursively."""
        g_answers, p_answers = _answers(g), _answers(p)
        if g is None or p is None:
            for x in g_answers:
                out.fn[r, x.feature] += 1
                out.confusion[x.feature, None] += 1
                self._nested(out, r, x, None)
            for y in p_answers:
                out.fp[r, y.feature] += 1
                out.confusion[None, y.feature] += 1
                self._nested(out, r, None, y)
            return
        questions = dict.fromkeys(x.geometry.question for x in g_answers + p_answers)  # type: ignore[union-attr]
        for q in questions:
            on_g = {x.feature: x for x in g_answers if x.geometry.question == q}  # type: ignore[union-attr]
            on_p = {y.feature: y for y in p_answers if y.geometry.question == q}  # type: ignore[union-attr]
            assert len(on_g) == sum(x.geometry.question == q for x in g_answers)  # type: ignore[union-attr]
            assert len(on_p) == sum(y.geometry.question == q for y in p_answers)  # type: ignore[union-attr]
            if q in self.checklists:
                for a in dict.fromkeys([*on_g, *on_p]):
                    if a in on_g and a in on_p:
                        out.tp[r, a] += 1
                        out.confusion[a, a] += 1
                        self._nested(out, r, on_g[a], on_p[a])
                    elif a in on_g:
                        out.fn[r, a] += 1
                        out.confusion[a, None] += 1
                        self._nested(out, r, on_g[a], None)
                    else:
                        out.fp[r, a] += 1
                        out.confusion[None, a] += 1
                        self._nested(out, r, None, on_p[a])
                continue
            assert len(on_g) <= 1 and len(on_p) <= 1, f"radio {q!r} answered twice"
            x = next(iter(on_g.values()), None)
            y = next(iter(on_p.values()), None)
            out.confusion[x and x.feature, y and y.feature] += 1
            if x is not None and y is not None and x.feature == y.feature:
                out.tp[r, x.feature] += 1
                self._nested(out, r, x, y)
                continue
            if x is not None:
                out.fn[r, x.feature] += 1
                self._nested(out, r, x, None)
            if y is not None:
                out.fp[r, y.feature] += 1
                self._nested(out, r, None, y)


def feature_ratios(tp: int, fp: int, fn: int, iou_sum: float) -> tuple[float | None, ...]:
    """(precision, recall, f1, iou), None where a denominator is 0."""

    def div(a: float, b: float) -> float | None:
        return a / b if b else None

    return (
        div(tp, tp + fp),
        div(tp, tp + fn),
        div(2 * tp, 2 * tp + fp + fn),
        div(iou_sum, tp + fp + fn),
    )


def row_ious(tp: np.ndarray, fp: np.ndarray, fn: np.ndarray, iou_sum: np.ndarray) -> np.ndarray:
    """§4 on dense (row, feature) counts: per row, the unweighted mean of its features'
    non-null IoUs; NaN for a row where every one is null."""
    denominator = tp + fp + fn
    out = np.full(tp.shape[0], np.nan)
    for r in range(tp.shape[0]):
        defined = denominator[r] > 0
        if defined.any():
            out[r] = np.mean(iou_sum[r][defined] / denominator[r][defined])
    return out
