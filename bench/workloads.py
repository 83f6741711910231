"""A synthetic COCO-val-sized detection workload, the same on every run (fixed seed).

5,000 images of 640×480, 80 classes, ~36,000 ground-truth boxes (7.2 per image on average,
sizes spread over COCO's small / medium / large), and exactly 100 predictions per image:
jittered copies of the ground truth (one or two per object, 10% relabelled to another
class) and background boxes for the rest; 5% of predictions carry no confidence.

The same objects come in three kinds: boxes, 32-vertex polygons (the ellipse inscribed in
each box) and RLE masks (those polygons rasterised at 480×640). Each kind is given as our
annotation rows, as NDJSON lines of the upload format, and as COCO dictionaries (the
ground-truth dataset and the results list) for pycocotools and faster-coco-eval.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import orjson
from pycocotools import mask as mask_api

from domain.annotations.objects import Annotation, Box, Geometry, Mask, Polygon

Kind = Literal["box", "polygon", "mask"]
Rows = dict[str, list[Annotation]]
KINDS: tuple[Kind, ...] = ("box", "polygon", "mask")

SEED = 20240917
WIDTH, HEIGHT = 640, 480
N_CLASSES = 80
GROUND_TRUTH_PER_IMAGE = 7.2
PREDICTIONS_PER_IMAGE = 100
VERTICES = 32


@dataclass(eq=False)
class Side:
    """Objects as columns: image index, class index, box [left, top, width, height], score.

    `score` is NaN where the object has no confidence (always, for ground truth).
    """

    image: np.ndarray
    label: np.ndarray
    box: np.ndarray
    score: np.ndarray
    _rles: list[dict[str, Any]] | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.image)

    def polygons(self) -> np.ndarray:
        """(n, 32, 2) vertices of the ellipse inscribed in each box, to 0.01 px."""
        angles = np.linspace(0.0, 2 * np.pi, VERTICES, endpoint=False)
        half_w, half_h = self.box[:, 2:3] / 2, self.box[:, 3:4] / 2
        x = self.box[:, 0:1] + half_w + half_w * np.cos(angles)
        y = self.box[:, 1:2] + half_h + half_h * np.sin(angles)
        return np.round(np.stack([x, y], axis=2), 2)

    def rles(self) -> list[dict[str, Any]]:
        """The polygons rasterised at the image size, as compressed RLE (computed once)."""
        if self._rles is None:
            flat = self.polygons().reshape(len(self), -1).tolist()
            rles: list[dict[str, Any]] = []
            for start in range(0, len(flat), 4096):
                rles.extend(mask_api.frPyObjects(flat[start : start + 4096], HEIGHT, WIDTH))
            self._rles = rles
        return self._rles

    def areas(self, kind: Kind) -> np.ndarray:
        """COCO areas: width × height for boxes, pixel counts for polygons and masks."""
        if kind == "box":
            area: np.ndarray = self.box[:, 2] * self.box[:, 3]
            return area
        rles = self.rles()
        # pycocotools' area() overflows a uint8 for lists past 255 under numpy 2: chunks.
        chunks: list[np.ndarray] = [
            mask_api.area(rles[i : i + 255]) for i in range(0, len(rles), 255)
        ]
        return np.concatenate([np.zeros(0), *chunks]).astype(np.float64)


@dataclass(eq=False)
class Workload:
    n_images: int
    classes: tuple[str, ...]
    ground_truth: Side
    predictions: Side

    @property
    def keys(self) -> list[str]:
        return [f"image-{i:05d}" for i in range(self.n_images)]

    def describe(self) -> str:
        missing = int(np.isnan(self.predictions.score).sum())
        return (
            f"{self.n_images:,} images {WIDTH}×{HEIGHT}, {len(self.classes)} classes, "
            f"{len(self.ground_truth):,} ground-truth objects, {len(self.predictions):,} "
            f"predictions ({missing:,} without confidence)"
        )

    def annotations(self, kind: Kind) -> tuple[Rows, Rows]:
        """Our rows: every image is a key of the ground truth (in image order), so image
        order is the same for every evaluator."""
        return self._rows(self.ground_truth, kind), self._rows(self.predictions, kind)

    def _rows(self, side: Side, kind: Kind) -> Rows:
        rows: Rows = {key: [] for key in self.keys}
        keys = self.keys
        for i, label, geometry, score in zip(
            side.image.tolist(),
            side.label.tolist(),
            _geometries(side, kind),
            side.score.tolist(),
            strict=True,
        ):
            confidence = None if score != score else score  # NaN: no confidence
            rows[keys[i]].append(Annotation(self.classes[label], geometry, confidence))
        return rows

    def ndjson(self, kind: Kind) -> tuple[list[bytes], list[bytes]]:
        """Upload lines (one object each) for the ground truth and the predictions.

        An image without ground truth gets a line holding only its "dataRow", in its place,
        so that a reader meets the rows in image order (COCO's ties follow that order).
        """
        return self._lines(self.ground_truth, kind), self._lines(self.predictions, kind)

    def _lines(self, side: Side, kind: Kind) -> list[bytes]:
        keys = self.keys
        lines = []
        previous = -1
        for i, label, value, score in zip(
            side.image.tolist(),
            side.label.tolist(),
            _line_geometries(side, kind),
            side.score.tolist(),
            strict=True,
        ):
            for bare in range(previous + 1, i):
                lines.append(orjson.dumps({"dataRow": {"globalKey": keys[bare]}}))
            previous = i
            line: dict[str, Any] = {"dataRow": {"globalKey": keys[i]}, "name": self.classes[label]}
            line[kind if kind != "box" else "bbox"] = value
            if score == score:
                line["confidence"] = score
            lines.append(orjson.dumps(line))
        lines.extend(orjson.dumps({"dataRow": {"globalKey": k}}) for k in keys[previous + 1 :])
        return lines

    def coco(self, kind: Kind) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """The ground-truth dataset and the results list, image ids 1.. in image order.

        Results are boxes or compressed RLE (what COCO.loadRes takes); missing confidences
        are given as 1, the rule of docs/metrics.md.
        """
        gt, pred = self.ground_truth, self.predictions
        images = [{"id": i + 1, "width": WIDTH, "height": HEIGHT} for i in range(self.n_images)]
        categories = [{"id": k + 1, "name": name} for k, name in enumerate(self.classes)]
        annotations = []
        gt_area = gt.areas(kind).tolist()
        gt_boxes = gt.box.tolist()
        gt_polygons = gt.polygons().reshape(len(gt), -1).tolist() if kind == "polygon" else None
        for n, (i, label) in enumerate(zip(gt.image.tolist(), gt.label.tolist(), strict=True)):
            entry: dict[str, Any] = {
                "id": n + 1,
                "image_id": i + 1,
                "category_id": label + 1,
                "area": gt_area[n],
                "iscrowd": 0,
                "bbox": gt_boxes[n],
            }
            if gt_polygons is not None:
                entry["segmentation"] = [gt_polygons[n]]
            elif kind == "mask":
                entry["segmentation"] = gt.rles()[n]
            annotations.append(entry)
        results = []
        pred_boxes = pred.box.tolist()
        scores = np.where(np.isnan(pred.score), 1.0, pred.score).tolist()
        for n, (i, label) in enumerate(zip(pred.image.tolist(), pred.label.tolist(), strict=True)):
            result: dict[str, Any] = {
                "image_id": i + 1,
                "category_id": label + 1,
                "score": scores[n],
            }
            if kind == "box":
                result["bbox"] = pred_boxes[n]
            else:
                result["segmentation"] = pred.rles()[n]
            results.append(result)
        dataset = {"images": images, "categories": categories, "annotations": annotations}
        return dataset, results


def _geometries(side: Side, kind: Kind) -> Iterator[Geometry]:
    if kind == "box":
        for left, top, width, height in side.box.tolist():
            yield Box(left, top, width, height)
    elif kind == "polygon":
        for vertices in side.polygons().tolist():
            yield Polygon(tuple(map(tuple, vertices)))
    else:
        for rle in side.rles():
            yield Mask(HEIGHT, WIDTH, rle["counts"])


def _line_geometries(side: Side, kind: Kind) -> Iterator[Any]:
    if kind == "box":
        for left, top, width, height in side.box.tolist():
            yield {"top": top, "left": left, "height": height, "width": width}
    elif kind == "polygon":
        for vertices in side.polygons().tolist():
            yield [{"x": x, "y": y} for x, y in vertices]
    else:
        for rle in side.rles():
            yield {"rle": {"size": [HEIGHT, WIDTH], "counts": rle["counts"].decode("ascii")}}


def generate(n_images: int = 5000, seed: int = SEED) -> Workload:
    """The workload for `n_images` images, the same for the same arguments."""
    rng = np.random.default_rng(seed)
    classes = tuple(f"class-{k:02d}" for k in range(N_CLASSES))
    # Some classes are far more common than others, as in COCO.
    weights = 1.0 / np.arange(1, N_CLASSES + 1) ** 0.8
    weights /= weights.sum()

    per_image = rng.poisson(GROUND_TRUTH_PER_IMAGE, n_images)
    gt_image = np.repeat(np.arange(n_images), per_image)
    gt_label = rng.choice(N_CLASSES, len(gt_image), p=weights)
    gt_box = _random_boxes(rng, len(gt_image))

    # One or two jittered copies per object, at most 100 per image.
    copies = 1 + (rng.random(len(gt_image)) < 0.5)
    source = np.repeat(np.arange(len(gt_image)), copies)
    source = source[_rank_in_image(gt_image[source]) < PREDICTIONS_PER_IMAGE]
    copy_image = gt_image[source]
    copy_label = gt_label[source].copy()
    relabel = rng.random(len(source)) < 0.1
    copy_label[relabel] = (
        copy_label[relabel] + rng.integers(1, N_CLASSES, relabel.sum())
    ) % N_CLASSES
    copy_box = _jitter(rng, gt_box[source])
    copy_score = rng.beta(4.0, 2.0, len(source))

    per_image_copies = np.bincount(copy_image, minlength=n_images)
    background_image = np.repeat(np.arange(n_images), PREDICTIONS_PER_IMAGE - per_image_copies)
    background_label = rng.choice(N_CLASSES, len(background_image), p=weights)
    background_box = _random_boxes(rng, len(background_image))
    background_score = rng.beta(1.5, 6.0, len(background_image))

    image = np.concatenate([copy_image, background_image])
    order = np.argsort(image, kind="stable")
    score = np.round(np.concatenate([copy_score, background_score]), 4)[order]
    score[rng.random(len(score)) < 0.05] = np.nan
    predictions = Side(
        image=image[order],
        label=np.concatenate([copy_label, background_label])[order],
        box=np.concatenate([copy_box, background_box])[order],
        score=score,
    )
    ground_truth = Side(gt_image, gt_label, gt_box, np.full(len(gt_image), np.nan))
    return Workload(n_images, classes, ground_truth, predictions)


def _random_boxes(rng: np.random.Generator, n: int) -> np.ndarray:
    # Side lengths log-uniform over 8–400 px: about a third each small, medium and large.
    side = np.exp(rng.uniform(np.log(8), np.log(400), n))
    aspect = np.exp(rng.normal(0.0, 0.4, n))
    width = np.clip(side * aspect, 2, WIDTH)
    height = np.clip(side / aspect, 2, HEIGHT)
    left = rng.uniform(0, 1, n) * (WIDTH - width)
    top = rng.uniform(0, 1, n) * (HEIGHT - height)
    return np.round(np.stack([left, top, width, height], axis=1), 2)


def _jitter(rng: np.random.Generator, boxes: np.ndarray) -> np.ndarray:
    width = np.clip(boxes[:, 2] * np.exp(rng.normal(0, 0.1, len(boxes))), 1.0, WIDTH)
    height = np.clip(boxes[:, 3] * np.exp(rng.normal(0, 0.1, len(boxes))), 1.0, HEIGHT)
    cx = boxes[:, 0] + boxes[:, 2] / 2 + rng.normal(0, 0.07, len(boxes)) * boxes[:, 2]
    cy = boxes[:, 1] + boxes[:, 3] / 2 + rng.normal(0, 0.07, len(boxes)) * boxes[:, 3]
    left = np.clip(cx - width / 2, 0, WIDTH - width)
    top = np.clip(cy - height / 2, 0, HEIGHT - height)
    return np.round(np.stack([left, top, width, height], axis=1), 2)


def _rank_in_image(image: np.ndarray) -> np.ndarray:
    """Position of each entry among the entries of its image (`image` is sorted)."""
    starts = np.searchsorted(image, image, side="left")
    return np.arange(len(image)) - starts
