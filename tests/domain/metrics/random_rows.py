"""Random data rows of every kind, built to collide: small integer grids make equal IoUs,
IoUs exactly on a threshold, equal confidences and cross-feature pairs frequent."""

from __future__ import annotations

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
CONFIDENCES = (None, 0.0, 0.2, 0.5, 0.5, 0.7, 1.0)
MASK_SIZE = (6, 5)


def _confidence(rng: np.random.Generator, prediction: bool) -> float | None:
    if not prediction:
        return None
    pick = int(rng.integers(len(CONFIDENCES) + 1))
    return float(rng.random()) if pick == len(CONFIDENCES) else CONFIDENCES[pick]


def _geometry(kind: str, rng: np.random.Generator):  # noqa: ANN202 - one of the geometries
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


def random_side(
    rng: np.random.Generator, kinds: tuple[str, ...], prediction: bool
) -> list[Annotation]:
    objects: list[Annotation] = []
    for kind in kinds:
        for _ in range(int(rng.integers(0, 4))):
            feature = str(rng.choice(FEATURES[kind]))
            objects.append(Annotation(feature, _geometry(kind, rng), _confidence(rng, prediction)))
    for question, answers in QUESTIONS.items():
        chosen = rng.choice(answers, size=int(rng.integers(0, 3)), replace=False)
        for answer in chosen:
            feature = f"{question}/{answer}"
            objects.append(
                Annotation(feature, Answer(question, str(answer)), _confidence(rng, prediction))
            )
    if rng.random() < 0.3:
        objects.append(
            Annotation("caption", TextAnswer("caption", "a text"), _confidence(rng, prediction))
        )
    rng.shuffle(objects)  # upload order mixes kinds and pools
    return objects


def random_rows(
    seed: int, n_rows: int, kinds: tuple[str, ...] = tuple(FEATURES)
) -> tuple[list[list[Annotation]], list[list[Annotation]]]:
    rng = np.random.default_rng(seed)
    gt = [random_side(rng, kinds, prediction=False) for _ in range(n_rows)]
    pred = [random_side(rng, kinds, prediction=True) for _ in range(n_rows)]
    return gt, pred
