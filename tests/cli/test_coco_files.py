"""COCO files offline: `modelledger evaluate --format coco` equals pycocotools' COCOeval on
small random files (crowd RLE regions, multi-ring polygons, given areas, tied scores), and
the conversions to NDJSON keep what COCO keeps. The random files are shared with
test_import_export.py."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from modelledger_client.formats import coco, rle
from pycocotools import mask as mask_api
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval
from typer.testing import CliRunner

from cli.main import app
from domain.metrics.coco.evaluation import COCO_KEYS

runner = CliRunner()

# Non-contiguous ids, as COCO's own categories are.
CATEGORIES = [
    {"id": 3, "name": "car", "supercategory": "vehicle"},
    {"id": 7, "name": "person", "supercategory": "human"},
    {"id": 11, "name": "dog"},
]


def _ring(rng: random.Random, width: int, height: int) -> list[float]:
    """A convex-ish ring of 3 to 6 vertices around a random centre."""
    cx, cy = rng.uniform(5, width - 5), rng.uniform(5, height - 5)
    radius = rng.uniform(3, min(width, height) / 2)
    count = rng.randint(3, 6)
    angles = sorted(rng.uniform(0, 2 * np.pi) for _ in range(count))
    points = []
    for angle in angles:
        points += [
            round(float(cx + radius * np.cos(angle)), 2),
            round(float(cy + radius * np.sin(angle)), 2),
        ]
    return points


def _rectangle_mask(rng: random.Random, width: int, height: int) -> np.ndarray:
    pixels = np.zeros((height, width), dtype=np.uint8, order="F")
    x, y = rng.randrange(width - 4), rng.randrange(height - 4)
    pixels[y : y + rng.randint(3, height - y), x : x + rng.randint(3, width - x)] = 1
    return pixels


def _plain_rle(pixels: np.ndarray) -> dict[str, Any]:
    """COCO's uncompressed RLE, as COCO files keep crowd regions."""
    compressed = mask_api.encode(np.asfortranarray(pixels))
    return {
        "size": [int(v) for v in compressed["size"]],
        "counts": rle.decode(compressed["counts"].decode()),
    }


def _compressed_rle(pixels: np.ndarray) -> dict[str, Any]:
    compressed = mask_api.encode(np.asfortranarray(pixels))
    return {"size": [int(v) for v in compressed["size"]], "counts": compressed["counts"].decode()}


def _annotation(rng: random.Random, number: int, image: dict[str, Any]) -> dict[str, Any]:
    width, height = image["width"], image["height"]
    crowd = rng.random() < 0.15
    if crowd:
        segmentation: Any = _plain_rle(_rectangle_mask(rng, width, height))
        bbox = rle.bounding_box(segmentation["counts"], height)
    else:
        segmentation = [_ring(rng, width, height) for _ in range(rng.choice((1, 1, 2)))]
        xs = [v for ring in segmentation for v in ring[::2]]
        ys = [v for ring in segmentation for v in ring[1::2]]
        bbox = [min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)]
    return {
        "id": number,
        "image_id": image["id"],
        "category_id": rng.choice(CATEGORIES)["id"],
        "segmentation": segmentation,
        "bbox": bbox,
        # Spread over the small, medium and large ranges whatever the image's size.
        "area": round(rng.choice((0.3, 1.0, 4.0, 12.0)) * bbox[2] * bbox[3], 2),
        "iscrowd": int(crowd),
    }


def random_instances(seed: int, images: int = 6) -> dict[str, Any]:
    rng = random.Random(seed)
    image_list = [
        {
            "id": 100 + 3 * n,
            "file_name": f"img_{n:03d}.png",
            "width": rng.randint(40, 130),
            "height": rng.randint(40, 130),
        }
        for n in range(images)
    ]
    rng.shuffle(image_list)  # not in id order: evaluation must sort them
    annotations = []
    for image in image_list:
        for _ in range(rng.randint(0, 5)):
            annotations.append(_annotation(rng, 1000 + 7 * len(annotations), image))
    return {"images": image_list, "categories": CATEGORIES, "annotations": annotations}


def random_results(seed: int, instances: dict[str, Any], iou_type: str) -> list[dict[str, Any]]:
    """Detections near the ground truth and some anywhere; scores on a coarse grid, so some tie."""
    rng = random.Random(seed + 1)
    images = {image["id"]: image for image in instances["images"]}
    results = []
    sources = [*instances["annotations"], *(rng.choice(instances["annotations"]) for _ in range(5))]
    for annotation in sources:
        image = images[annotation["image_id"]]
        x, y, w, h = annotation["bbox"]
        dx, dy = rng.uniform(-4, 4), rng.uniform(-4, 4)
        box = [
            max(0.0, x + dx),
            max(0.0, y + dy),
            max(1.0, w + rng.uniform(-3, 3)),
            max(1.0, h + rng.uniform(-3, 3)),
        ]
        detection: dict[str, Any] = {
            "image_id": image["id"],
            "category_id": annotation["category_id"]
            if rng.random() < 0.8
            else rng.choice(CATEGORIES)["id"],
            "score": rng.choice((0.2, 0.4, 0.5, 0.7, 0.9, 1.0)),
        }
        if iou_type == "bbox":
            detection["bbox"] = [round(v, 2) for v in box]
        else:
            pixels = np.zeros((image["height"], image["width"]), dtype=np.uint8, order="F")
            left, top = int(box[0]), int(box[1])
            pixels[top : top + max(1, int(box[3])), left : left + max(1, int(box[2]))] = 1
            detection["segmentation"] = _compressed_rle(pixels)
        results.append(detection)
    return results


def write_json(path: Path, document: Any) -> Path:
    path.write_text(json.dumps(document))
    return path


def pycocotools_stats(instances: Path, results: Path, iou_type: str) -> list[float]:
    ground_truth = COCO(str(instances))
    evaluation = COCOeval(ground_truth, ground_truth.loadRes(str(results)), iou_type)
    evaluation.evaluate()
    evaluation.accumulate()
    evaluation.summarize()
    return [float(v) for v in evaluation.stats]


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
@pytest.mark.parametrize("iou_type", ["bbox", "segm"])
def test_evaluate_format_coco_equals_pycocotools(tmp_path: Path, seed: int, iou_type: str) -> None:
    instances = random_instances(seed)
    assert any(a["iscrowd"] for a in instances["annotations"]) or seed != 1
    instances_path = write_json(tmp_path / "instances.json", instances)
    results_path = write_json(tmp_path / "results.json", random_results(seed, instances, iou_type))
    result = runner.invoke(
        app,
        ["evaluate", "--format", "coco", "--ground-truth", str(instances_path),
         "--predictions", str(results_path), "--iou-type", iou_type],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    ours = json.loads(result.stdout)
    assert list(ours) == list(COCO_KEYS)
    expected = pycocotools_stats(instances_path, results_path, iou_type)
    assert [ours[key] for key in COCO_KEYS] == pytest.approx(expected, abs=1e-6)
    assert any(v > 0 for v in expected)  # the files are not degenerate


def test_a_detection_of_an_unknown_image_is_named(tmp_path: Path) -> None:
    instances = random_instances(5)
    results = random_results(5, instances, "bbox")
    results[2]["image_id"] = 999_999
    result = runner.invoke(
        app,
        ["evaluate", "--format", "coco", "--ground-truth", str(write_json(tmp_path / "i.json", instances)),
         "--predictions", str(write_json(tmp_path / "r.json", results))],
    )  # fmt: skip
    assert result.exit_code == 2
    assert "detection 3 (image_id 999999): image_id 999999 is not in" in result.stderr


def test_ground_truth_lines_keep_rings_crowds_and_areas() -> None:
    document = random_instances(1)
    instances = coco.Instances(
        "x.json",
        document["images"],
        [coco.Category(c["id"], c["name"]) for c in CATEGORIES],
        document["annotations"],
    )
    lines, origins = coco.ground_truth_lines(instances, "segm")
    objects = [line for line in lines if "name" in line]
    assert len(objects) == len(document["annotations"])
    by_origin = dict(zip(origins, lines, strict=True))
    for annotation in document["annotations"]:
        line = by_origin[f"x.json: annotation {annotation['id']}"]
        assert line["area"] == annotation["area"]
        assert line.get("iscrowd", False) == bool(annotation["iscrowd"])
        if annotation["iscrowd"]:
            assert line["mask"]["rle"]["counts"] == annotation["segmentation"]["counts"]
        else:
            assert len(line["polygon"]) == len(annotation["segmentation"])
    # Images in id order, each one's row line first.
    keys = [line["dataRow"]["globalKey"] for line in lines if "name" not in line]
    assert keys == [i["file_name"] for i in sorted(document["images"], key=lambda i: i["id"])]


def test_duplicate_or_empty_category_names_are_refused(tmp_path: Path) -> None:
    document = random_instances(2)
    document["categories"] = [*CATEGORIES, {"id": 12, "name": "dog"}]
    with pytest.raises(
        coco.FormatError, match="category 12 has the name 'dog' of another category"
    ):
        coco.load_instances(write_json(tmp_path / "i.json", document))
    document["categories"] = [*CATEGORIES, {"id": 13, "name": " "}]
    with pytest.raises(coco.FormatError, match="category 13: a category needs a non-empty name"):
        coco.load_instances(write_json(tmp_path / "i.json", document))


def test_rle_reading_equals_pycocotools() -> None:
    rng = np.random.default_rng(0)
    for _ in range(200):
        height, width = rng.integers(1, 15, size=2)
        pixels = np.asfortranarray((rng.random((height, width)) < rng.random()).astype(np.uint8))
        compressed = mask_api.encode(pixels)
        counts = compressed["counts"].decode()
        assert sum(rle.decode(counts)) == height * width
        assert rle.pixel_count(counts) == int(pixels.sum())
        assert rle.bounding_box(counts, int(height)) == pytest.approx(
            list(mask_api.toBbox(compressed))
        )
