"""COCO files to the NDJSON line formats, in pure Python, and what both directions share.

Import: a COCO instances file gives data-row lines (one per image, its annotations as
labels), an ontology (one feature per category) and a run config that keeps the category
ids; a COCO results file gives prediction lines. The way back, from a run's rows to the
instances and the results, is in coco_export.py. What maps to what is described in
docs/formats.md.

Nothing COCO keeps is lost on the way through the server: image ids and file names go
into each row's metadata, annotation ids too (in label order, since a label has no place
for one), and category ids and supercategories into the run's config."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from modelledger_client.formats import rle

Geometry = Literal["bbox", "segm"]
GEOMETRIES: tuple[Geometry, ...] = ("bbox", "segm")
TOOLS: dict[Geometry, str] = {"bbox": "BBOX", "segm": "POLYGON"}

IMAGE_ID = "coco_image_id"
FILE_NAME = "file_name"
ANNOTATION_IDS = "coco_annotation_ids"
CATEGORY_ID = "coco_category_id/"
SUPERCATEGORY = "coco_supercategory/"

JsonObject = dict[str, Any]


class FormatError(ValueError):
    """A COCO or NDJSON input that cannot be converted; the message names the file and the
    object (an annotation's or image's id, a detection's position) or the line."""


@dataclass(frozen=True)
class Category:
    id: int
    name: str
    supercategory: str | None = None


@dataclass(frozen=True)
class Instances:
    """A COCO instances file, checked: every annotation names a known image and category."""

    source: str
    images: list[JsonObject]
    categories: list[Category]
    annotations: list[JsonObject]

    @property
    def images_by_id(self) -> dict[Any, JsonObject]:
        return {image["id"]: image for image in self.images}

    @property
    def names_by_category(self) -> dict[Any, str]:
        return {category.id: category.name for category in self.categories}


# ----------------------------------------------------------------------------- reading


def read_json(path: str | os.PathLike[str]) -> Any:
    """The document of a JSON file; a FormatError names the file and the position."""
    try:
        with open(path, "rb") as file:
            return json.load(file)
    except json.JSONDecodeError as exc:
        raise FormatError(
            f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None


def load_instances(path: str | os.PathLike[str]) -> Instances:
    """A COCO instances file, with the checks an import needs before anything is sent."""
    document = read_json(path)
    source = str(path)
    if not isinstance(document, dict):
        raise FormatError(f"{source}: a COCO instances file is a JSON object")
    images = _list(document, "images", source)
    categories = [_category(raw, source) for raw in _list(document, "categories", source)]
    instances = Instances(source, images, categories, _list(document, "annotations", source))
    _check_unique(instances)
    known_images, names = instances.images_by_id, instances.names_by_category
    for annotation in instances.annotations:
        where = _where(source, "annotation", annotation)
        if annotation.get("image_id") not in known_images:
            raise FormatError(
                f"{where}: image_id {annotation.get('image_id')!r} is not an image of the file"
            )
        if annotation.get("category_id") not in names:
            raise FormatError(
                f"{where}: category_id {annotation.get('category_id')!r} is not a category of the file"
            )
    return instances


def load_results(path: str | os.PathLike[str]) -> list[JsonObject]:
    """A COCO results file: a list of detections."""
    document = read_json(path)
    if not isinstance(document, list) or not all(isinstance(item, dict) for item in document):
        raise FormatError(f"{path}: a COCO results file is a JSON list of detection objects")
    return document


def _list(document: JsonObject, key: str, source: str) -> list[JsonObject]:
    value = document.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise FormatError(f"{source}: {key!r} must be a list of objects")
    return value


def _category(raw: JsonObject, source: str) -> Category:
    where = _where(source, "category", raw)
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        raise FormatError(f"{where}: a category needs a non-empty name, got {name!r}")
    supercategory = raw.get("supercategory")
    return Category(raw.get("id"), name, supercategory if isinstance(supercategory, str) else None)  # type: ignore[arg-type]  # the file's id as it is: only matched, never computed with


def _check_unique(instances: Instances) -> None:
    """Category names become feature names and file names global keys: both must be unique,
    as must every id."""
    checks: list[tuple[str, str, Iterable[tuple[Any, Any]]]] = [
        ("category", "id", ((c.id, c.id) for c in instances.categories)),
        ("category", "name", ((c.id, c.name) for c in instances.categories)),
        ("image", "id", ((i.get("id"), i.get("id")) for i in instances.images)),
        ("image", FILE_NAME, ((i.get("id"), i.get(FILE_NAME)) for i in instances.images)),
        ("annotation", "id", ((a.get("id"), a.get("id")) for a in instances.annotations)),
    ]
    for kind, field, pairs in checks:
        seen: dict[Any, Any] = {}
        for object_id, value in pairs:
            if value in seen:
                raise FormatError(
                    f"{instances.source}: {kind} {object_id!r} has the {field} {value!r} of another {kind}"
                )
            seen[value] = object_id
    for image in instances.images:
        if not isinstance(image.get(FILE_NAME), str) or not image[FILE_NAME]:
            raise FormatError(
                f"{_where(instances.source, 'image', image)}: an image needs a file_name"
            )


def _where(source: str, kind: str, item: JsonObject) -> str:
    return f"{source}: {kind} {item.get('id')!r}"


# ----------------------------------------------------------------------------- import


def ontology(instances: Instances, geometry: Geometry) -> JsonObject:
    """An OntologyInput: one tool per category, in the file's order."""
    return {"tools": [{"name": c.name, "tool": TOOLS[geometry]} for c in instances.categories]}


def run_config(instances: Instances) -> JsonObject:
    """The config keys that keep the categories' ids and supercategories."""
    config: JsonObject = {CATEGORY_ID + c.name: c.id for c in instances.categories}
    config.update(
        {SUPERCATEGORY + c.name: c.supercategory for c in instances.categories if c.supercategory}
    )
    return config


def default_row_data(image: JsonObject) -> str:
    """Where the image is when it is not uploaded: its COCO URL, else its file name."""
    return str(image.get("coco_url") or image.get("flickr_url") or image[FILE_NAME])


def data_row_lines(
    instances: Instances,
    geometry: Geometry,
    row_data: Callable[[JsonObject], str] = default_row_data,
) -> list[JsonObject]:
    """One data-row line per image, in the file's order, its annotations as labels."""
    per_image = _annotations_per_image(instances)
    names = instances.names_by_category
    lines = []
    for image in instances.images:
        annotations = per_image.get(image["id"], [])
        metadata: JsonObject = {IMAGE_ID: image["id"], FILE_NAME: image[FILE_NAME]}
        if annotations:
            metadata[ANNOTATION_IDS] = ",".join(str(a.get("id")) for a in annotations)
        line: JsonObject = {
            "globalKey": image[FILE_NAME],
            "rowData": row_data(image),
            "metadata": metadata,
        }
        if "width" in image and "height" in image:
            line["width"], line["height"] = image["width"], image["height"]
        line["labels"] = [label_object(instances.source, a, names, geometry) for a in annotations]
        lines.append(line)
    return lines


def ground_truth_lines(
    instances: Instances, geometry: Geometry
) -> tuple[list[JsonObject], list[str]]:
    """Annotation lines (each naming its row) in image id order, a line with only the row
    for every image: the order COCO evaluation goes through images. Beside each line, the
    object it came from, to name it in an error."""
    per_image = _annotations_per_image(instances)
    names = instances.names_by_category
    lines: list[JsonObject] = []
    origins: list[str] = []
    for image in sorted(instances.images, key=lambda image: image["id"]):
        row = {"globalKey": image[FILE_NAME]}
        lines.append({"dataRow": row})
        origins.append(_where(instances.source, "image", image))
        for annotation in per_image.get(image["id"], []):
            lines.append(
                {"dataRow": row, **label_object(instances.source, annotation, names, geometry)}
            )
            origins.append(_where(instances.source, "annotation", annotation))
    return lines, origins


def prediction_lines(
    source: str,
    detections: list[JsonObject],
    instances: Instances,
    geometry: Mapping[str, Geometry],
) -> tuple[list[JsonObject], list[str]]:
    """Prediction lines, grouped by image (an upload replaces a row's predictions, so they
    go together) in the order images first appear, each image's in the file's order; beside
    each line, the detection it came from. `geometry` is the geometry per category name."""
    images, names = instances.images_by_id, instances.names_by_category
    order = {
        image_id: n
        for n, image_id in enumerate(dict.fromkeys(d.get("image_id") for d in detections))
    }
    numbered = sorted(enumerate(detections, 1), key=lambda item: order[item[1].get("image_id")])
    lines: list[JsonObject] = []
    origins: list[str] = []
    for number, detection in numbered:
        where = f"{source}: detection {number} (image_id {detection.get('image_id')!r})"
        image = images.get(detection.get("image_id"))
        name = names.get(detection.get("category_id"))
        if image is None or name is None:
            wrong = "image_id" if image is None else "category_id"
            raise FormatError(
                f"{where}: {wrong} {detection.get(wrong)!r} is not in {instances.source}"
            )
        score = detection.get("score")
        if not isinstance(score, int | float) or isinstance(score, bool):
            raise FormatError(f"{where}: a detection needs a numeric score, got {score!r}")
        line = {"dataRow": {"globalKey": image[FILE_NAME]}, "name": name}
        line.update(_geometry(where, detection, geometry[name]))
        line["confidence"] = score
        lines.append(line)
        origins.append(where)
    return lines, origins


def image_sizes(instances: Instances) -> dict[str, tuple[int, int]]:
    """(height, width) per global key, the size COCO draws polygons at."""
    return {
        i[FILE_NAME]: (i["height"], i["width"])
        for i in instances.images
        if "height" in i and "width" in i
    }


def label_object(
    source: str, annotation: JsonObject, names: Mapping[Any, str], geometry: Geometry
) -> JsonObject:
    """A COCO annotation as an annotation object: its geometry, `iscrowd` and `area`."""
    where = _where(source, "annotation", annotation)
    label: JsonObject = {"name": names[annotation.get("category_id")]}
    label.update(_geometry(where, annotation, geometry))
    if annotation.get("iscrowd"):
        label["iscrowd"] = True
    if "area" in annotation:
        label["area"] = annotation["area"]
    return label


def _annotations_per_image(instances: Instances) -> dict[Any, list[JsonObject]]:
    per_image: dict[Any, list[JsonObject]] = {}
    for annotation in instances.annotations:
        per_image.setdefault(annotation["image_id"], []).append(annotation)
    return per_image


def _geometry(where: str, item: JsonObject, geometry: Geometry) -> JsonObject:
    """The geometry key of an annotation object: a box in bbox mode (from the segmentation
    when there is no box, as COCO does); in segm mode the polygon rings or the RLE mask,
    or, without a segmentation, the box's four corners, as COCO turns a box result into one."""
    segmentation = item.get("segmentation")
    box = item.get("bbox")
    if geometry == "bbox":
        if box is None and segmentation:
            box = _segmentation_box(where, segmentation)
        return {"bbox": _box(where, box)}
    if not segmentation:
        left, top, width, height = _box(where, box).values()
        corners = [left, top, left, top + height, left + width, top + height, left + width, top]
        return {"polygon": [_ring(where, corners)]}
    if isinstance(segmentation, list):
        return {"polygon": [_ring(where, ring) for ring in segmentation]}
    return {"mask": {"rle": _rle(where, segmentation)}}


def _box(where: str, box: Any) -> JsonObject:
    if not (isinstance(box, list) and len(box) == 4 and all(_is_number(v) for v in box)):
        raise FormatError(f"{where}: bbox must be [x, y, width, height], got {box!r}")
    return {"left": box[0], "top": box[1], "width": box[2], "height": box[3]}


def _ring(where: str, ring: Any) -> list[JsonObject]:
    if not (isinstance(ring, list) and len(ring) % 2 == 0 and all(_is_number(v) for v in ring)):
        raise FormatError(
            f"{where}: a polygon ring must be a flat list [x1, y1, x2, y2, ...], got {ring!r}"
        )
    return [{"x": x, "y": y} for x, y in zip(ring[::2], ring[1::2], strict=True)]


def _rle(where: str, segmentation: Any) -> JsonObject:
    size = segmentation.get("size") if isinstance(segmentation, dict) else None
    counts = segmentation.get("counts") if isinstance(segmentation, dict) else None
    if not (isinstance(size, list) and len(size) == 2 and isinstance(counts, str | list)):
        raise FormatError(f"{where}: segmentation must be polygon rings or an RLE {{size, counts}}")
    return {"size": size, "counts": counts}


def _segmentation_box(where: str, segmentation: Any) -> list[float]:
    if isinstance(segmentation, list):
        return extent([point for ring in segmentation for point in _ring(where, ring)])
    found = _rle(where, segmentation)
    return rle.bounding_box(found["counts"], found["size"][0])


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def extent(points: list[JsonObject]) -> list[float]:
    xs = [point["x"] for point in points]
    ys = [point["y"] for point in points]
    return [min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)]
