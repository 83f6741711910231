"""A run's rows to COCO files, in pure Python: the instances and the results.

What an import kept (coco.py) comes back: image ids and file names from each row's
metadata, annotation ids where they still fit the row's labels one to one, category ids
and supercategories from the run's config; what has no kept id is numbered after the
largest one. What maps to what is described in docs/formats.md."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from modelledger_client.formats import rle
from modelledger_client.formats.coco import (
    ANNOTATION_IDS,
    CATEGORY_ID,
    FILE_NAME,
    IMAGE_ID,
    SUPERCATEGORY,
    Category,
    JsonObject,
    extent,
)
from modelledger_client.tables import DataRow


def categories_of(feature_names: Iterable[str], config: Mapping[str, Any]) -> list[Category]:
    """The COCO categories of a run's object features, in ontology order: the ids an import
    kept in the config, the others numbered after the largest."""
    names = list(feature_names)
    kept = {name: config.get(CATEGORY_ID + name) for name in names}
    next_id = _Numbering(v for v in kept.values() if isinstance(v, int | float))
    return [
        Category(
            _integral(kept[name]) if isinstance(kept[name], int | float) else next_id(),
            name,
            config.get(SUPERCATEGORY + name),
        )
        for name in names
    ]


def to_coco(
    rows: Iterable[DataRow], categories: list[Category]
) -> tuple[JsonObject, list[JsonObject]]:
    """The COCO instances (images, categories, annotations) and results of a run's rows.

    Image and annotation ids are the ones an import kept in each row's metadata; rows or
    labels without them are numbered after the largest id kept. Objects other than boxes,
    polygons and masks (points, lines, answers) have no COCO form and are left out."""
    ids = {category.name: category.id for category in categories}
    images = sorted(((_image(row), row) for row in rows), key=lambda pair: _sort_key(pair[0]["id"]))
    next_image = _Numbering(image["id"] for image, _ in images if image["id"] is not None)
    kept_ids = {row.id: _annotation_ids(row, ids) for _, row in images}
    next_annotation = _Numbering(i for found in kept_ids.values() if found for i in found)
    annotations: list[JsonObject] = []
    results: list[JsonObject] = []
    for image, row in images:
        if image["id"] is None:
            image["id"] = next_image()
        labels = [label for label in row.labels if label.get("name") in ids and _kind(label)]
        numbers = kept_ids[row.id] or [next_annotation() for _ in labels]
        for number, label in zip(numbers, labels, strict=True):
            annotations.append({"id": number, "image_id": image["id"], **_annotation(label, ids)})
        for prediction in row.predictions or ():
            if prediction.get("name") in ids and _kind(prediction):
                results.append({"image_id": image["id"], **_result(prediction, ids)})
    instances = {
        "images": [image for image, _ in images],
        "categories": [_category_object(c) for c in categories],
        "annotations": annotations,
    }
    return instances, results


class _Numbering:
    """Fresh integer ids after the largest one already taken."""

    def __init__(self, taken: Iterable[Any]) -> None:
        self.last = max((int(v) for v in taken), default=0)

    def __call__(self) -> int:
        self.last += 1
        return self.last


def _image(row: DataRow) -> JsonObject:
    metadata = row.metadata or {}
    kept = metadata.get(IMAGE_ID)
    image: JsonObject = {
        "id": _integral(kept) if isinstance(kept, int | float) else None,
        "file_name": metadata.get(FILE_NAME, row.global_key),
    }
    if row.width is not None and row.height is not None:
        image["width"], image["height"] = row.width, row.height
    if row.row_data and row.row_data.startswith(("http://", "https://")):
        image["coco_url"] = row.row_data
    return image


def _annotation_ids(row: DataRow, categories: Mapping[str, int]) -> list[int] | None:
    """The annotation ids an import kept, if they still fit the row's COCO labels one to one."""
    kept = (row.metadata or {}).get(ANNOTATION_IDS)
    labels = [label for label in row.labels if label.get("name") in categories and _kind(label)]
    if not isinstance(kept, str) or not kept:
        return None
    try:
        numbers = [int(part) for part in kept.split(",")]
    except ValueError:
        return None
    return numbers if len(numbers) == len(labels) else None


def _kind(annotation: JsonObject) -> str | None:
    return next((key for key in ("bbox", "polygon", "mask") if key in annotation), None)


def _annotation(label: JsonObject, categories: Mapping[str, int]) -> JsonObject:
    """A label as a COCO annotation: `area` as kept, else the geometry's own; crowd masks
    with plain run lengths, as COCO keeps crowd regions."""
    crowd = bool(label.get("iscrowd"))
    found: JsonObject = {"category_id": categories[label["name"]]}
    found.update(_coco_geometry(label, plain_counts=crowd))
    found["area"] = label["area"] if "area" in label else _area(label)
    found["iscrowd"] = int(crowd)
    return found


def _result(prediction: JsonObject, categories: Mapping[str, int]) -> JsonObject:
    """A prediction as a COCO detection; a prediction without a confidence scores 1, as the
    evaluation counts it."""
    found: JsonObject = {"category_id": categories[prediction["name"]]}
    found.update(_coco_geometry(prediction, plain_counts=False))
    confidence = prediction.get("confidence")
    found["score"] = 1.0 if confidence is None else confidence
    return found


def _coco_geometry(annotation: JsonObject, plain_counts: bool) -> JsonObject:
    if "bbox" in annotation:
        box = annotation["bbox"]
        return {"bbox": [box["left"], box["top"], box["width"], box["height"]]}
    if "polygon" in annotation:
        rings = _rings(annotation["polygon"])
        return {
            "segmentation": [
                [v for point in ring for v in (point["x"], point["y"])] for ring in rings
            ],
            "bbox": extent([point for ring in rings for point in ring]),
        }
    found = annotation["mask"]["rle"]
    counts = rle.decode(found["counts"]) if plain_counts else found["counts"]
    return {
        "segmentation": {"size": found["size"], "counts": counts},
        "bbox": rle.bounding_box(found["counts"], found["size"][0]),
    }


def _rings(polygon: list[Any]) -> list[list[JsonObject]]:
    """A polygon's rings: a list of points is one ring."""
    return [polygon] if polygon and isinstance(polygon[0], dict) else polygon


def _area(annotation: JsonObject) -> float:
    """The geometry's area where no area was kept: the box's, the rings' (shoelace), the
    mask's pixel count."""
    if "bbox" in annotation:
        return float(annotation["bbox"]["width"] * annotation["bbox"]["height"])
    if "polygon" in annotation:
        return sum(_shoelace(ring) for ring in _rings(annotation["polygon"]))
    return float(rle.pixel_count(annotation["mask"]["rle"]["counts"]))


def _shoelace(ring: list[JsonObject]) -> float:
    pairs = zip(ring, ring[1:] + ring[:1], strict=True)
    return abs(sum(a["x"] * b["y"] - b["x"] * a["y"] for a, b in pairs)) / 2


def _category_object(category: Category) -> JsonObject:
    found: JsonObject = {"id": category.id, "name": category.name}
    if category.supercategory is not None:
        found["supercategory"] = category.supercategory
    return found


def _integral(value: float) -> int | float:
    """An id read back as a JSON number: 3.0 is the image 3."""
    return int(value) if float(value).is_integer() else value


def _sort_key(value: Any) -> tuple[bool, float]:
    return (value is None, 0.0 if value is None else float(value))
