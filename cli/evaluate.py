"""`modelledger evaluate`: exact metrics of two NDJSON files, offline (no server, no database).

The data rows are the union of both files' rows (by globalKey or id), all evaluated; a line
holding only "dataRow" adds its row with nothing on it. Output (C confidence thresholds, T
IoU thresholds, every table indexed [c][t]):

    {"confidence_thresholds": [...], "iou_thresholds": [...],
     "features": {"<feature>": {"tp", "fp", "fn", "tn", "precision", "recall", "f1", "iou"}},
     "confusion": {"labels": [<features>..., null], "matrices": C×T×L×L},
     "data_rows": {"<globalKey or id>": {"tp", "fp", "fn", "tn", "iou"}}}    # --per-row only

Ratios are null where undefined. Free-text answers are never matched, so they have no
entry in "features" or "confusion".

Crowd regions and areas (docs/metrics.md §9) are read from the ground-truth file only; a
prediction line with "iscrowd" or "area" is an error naming its line.

A feature is used with one geometry throughout, except that polygons and masks may share a
feature (a POLYGON tool takes both): such a polygon and mask on one row are compared as
pixels, the polygon rasterised at the row's mask size.

`--format coco` reads a COCO instances file and a COCO results file instead, converts them
to the lines above (docs/formats.md) and prints the 12 COCO numbers of `--coco` for
`--iou-type` bbox or segm, polygons drawn at each image's size.
"""

from __future__ import annotations

import gc
import math
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import orjson
import typer

from cli.main import app
from domain.annotations.objects import Annotation, Answer, Box, Mask
from domain.annotations.validation import TOOL_GEOMETRY
from domain.errors import AnnotationLineError
from domain.metric_settings import DEFAULT_THRESHOLDS
from domain.ontology_features import Tool


class InputError(Exception):
    """A problem in an input file, reported as "FILE:LINE: reason"."""


class _Rows:
    """Both files' objects per data row, in first-seen row order and upload order."""

    def __init__(self) -> None:
        # A row named by globalKey and a row named by id are different rows.
        self.by_global_key: dict[str, int] = {}
        self.by_id: dict[str, int] = {}
        self.names: list[str] = []
        self.ground_truth: list[list[Annotation]] = []
        self.predictions: list[list[Annotation]] = []
        # feature -> (geometry type, question, where first seen), to name the clashing line
        self.kinds: dict[str, tuple[type, str, str]] = {}
        self.mask_sizes: dict[int, tuple[int, int, str]] = {}

    def add(self, index: dict[str, int], key: str) -> int:
        r = index[key] = len(self.names)
        self.names.append(key)
        self.ground_truth.append([])
        self.predictions.append([])
        return r

    def check(self, r: int, annotation: Annotation, where: str) -> None:
        geometry = annotation.geometry
        question = geometry.question if type(geometry) is Answer else ""
        kind = (type(geometry), question)
        seen = self.kinds.setdefault(annotation.feature, (*kind, where))
        if seen[:2] != kind and not {seen[0], kind[0]} <= _SHARED:
            raise InputError(
                f"{where}: feature {annotation.feature!r} is a {_kind(*kind)} here "
                f"but a {_kind(*seen[:2])} at {seen[2]}"
            )
        if type(geometry) is Mask:
            size = self.mask_sizes.setdefault(r, (geometry.height, geometry.width, where))
            if size[:2] != (geometry.height, geometry.width):
                raise InputError(
                    f"{where}: mask of {geometry.height}x{geometry.width} on a data row whose "
                    f"masks are {size[0]}x{size[1]} (at {size[2]})"
                )


def _kind(geometry: type, question: str) -> str:
    name = geometry.__name__.lower()
    return f"answer of {question!r}" if question else name


def read_file(path: Path, rows: _Rows, ground_truth: bool) -> None:
    """Streams one NDJSON file into `rows`; raises InputError naming the line."""
    with path.open("rb") as lines:
        read_lines(lines, rows, ground_truth, lambda line_no: f"{path}:{line_no}")


def read_lines(
    lines: Iterable[bytes], rows: _Rows, ground_truth: bool, where: Callable[[int], str]
) -> None:
    """Reads NDJSON lines into `rows`; an InputError names the line by `where(line_no)`
    (a file's line, or the object of a COCO file the line was made from)."""
    from domain.annotations.box_columns import BoxLines
    from domain.annotations.ndjson.lines import parse_annotation_line

    parse, loads, decode_error = parse_annotation_line, orjson.loads, orjson.JSONDecodeError
    prediction = not ground_truth
    sides = rows.ground_truth if ground_truth else rows.predictions
    add, check, kinds = rows.add, rows.check, rows.kinds
    by_global_key, by_id = rows.by_global_key, rows.by_id
    # A plain box prediction of a feature already seen as boxes is gathered as columns
    # (domain.annotations.box_columns: it takes only lines the parser below accepts, and
    # gives the same annotations); its row holds its place in the gathering until all are
    # built at the end. The command on 5,000 images, 36,000 boxes, 500,000 predicted boxes,
    # eleven runs each: 5.82-7.43 s (mean 6.40) with every line parsed, 5.04-6.76 s (mean
    # 5.90) so.
    boxes = BoxLines({}) if prediction else None
    taken = 0
    # This loop runs once per line (hundreds of thousands): the usual line, an object of an
    # already seen feature and kind on a known row, costs a decode, a parse and a few
    # dictionary look-ups.
    for line_no, line in enumerate(lines, 1):
        try:
            obj = loads(line)
        except decode_error as exc:
            if not line.strip():
                continue  # blank lines are allowed
            raise InputError(f"{where(line_no)}: not valid JSON ({exc})") from None
        if (
            boxes is not None
            and type(obj) is dict
            and type(name := obj.get("name")) is str
            and (seen := kinds.get(name)) is not None
            and seen[0] is Box
            and boxes.take(obj, line_no)
        ):
            annotations = None
            named = obj["dataRow"]
            key = named.get("globalKey")
            index = by_global_key
            if key is None:
                key, index = named["id"], by_id
        else:
            try:
                ref, annotations = parse(obj, line_no, prediction=prediction)
            except AnnotationLineError as exc:
                raise InputError(f"{where(line_no)}: {exc.reason}") from None
            key = ref.global_key
            index = by_global_key
            if key is None:
                key, index = ref.id, by_id
        r = index.get(key)
        if r is None:
            r = add(index, key)
        if annotations is None:
            sides[r].append(taken)  # type: ignore[arg-type]  # a stand-in: the box's index among those gathered, replaced below
            taken += 1
            continue
        for annotation in annotations:
            geometry_type = type(annotation.geometry)
            seen = kinds.get(annotation.feature)
            if seen is None or seen[0] is not geometry_type or geometry_type in _CHECKED:
                check(r, annotation, where(line_no))
        sides[r].extend(annotations)
    if taken:
        assert boxes is not None
        built = boxes.finish().annotations()
        for r, objects in enumerate(sides):
            sides[r] = [built[o] if type(o) is int else o for o in objects]


# Geometries whose check needs more than the feature's type: the question, the row's size.
_CHECKED = (Answer, Mask)
# Geometries one feature may hold together: a feature with both is a POLYGON tool's.
_SHARED = frozenset(TOOL_GEOMETRY[Tool.POLYGON])


def parse_thresholds(text: str | None, option: str) -> tuple[float, ...]:
    """Comma-separated thresholds in [0, 1], each the float its decimal text denotes."""
    if text is None:
        return DEFAULT_THRESHOLDS
    values = []
    for token in text.split(","):
        try:
            value = float(token.strip())
        except ValueError:
            raise typer.BadParameter(
                f"{token.strip()!r} is not a number", param_hint=option
            ) from None
        if not (math.isfinite(value) and 0.0 <= value <= 1.0):
            raise typer.BadParameter(f"{token.strip()} is not in [0, 1]", param_hint=option)
        values.append(value)
    return tuple(values)


def _nullable(values: np.ndarray) -> list[Any]:
    """Nested lists with NaN (an undefined ratio) as None."""
    out = values.astype(object)
    out[np.isnan(values)] = None
    return out.tolist()


def report(
    rows: _Rows,
    confidences: tuple[float, ...],
    ious: tuple[float, ...],
    radius: float,
    per_row: bool,
) -> dict[str, Any]:
    from domain.metrics import build_objects, grid, match

    objects = build_objects(rows.ground_truth, rows.predictions)
    table = grid(match(objects, confidences, radius), ious, per_row=per_row)
    m = table.per_feature
    features = {
        name: {
            "tp": m.tp[:, :, k].tolist(),
            "fp": m.fp[:, :, k].tolist(),
            "fn": m.fn[:, :, k].tolist(),
            "tn": m.tn[:, :, k].tolist(),
            "precision": _nullable(m.precision[:, :, k]),
            "recall": _nullable(m.recall[:, :, k]),
            "f1": _nullable(m.f1[:, :, k]),
            "iou": _nullable(m.iou[:, :, k]),
        }
        for k, name in enumerate(table.features)
    }
    out: dict[str, Any] = {
        "confidence_thresholds": list(confidences),
        "iou_thresholds": list(ious),
        "features": features,
        "confusion": {"labels": [*table.features, None], "matrices": table.confusion.tolist()},
    }
    if per_row and table.per_row is not None:
        r = table.per_row
        out["data_rows"] = {
            name: {
                "tp": r.tp[:, :, i].tolist(),
                "fp": r.fp[:, :, i].tolist(),
                "fn": r.fn[:, :, i].tolist(),
                "tn": r.tn[:, :, i].tolist(),
                "iou": _nullable(r.iou[:, :, i]),
            }
            for i, name in enumerate(rows.names)
        }
    return out


def coco_report(
    rows: _Rows,
    iou_type: Literal["bbox", "segm"] | None = None,
    image_sizes: dict[str, tuple[int, int]] | None = None,
) -> dict[str, Any]:
    # Imported here: COCO mode is optional and its module is not needed otherwise.
    from domain.metrics.coco.evaluation import evaluate_coco

    keys = rows.names
    ground_truth = dict(zip(keys, rows.ground_truth, strict=True))
    predictions = dict(zip(keys, rows.predictions, strict=True))
    return dict(evaluate_coco(ground_truth, predictions, iou_type, image_sizes=image_sizes))


def read_coco(
    instances_path: Path, results_path: Path, iou_type: Literal["bbox", "segm"], rows: _Rows
) -> dict[str, tuple[int, int]]:
    """A COCO instances file and a results file, converted to the lines `read_lines` reads
    (the images in id order, as COCO evaluation takes them); the images' (height, width)
    per global key, the size polygons are drawn at. Errors name the COCO object."""
    # Imported here: the client's COCO conversion is needed by this mode only.
    try:
        from modelledger_client.formats import coco
    except ImportError:
        raise InputError(
            "--format coco needs the Python client: pip install ./clients/python"
        ) from None

    try:
        instances = coco.load_instances(instances_path)
        truth, truth_origins = coco.ground_truth_lines(instances, iou_type)
        geometry = dict.fromkeys(instances.names_by_category.values(), iou_type)
        detections = coco.load_results(results_path)
        found, found_origins = coco.prediction_lines(
            str(results_path), detections, instances, geometry
        )
    except coco.FormatError as exc:
        raise InputError(str(exc)) from None
    read_lines(map(orjson.dumps, truth), rows, True, lambda line_no: truth_origins[line_no - 1])
    read_lines(map(orjson.dumps, found), rows, False, lambda line_no: found_origins[line_no - 1])
    return coco.image_sizes(instances)


@app.command()
def evaluate(
    ground_truth: Annotated[
        Path,
        typer.Option(
            "--ground-truth",
            help="NDJSON of ground-truth annotations (with --format coco: COCO instances).",
            exists=True,
            dir_okay=False,
        ),
    ],
    predictions: Annotated[
        Path,
        typer.Option(
            "--predictions",
            help="NDJSON of predictions (with --format coco: COCO results).",
            exists=True,
            dir_okay=False,
        ),
    ],
    confidence_thresholds: Annotated[
        str | None,
        typer.Option(help="Comma-separated, in [0, 1]. Default 0,0.1,...,1.0.", show_default=False),
    ] = None,
    iou_thresholds: Annotated[
        str | None,
        typer.Option(help="Comma-separated, in [0, 1]. Default 0,0.1,...,1.0.", show_default=False),
    ] = None,
    point_radius: Annotated[
        float, typer.Option(help="Radius points and lines are buffered by, in pixels.")
    ] = 70.0,
    per_row: Annotated[
        bool, typer.Option("--per-row", help="Add counts and IoU per data row.")
    ] = False,
    output: Annotated[
        Path | None, typer.Option(help="Write the JSON here instead of printing it.")
    ] = None,
    coco: Annotated[
        bool, typer.Option("--coco", help="Print the 12 COCO numbers instead.")
    ] = False,
    input_format: Annotated[
        str,
        typer.Option(
            "--format",
            help="ndjson, or coco: the ground truth is a COCO instances file and the "
            "predictions a COCO results file; prints the 12 COCO numbers.",
        ),
    ] = "ndjson",
    iou_type: Annotated[
        str, typer.Option(help="With --format coco: bbox or segm, as COCO evaluation's iouType.")
    ] = "bbox",
) -> None:
    """Exact metrics of predictions against ground truth at every (confidence, IoU) threshold.

    Data rows are the union of both files' rows. Prints JSON: per feature TP, FP, FN, TN,
    precision, recall, F1 and IoU, and confusion matrices, each a list per confidence
    threshold of lists per IoU threshold.
    """
    confidences = parse_thresholds(confidence_thresholds, "--confidence-thresholds")
    ious = parse_thresholds(iou_thresholds, "--iou-thresholds")
    if not (math.isfinite(point_radius) and point_radius > 0):
        raise typer.BadParameter("must be a positive number", param_hint="--point-radius")
    if input_format not in ("ndjson", "coco"):
        raise typer.BadParameter("must be ndjson or coco", param_hint="--format")
    if iou_type not in ("bbox", "segm"):
        raise typer.BadParameter("must be bbox or segm", param_hint="--iou-type")
    coco_iou_type: Literal["bbox", "segm"] = "bbox" if iou_type == "bbox" else "segm"
    rows = _Rows()
    # Reading creates an object or more per line and keeps them all, none in a reference
    # cycle: the cyclic collector would only rescan the growing heap, again and again (it
    # doubled the reading time of a 500,000-line file).
    collecting = gc.isenabled()
    gc.disable()
    try:
        if input_format == "coco":
            sizes = read_coco(ground_truth, predictions, coco_iou_type, rows)
            result = coco_report(rows, coco_iou_type, sizes)
        else:
            read_file(ground_truth, rows, ground_truth=True)
            read_file(predictions, rows, ground_truth=False)
            result = (
                coco_report(rows)
                if coco
                else report(rows, confidences, ious, point_radius, per_row)
            )
    except (InputError, OSError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    finally:
        if collecting:
            gc.enable()
    data = orjson.dumps(result) + b"\n"
    if output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        output.write_bytes(data)
