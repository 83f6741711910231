"""Random data rows of every kind, built to collide: small integer grids make equal IoUs,
IoUs exactly on a threshold, equal confidences and cross-feature pairs frequent.

With `nested=True` objects also carry nested classifications (docs/metrics.md §8): radios,
checklists and free text under tools, under a top-level answer and under a nested answer,
drawn from few answers so that equal answers on both sides of a pair are frequent.

With `crowd=True` some ground-truth boxes, polygons and masks are crowd regions (docs/metrics.md
§9), often large, so that predictions they cover are frequent.

With `mixed=True` the polygon features hold masks too (a POLYGON tool takes both, as COCO
keeps objects as polygons and crowds as RLE masks), on labels, predictions and crowd
regions: half of those masks are a random polygon's pixels as pycocotools rasterises it, so
a polygon and a mask of equal pixels (IoU 1) are frequent.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
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
from domain.ontology import Ontology
from domain.ontology_features import TEXT

FEATURES = {
    "box": ("car", "truck", "bus"),
    "polygon": ("lake", "field"),
    "mask": ("cell", "nucleus"),
    "point": ("eye", "nose"),
    "polyline": ("road", "river"),
    "span": ("person", "place"),
}
QUESTIONS = {"weather": ("sunny", "rainy", "foggy"), "tags": ("a", "b", "c")}
MATCHED_FEATURES = tuple(
    sorted(
        [f for names in FEATURES.values() for f in names]
        + [f"{q}/{a}" for q, answers in QUESTIONS.items() for a in answers]
        + ["unused"]  # known to the evaluation, never used: a TN on every row
    )
)
# Nested questions by the feature they hang off: (name, kind, {answer: its nested questions}).
Questions = tuple[tuple[str, str, dict[str, Any]], ...]
_SHADE: Questions = (("shade", "RADIO", {"dark": (), "light": ()}),)
NESTED: dict[str, Questions] = {
    "car": (
        ("color", "RADIO", {"red": _SHADE, "blue": ()}),
        ("parts", "CHECKLIST", {"wheel": (), "door": (), "roof": ()}),
        ("note", "TEXT", {}),
    ),
    "truck": (("color", "RADIO", {"red": (), "blue": (), "green": ()}),),
    "lake": (("birds", "CHECKLIST", {"duck": (), "swan": ()}),),
    "person": (("role", "RADIO", {"actor": (), "author": ()}),),
    "weather/sunny": (("intensity", "RADIO", {"high": (), "low": ()}),),
}
_TOOLS = {
    "box": "BBOX",
    "polygon": "POLYGON",
    "mask": "MASK",
    "point": "POINT",
    "polyline": "POLYLINE",
    "span": "NER",
}
CONFIDENCES = (None, 0.0, 0.2, 0.5, 0.5, 0.7, 1.0)
MASK_SIZE = (6, 5)


def _confidence(rng: np.random.Generator, prediction: bool) -> float | None:
    if not prediction:
        return None
    pick = int(rng.integers(len(CONFIDENCES) + 1))
    return float(rng.random()) if pick == len(CONFIDENCES) else CONFIDENCES[pick]


def _geometry(kind: str, rng: np.random.Generator, mixed: bool = False):  # noqa: ANN202 - one of the geometries
    if kind == "polygon" and mixed and rng.random() < 0.4:
        return _polygon_mask(rng)
    if kind == "box":
        left, top = (float(v) for v in rng.integers(0, 8, 2))
        width, height = (float(v) for v in rng.integers(1, 6, 2))
        if rng.random() < 0.2:
            left, width = left + float(rng.random()), width + float(rng.random())
        return Box(left, top, width, height)
    if kind == "polygon":
        n = int(rng.integers(3, 6))  # four or five random vertices often self-intersect
        return Polygon(tuple((float(x), float(y)) for x, y in rng.integers(0, 7, (n, 2))))
    if kind == "mask":
        pixels = rng.random(MASK_SIZE) < rng.choice([0.0, 0.3, 0.6])
        rle = mask_api.encode(np.asfortranarray(pixels.astype(np.uint8)))
        return Mask(MASK_SIZE[0], MASK_SIZE[1], rle["counts"])
    if kind == "point":
        x, y = (float(v) for v in rng.integers(0, 16, 2) * 10)
        return Point(x, y)
    if kind == "polyline":
        n = int(rng.integers(2, 4))
        return Polyline(tuple((float(x), float(y)) for x, y in rng.integers(0, 16, (n, 2)) * 10))
    start = int(rng.integers(0, 12))
    return Span(start, start + int(rng.integers(1, 7)))


def _polygon_mask(rng: np.random.Generator) -> Mask:
    """A polygon feature's mask: half the time a random polygon's pixels, else random ones."""
    if rng.random() < 0.5:
        return _geometry("mask", rng)
    polygon = _geometry("polygon", rng)
    flat = [c for xy in polygon.points for c in xy]
    rle = mask_api.merge(mask_api.frPyObjects([flat], *MASK_SIZE))
    return Mask(MASK_SIZE[0], MASK_SIZE[1], rle["counts"])


def _nested_questions(feature: str) -> Questions:
    """The nested questions of a feature, a nested answer included ("car/color/red")."""
    found = NESTED.get(feature)
    if found is not None:
        return found
    parent, _, answer = feature.rpartition("/")
    parent, _, question = parent.rpartition("/")
    for name, _, answers in _nested_questions(parent) if parent else ():
        if name == question:
            return answers.get(answer, ())  # type: ignore[no-any-return]
    return ()


def _children(
    feature: str, rng: np.random.Generator, prediction: bool, nested: bool
) -> tuple[Annotation, ...]:
    """Valid nested classifications of an object of `feature`: a radio answered at most once,
    a checklist answer at most once. Their own confidences are noise: the parent's counts."""
    if not nested:
        return ()
    out: list[Annotation] = []
    for name, kind, answers in _nested_questions(feature):
        question = f"{feature}/{name}"
        if kind == "TEXT":
            if rng.random() < 0.4:
                out.append(Annotation(question, TextAnswer(question, "text")))
            continue
        names = list(answers)
        if kind == "RADIO":
            chosen = [names[int(rng.integers(len(names)))]] if rng.random() < 0.8 else []
        else:
            chosen = [n for n in names if rng.random() < 0.5]
        for answer in chosen:
            full = f"{question}/{answer}"
            out.append(
                Annotation(
                    full,
                    Answer(question, answer),
                    _confidence(rng, prediction),
                    _children(full, rng, prediction, nested),
                )
            )
    rng.shuffle(out)  # type: ignore[arg-type]
    return tuple(out)


CROWD_KINDS = ("box", "polygon", "mask")


def _crowd_geometry(kind: str, rng: np.random.Generator, mixed: bool):  # noqa: ANN202 - a region
    """A crowd region: half the time a large one, else like any object of its kind; of a
    polygon feature, with `mixed`, half the time a mask region."""
    if kind == "polygon" and mixed and rng.random() < 0.5:
        kind = "mask"
    if rng.random() < 0.5:
        return _geometry(kind, rng)
    if kind == "box":
        left, top = (float(v) for v in rng.integers(0, 4, 2))
        width, height = (float(v) for v in rng.integers(3, 10, 2))
        return Box(left, top, width, height)
    if kind == "polygon":
        x0, y0 = (float(v) for v in rng.integers(0, 3, 2))
        x1, y1 = (float(v) for v in rng.integers(4, 8, 2))
        return Polygon(((x0, y0), (x1, y0), (x1, y1), (x0, y1)))
    pixels = rng.random(MASK_SIZE) < 0.8
    rle = mask_api.encode(np.asfortranarray(pixels.astype(np.uint8)))
    return Mask(MASK_SIZE[0], MASK_SIZE[1], rle["counts"])


def random_side(
    rng: np.random.Generator,
    kinds: tuple[str, ...],
    prediction: bool,
    nested: bool = False,
    crowd: bool = False,
    mixed: bool = False,
) -> list[Annotation]:
    objects: list[Annotation] = []
    for kind in kinds:
        if crowd and not prediction and kind in CROWD_KINDS:
            for _ in range(int(rng.integers(0, 3))):
                feature = str(rng.choice(FEATURES[kind]))
                area = float(rng.integers(0, 50)) if rng.random() < 0.5 else None
                objects.append(
                    Annotation(feature, _crowd_geometry(kind, rng, mixed), None, (), True, area)
                )
        for _ in range(int(rng.integers(0, 4))):
            feature = str(rng.choice(FEATURES[kind]))
            objects.append(
                Annotation(
                    feature,
                    _geometry(kind, rng, mixed),
                    _confidence(rng, prediction),
                    _children(feature, rng, prediction, nested),
                )
            )
    for question, answers in QUESTIONS.items():
        chosen = rng.choice(answers, size=int(rng.integers(0, 3)), replace=False)
        for answer in chosen:
            feature = f"{question}/{answer}"
            objects.append(
                Annotation(
                    feature,
                    Answer(question, str(answer)),
                    _confidence(rng, prediction),
                    _children(feature, rng, prediction, nested),
                )
            )
    if rng.random() < 0.3:
        objects.append(
            Annotation("caption", TextAnswer("caption", "a text"), _confidence(rng, prediction))
        )
    rng.shuffle(objects)  # upload order mixes kinds and pools
    return objects


def random_rows(
    seed: int,
    n_rows: int,
    kinds: tuple[str, ...] = tuple(FEATURES),
    nested: bool = False,
    crowd: bool = False,
    mixed: bool = False,
) -> tuple[list[list[Annotation]], list[list[Annotation]]]:
    rng = np.random.default_rng(seed)
    gt = [
        random_side(rng, kinds, prediction=False, nested=nested, crowd=crowd, mixed=mixed)
        for _ in range(n_rows)
    ]
    pred = [
        random_side(rng, kinds, prediction=True, nested=nested, mixed=mixed) for _ in range(n_rows)
    ]
    return gt, pred


def _ontology_questions(questions: Questions) -> list[dict[str, Any]]:
    return [
        {
            "name": name,
            "kind": kind,
            **(
                {
                    "answers": [
                        {"name": answer, "classifications": _ontology_questions(nested)}
                        for answer, nested in answers.items()
                    ]
                }
                if kind != "TEXT"
                else {}
            ),
        }
        for name, kind, answers in questions
    ]


def random_ontology() -> Ontology:
    """The ontology of the random rows: every tool, question and nested question, and
    "unused" (a box tool no object uses)."""
    ids = itertools.count()
    tools = [
        {
            "name": name,
            "tool": _TOOLS[kind],
            "classifications": _ontology_questions(NESTED.get(name, ())),
        }
        for kind, names in FEATURES.items()
        for name in names
    ]
    tools.append({"name": "unused", "tool": "BBOX"})
    classifications = [
        {
            "name": question,
            "kind": "RADIO" if question == "weather" else "CHECKLIST",
            "answers": [
                {
                    "name": a,
                    "classifications": _ontology_questions(NESTED.get(f"{question}/{a}", ())),
                }
                for a in answers
            ],
        }
        for question, answers in QUESTIONS.items()
    ]
    classifications.append({"name": "caption", "kind": "TEXT"})
    return Ontology.build(tools, classifications, id_factory=lambda: f"f{next(ids)}")


def matched_features(ontology: Ontology) -> tuple[str, ...]:
    return tuple(f.name for f in ontology.features if f.kind != TEXT)


def checklists(ontology: Ontology) -> tuple[str, ...]:
    return tuple(q.name for q in ontology.questions if q.kind == "CHECKLIST")
