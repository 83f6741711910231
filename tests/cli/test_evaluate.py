"""`modelledger evaluate` end to end on small hand-made files: exact numbers, and errors."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from cli.main import app

runner = CliRunner()


def bbox(left: float, top: float, width: float, height: float) -> dict[str, float]:
    return {"left": left, "top": top, "width": width, "height": height}


GROUND_TRUTH = [
    {"dataRow": {"globalKey": "a"}, "name": "car", "bbox": bbox(0, 0, 10, 10)},
    {"dataRow": {"globalKey": "a"}, "name": "dog", "bbox": bbox(20, 20, 10, 10)},
    {"dataRow": {"globalKey": "b"}, "name": "car", "bbox": bbox(0, 0, 10, 10)},
    {"dataRow": {"globalKey": "b"}, "name": "caption", "answer": "a red car"},
    {"dataRow": {"globalKey": "c"}},
    {"dataRow": {"globalKey": "a"}, "name": "weather", "answer": {"name": "sunny"}},
]
PREDICTIONS = [
    # IoU 1/3 with the car of row a.
    {"dataRow": {"globalKey": "a"}, "name": "car", "bbox": bbox(5, 0, 10, 10), "confidence": 0.9},
    # IoU 1 with the dog of row a: a cross-feature pair while active (c < 0.4).
    {"dataRow": {"globalKey": "a"}, "name": "car", "bbox": bbox(20, 20, 10, 10), "confidence": 0.4},
    # No confidence: 1. Pairs with "weather/sunny" (IoU 1).
    {"dataRow": {"globalKey": "a"}, "name": "weather", "answer": {"name": "rainy"}},
    {"dataRow": {"id": "d"}, "name": "dog", "bbox": bbox(0, 0, 10, 10), "confidence": 0.6},
    {"dataRow": {"globalKey": "c"}},
]


def mask(pixels: list[list[int]]) -> dict:
    """The NDJSON value of a mask: COCO compressed RLE of the pixels."""
    import numpy as np
    from pycocotools import mask as mask_api

    rle = mask_api.encode(np.asfortranarray(np.array(pixels, dtype=np.uint8)))
    return {"rle": {"size": list(rle["size"]), "counts": rle["counts"].decode("ascii")}}


def polygon(*points: tuple[float, float]) -> list[dict[str, float]]:
    return [{"x": x, "y": y} for x, y in points]


def write(path: Path, lines: list[dict]) -> Path:
    path.write_bytes(b"".join(orjson.dumps(line) + b"\n" for line in lines))
    return path


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    return write(tmp_path / "gt.ndjson", GROUND_TRUTH), write(tmp_path / "pred.ndjson", PREDICTIONS)


def evaluate(*args: str | Path) -> tuple[int, str, str]:
    result = runner.invoke(app, ["evaluate", *map(str, args)])
    return result.exit_code, result.stdout, result.stderr


def test_the_report_has_the_exact_numbers(files: tuple[Path, Path]) -> None:
    gt, pred = files
    code, out, err = evaluate(
        "--ground-truth", gt, "--predictions", pred,
        "--confidence-thresholds", "0,0.5", "--iou-thresholds", "0, 0.5", "--per-row",
    )  # fmt: skip
    assert code == 0, err
    report = orjson.loads(out)
    assert report["confidence_thresholds"] == [0.0, 0.5]
    assert report["iou_thresholds"] == [0.0, 0.5]
    # Free text ("caption") is never matched: no entry.
    assert list(report["features"]) == ["car", "dog", "weather/rainy", "weather/sunny"]
    car, dog = report["features"]["car"], report["features"]["dog"]
    # [c][t]: at c = 0 the 0.4 car takes the dog; at t = 0.5 the 1/3 pair is cut.
    assert car["tp"] == [[1, 0], [1, 0]]
    assert car["fp"] == [[1, 2], [0, 1]]
    assert car["fn"] == [[1, 2], [1, 2]]
    assert car["tn"] == [[2, 2], [2, 2]]  # rows c and d
    assert car["precision"] == [[0.5, 0.0], [1.0, 0.0]]
    assert car["recall"] == [[0.5, 0.0], [0.5, 0.0]]
    assert car["f1"] == [[0.5, 0.0], [2 / 3, 0.0]]
    assert car["iou"] == [[(1 / 3) / 3, 0.0], [(1 / 3) / 2, 0.0]]
    assert dog["tp"] == [[0, 0], [0, 0]]
    assert dog["fp"] == [[1, 1], [1, 1]]  # row d
    assert dog["fn"] == [[1, 1], [1, 1]]
    assert dog["precision"] == [[0.0, 0.0], [0.0, 0.0]]
    sunny, rainy = report["features"]["weather/sunny"], report["features"]["weather/rainy"]
    assert sunny["fn"] == [[1, 1], [1, 1]] and sunny["tn"] == [[3, 3], [3, 3]]
    assert sunny["precision"] == [[None, None], [None, None]]  # no prediction of it
    assert rainy["fp"] == [[1, 1], [1, 1]] and rainy["recall"] == [[None, None], [None, None]]

    confusion = report["confusion"]
    assert confusion["labels"] == ["car", "dog", "weather/rainy", "weather/sunny", None]
    assert confusion["matrices"][0][0] == [
        [1, 0, 0, 0, 1],
        [1, 0, 0, 0, 0],
        [0, 0, 0, 0, 0],
        [0, 0, 1, 0, 0],
        [0, 1, 0, 0, 0],
    ]
    assert confusion["matrices"][1][1] == [
        [0, 0, 0, 0, 2],
        [0, 0, 0, 0, 1],
        [0, 0, 0, 0, 0],
        [0, 0, 1, 0, 0],
        [1, 1, 0, 0, 0],
    ]

    rows = report["data_rows"]
    assert list(rows) == ["a", "b", "c", "d"]
    assert rows["a"]["tp"] == [[1, 0], [1, 0]]
    assert rows["a"]["fp"] == [[2, 3], [1, 2]]
    assert rows["a"]["fn"] == [[2, 3], [2, 3]]
    assert rows["a"]["tn"] == [[0, 0], [0, 0]]  # every feature is on row a
    assert rows["a"]["iou"][0][0] == pytest.approx(((1 / 3) / 2) / 4)
    assert rows["b"] == {"tp": [[0, 0], [0, 0]], "fp": [[0, 0], [0, 0]], "fn": [[1, 1], [1, 1]],
                         "tn": [[3, 3], [3, 3]], "iou": [[0.0, 0.0], [0.0, 0.0]]}  # fmt: skip
    assert rows["c"]["tn"] == [[4, 4], [4, 4]] and rows["c"]["iou"] == [[None, None], [None, None]]
    assert rows["d"]["fp"] == [[1, 1], [1, 1]] and rows["d"]["tn"] == [[3, 3], [3, 3]]


def test_defaults_and_no_per_row(files: tuple[Path, Path]) -> None:
    gt, pred = files
    code, out, err = evaluate("--ground-truth", gt, "--predictions", pred)
    assert code == 0, err
    report = orjson.loads(out)
    grid = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]
    assert report["confidence_thresholds"] == grid and report["iou_thresholds"] == grid
    assert out.startswith(
        '{"confidence_thresholds":[0.0,0.1,0.2,0.3,'
    )  # as written, not 0.30000000000000004
    assert "data_rows" not in report
    matrices = report["confusion"]["matrices"]
    assert len(matrices) == 11 and len(matrices[0]) == 11 and len(matrices[0][0]) == 5
    assert report["features"]["car"]["tp"][0][10] == 0  # t = 1 matches nothing


def test_output_file(files: tuple[Path, Path], tmp_path: Path) -> None:
    gt, pred = files
    target = tmp_path / "report.json"
    code, out, _ = evaluate("--ground-truth", gt, "--predictions", pred, "--output", target)
    assert code == 0 and out == ""
    assert orjson.loads(target.read_bytes())["features"]["car"]["tp"][0][0] == 1


def test_point_radius(tmp_path: Path) -> None:
    gt = write(
        tmp_path / "gt.ndjson",
        [{"dataRow": {"globalKey": "a"}, "name": "eye", "point": {"x": 0, "y": 0}}],
    )
    pred = write(
        tmp_path / "pred.ndjson",
        [{"dataRow": {"globalKey": "a"}, "name": "eye", "point": {"x": 100, "y": 0}}],
    )
    args = (
        "--ground-truth",
        gt,
        "--predictions",
        pred,
        "--confidence-thresholds",
        "0",
        "--iou-thresholds",
        "0",
    )
    assert orjson.loads(evaluate(*args)[1])["features"]["eye"]["tp"] == [[1]]  # radius 70
    assert orjson.loads(evaluate(*args, "--point-radius", "50")[1])["features"]["eye"]["tp"] == [
        [0]
    ]


def test_coco_mode(files: tuple[Path, Path]) -> None:
    from domain.annotations.ndjson.lines import parse_annotation_line
    from domain.metrics.coco.evaluation import evaluate_coco

    gt, pred = files
    code, out, err = evaluate("--ground-truth", gt, "--predictions", pred, "--coco")
    assert code == 0, err
    rows: dict[str, tuple[list, list]] = {}
    for side, lines in enumerate((GROUND_TRUTH, PREDICTIONS)):
        for number, line in enumerate(lines, 1):
            ref, annotations = parse_annotation_line(line, number)
            key = ref.global_key or ref.id
            rows.setdefault(key, ([], []))[side].extend(annotations)  # type: ignore[arg-type]
    expected = evaluate_coco({k: v[0] for k, v in rows.items()}, {k: v[1] for k, v in rows.items()})
    assert orjson.loads(out) == pytest.approx(expected)
    assert len(expected) == 12


@pytest.mark.parametrize(
    ("which", "line", "message"),
    [
        ("gt", b'{"dataRow": {"globalKey": "a"}, "name": "car", "bbox": ', "gt.ndjson:2: not valid JSON"),
        ("pred", b'{"dataRow": {"globalKey": "a"}, "name": "car", "bbox": {"left": 0, "top": 0, "width": -1, "height": 2}}',
         "pred.ndjson:2: bbox of 'car' has width -1"),
        ("pred", b'{"name": "car", "bbox": {"left": 0, "top": 0, "width": 1, "height": 2}}', "pred.ndjson:2: dataRow is missing"),
        ("pred", b'{"dataRow": {"globalKey": "a"}, "name": "car", "point": {"x": 1, "y": 2}}',
         "pred.ndjson:2: feature 'car' is a point here but a box at "),
        ("pred", b'{"dataRow": {"globalKey": "a"}, "name": "car", "bbox": {"left": 0, "top": 0, "width": 1, "height": 2}, "confidence": 2}',
         "pred.ndjson:2: confidence 2 of 'car' is outside [0, 1]"),
        ("pred", b'{"dataRow": {"globalKey": "a"}, "name": ["car"], "bbox": {"left": 0, "top": 0, "width": 1, "height": 2}}',
         "pred.ndjson:2: name ['car'] of the line is not a non-empty string"),
    ],
)  # fmt: skip
def test_a_malformed_line_is_an_error_naming_file_and_line(
    tmp_path: Path, which: str, line: bytes, message: str
) -> None:
    good = b'{"dataRow": {"globalKey": "a"}, "name": "car", "bbox": {"left": 0, "top": 0, "width": 1, "height": 2}}\n'
    gt, pred = tmp_path / "gt.ndjson", tmp_path / "pred.ndjson"
    gt.write_bytes(good + (line + b"\n" if which == "gt" else b""))
    pred.write_bytes(good + (line + b"\n" if which == "pred" else b""))
    target = tmp_path / "report.json"
    code, out, err = evaluate("--ground-truth", gt, "--predictions", pred, "--output", target)
    assert code == 2
    assert out == ""
    assert message in err
    assert not target.exists()


def test_masks_of_one_row_must_share_a_size(tmp_path: Path) -> None:
    def mask(h: int, w: int) -> dict:
        return {
            "dataRow": {"globalKey": "a"},
            "name": "cell",
            "mask": {"rle": {"size": [h, w], "counts": [h * w]}},
        }

    gt = write(tmp_path / "gt.ndjson", [mask(2, 3)])
    pred = write(tmp_path / "pred.ndjson", [mask(3, 3)])
    code, _, err = evaluate("--ground-truth", gt, "--predictions", pred)
    assert code == 2 and "pred.ndjson:1: mask of 3x3" in err and "gt.ndjson:1" in err


@pytest.mark.parametrize(
    "args",
    [
        ("--confidence-thresholds", "0,x"),
        ("--iou-thresholds", "0,1.5"),
        ("--iou-thresholds", "nan"),
        ("--point-radius", "0"),
    ],
)
def test_bad_options_exit_with_2(files: tuple[Path, Path], args: tuple[str, str]) -> None:
    gt, pred = files
    code, out, _ = evaluate("--ground-truth", gt, "--predictions", pred, *args)
    assert code == 2 and out == ""


def test_a_missing_file_exits_with_2(tmp_path: Path, files: tuple[Path, Path]) -> None:
    code, out, _ = evaluate("--ground-truth", tmp_path / "nope.ndjson", "--predictions", files[1])
    assert code == 2 and out == ""


def test_blank_lines_are_skipped_and_line_numbers_still_count_them(tmp_path: Path) -> None:
    line = b'{"dataRow": {"globalKey": "a"}, "name": "car", "bbox": {"left": 0, "top": 0, "width": 1, "height": 2}}'
    gt = tmp_path / "gt.ndjson"
    gt.write_bytes(b"\n" + line + b"\n  \n\n")
    pred = tmp_path / "pred.ndjson"
    pred.write_bytes(line + b"\n\n" + line.replace(b"2}", b"-2}") + b"\n")
    code, _, err = evaluate("--ground-truth", gt, "--predictions", pred)
    assert code == 2 and "pred.ndjson:3: bbox of 'car'" in err
    pred.write_bytes(line + b"\n\n")
    code, out, err = evaluate(
        "--ground-truth", gt, "--predictions", pred, "--iou-thresholds", "0.5"
    )
    assert code == 0, err
    assert orjson.loads(out)["features"]["car"]["tp"][0] == [1]


def test_coco_mode_with_crowd_regions_and_areas_agrees_with_pycocotools(tmp_path: Path) -> None:
    # docs/metrics.md §9: a crowd box matching several predictions, explicit areas moving ground
    # truth between ranges, and a crowd RLE mask in segm mode.
    from domain.annotations.ndjson.lines import parse_annotation_line
    from tests.domain.metrics.test_coco import COCO_KEYS, reference

    def row(key: str) -> dict:
        return {"dataRow": {"globalKey": key}}

    gt_lines = [
        {**row("a"), "name": "person", "bbox": bbox(0, 0, 10, 10), "area": 5000},
        {**row("a"), "name": "person", "bbox": bbox(100, 100, 200, 200), "iscrowd": True},
        {**row("a"), "name": "car", "bbox": bbox(300, 0, 50, 40), "area": 900.5},
        {**row("b"), "name": "person", "bbox": bbox(10, 10, 40, 40)},
        {**row("b"), "name": "car", "bbox": bbox(0, 0, 500, 500), "iscrowd": True, "area": 0},
    ]
    pred_lines = [
        {**row("a"), "name": "person", "bbox": bbox(0, 0, 10, 10), "confidence": 0.6},
        *(
            {**row("a"), "name": "person", "bbox": bbox(100 + 30 * i, 120, 25, 25), "confidence": 0.9 - 0.1 * i}
            for i in range(4)
        ),
        {**row("a"), "name": "car", "bbox": bbox(302, 2, 48, 36), "confidence": 0.7},
        {**row("b"), "name": "person", "bbox": bbox(12, 12, 40, 40), "confidence": 0.3},
        {**row("b"), "name": "car", "bbox": bbox(40, 40, 30, 30), "confidence": 0.95},
    ]
    gt, pred = write(tmp_path / "gt.ndjson", gt_lines), write(tmp_path / "pred.ndjson", pred_lines)
    code, out, err = evaluate("--ground-truth", gt, "--predictions", pred, "--coco")
    assert code == 0, err
    sides: list[dict[str, list]] = [{}, {}]
    for side, lines in enumerate((gt_lines, pred_lines)):
        for number, line in enumerate(lines, 1):
            ref, annotations = parse_annotation_line(line, number)
            sides[side].setdefault(ref.global_key, []).extend(annotations)  # type: ignore[arg-type]
    theirs = reference(sides[0], sides[1], "bbox")
    ours = orjson.loads(out)
    assert list(ours) == list(COCO_KEYS)
    for key in COCO_KEYS:
        assert ours[key] == pytest.approx(theirs[key], abs=1e-6, rel=0), key
    # Without §9 the numbers differ: the crowd and the areas matter here.
    plain = [{k: v for k, v in line.items() if k not in ("iscrowd", "area")} for line in gt_lines]
    code, out, _ = evaluate(
        "--ground-truth", write(tmp_path / "plain.ndjson", plain), "--predictions", pred, "--coco"
    )
    assert orjson.loads(out) != pytest.approx(theirs, abs=1e-6)


def test_coco_segm_with_a_crowd_mask_agrees_with_pycocotools(tmp_path: Path) -> None:
    from domain.annotations.ndjson.lines import parse_annotation_line
    from tests.domain.metrics.test_coco import COCO_KEYS, reference

    region = [[1, 1, 1, 1], [1, 1, 1, 1], [0, 0, 0, 0], [0, 0, 0, 0]]
    cell = [[0, 0, 0, 0], [0, 0, 0, 0], [1, 1, 0, 0], [1, 1, 0, 0]]
    inside = [[1, 1, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]]
    other = [[0, 0, 1, 1], [0, 0, 1, 1], [0, 0, 0, 0], [0, 0, 0, 0]]
    key = {"dataRow": {"globalKey": "a"}}
    gt_lines = [
        {**key, "name": "cell", "mask": mask(region), "iscrowd": True},
        {**key, "name": "cell", "mask": mask(cell), "area": 2000},
    ]
    pred_lines = [
        {**key, "name": "cell", "mask": mask(inside), "confidence": 0.9},
        {**key, "name": "cell", "mask": mask(other), "confidence": 0.8},
        {**key, "name": "cell", "mask": mask(cell), "confidence": 0.5},
    ]
    gt, pred = write(tmp_path / "gt.ndjson", gt_lines), write(tmp_path / "pred.ndjson", pred_lines)
    code, out, err = evaluate("--ground-truth", gt, "--predictions", pred, "--coco")
    assert code == 0, err
    sides: list[dict[str, list]] = [{}, {}]
    for side, lines in enumerate((gt_lines, pred_lines)):
        for number, line in enumerate(lines, 1):
            ref, annotations = parse_annotation_line(line, number)
            sides[side].setdefault(ref.global_key, []).extend(annotations)  # type: ignore[arg-type]
    theirs = reference(sides[0], sides[1], "segm", {"a": (4, 4)})
    ours = orjson.loads(out)
    for k in COCO_KEYS:
        assert ours[k] == pytest.approx(theirs[k], abs=1e-6, rel=0), k
    assert ours["AP"] == pytest.approx(1.0)  # both crowd-covered predictions are ignored


@pytest.mark.parametrize("extra", [{"iscrowd": True}, {"area": 4}])
def test_a_prediction_with_crowd_or_area_is_an_error_naming_its_line(
    tmp_path: Path, extra: dict
) -> None:
    line = {"dataRow": {"globalKey": "a"}, "name": "car", "bbox": bbox(0, 0, 1, 2)}
    gt = write(tmp_path / "gt.ndjson", [line, {**line, **extra}])
    pred = write(tmp_path / "pred.ndjson", [line, {**line, **extra}])
    code, out, err = evaluate("--ground-truth", gt, "--predictions", pred)
    assert code == 2 and out == ""
    assert f"pred.ndjson:2: '{next(iter(extra))}' of 'car' is taken on ground truth only" in err


def test_the_exact_report_leaves_crowd_regions_out(tmp_path: Path) -> None:
    gt = write(
        tmp_path / "gt.ndjson",
        [{"dataRow": {"globalKey": "a"}, "name": "person", "bbox": bbox(0, 0, 100, 100), "iscrowd": True}],
    )
    pred = write(
        tmp_path / "pred.ndjson",
        [{"dataRow": {"globalKey": "a"}, "name": "person", "bbox": bbox(0, 0, 10, 10), "confidence": 0.9}],
    )
    code, out, err = evaluate(
        "--ground-truth", gt, "--predictions", pred, "--confidence-thresholds", "0", "--iou-thresholds", "0.5,1"
    )
    assert code == 0, err
    person = orjson.loads(out)["features"]["person"]
    assert (person["tp"], person["fp"], person["fn"]) == ([[0, 0]], [[0, 1]], [[0, 0]])


def _parsed_sides(*sides: list[dict]) -> list[dict[str, list]]:
    """Each side's lines parsed as the command parses them, by globalKey."""
    from domain.annotations.ndjson.lines import parse_annotation_line

    out: list[dict[str, list]] = [{} for _ in sides]
    for parsed, lines in zip(out, sides, strict=True):
        for number, line in enumerate(lines, 1):
            ref, annotations = parse_annotation_line(line, number)
            parsed.setdefault(ref.global_key, []).extend(annotations)  # type: ignore[arg-type]
    return out


def _pixels(rows: range, columns: range) -> list[list[int]]:
    return [[int(y in rows and x in columns) for x in range(8)] for y in range(8)]


# A POLYGON feature holding a polygon, and a crowd region as a mask, on an 8 × 8 row. The
# square rasterises (as pycocotools does) to the 16 pixels of rows and columns 1 to 4.
MIXED_GROUND_TRUTH = [
    {"dataRow": {"globalKey": "a"}, "name": "person", "polygon": polygon((1, 1), (5, 1), (5, 5), (1, 5))},
    {"dataRow": {"globalKey": "a"}, "name": "person", "mask": mask(_pixels(range(6, 8), range(8))), "iscrowd": True},
    {"dataRow": {"globalKey": "b"}, "name": "person", "mask": mask(_pixels(range(2, 6), range(2, 7)))},
    {"dataRow": {"globalKey": "b"}, "name": "person", "polygon": polygon((0, 0), (3, 0), (3, 3), (0, 3))},
]
MIXED_PREDICTIONS = [
    # The square's left half: IoU 8 / 16 with it.
    {"dataRow": {"globalKey": "a"}, "name": "person", "mask": mask(_pixels(range(1, 5), range(1, 3))), "confidence": 0.9},
    # Rows 6 and 7 once rasterised: all inside the crowd region, so ignored.
    {"dataRow": {"globalKey": "a"}, "name": "person", "polygon": polygon((0, 6), (8, 6), (8, 8), (0, 8)), "confidence": 0.8},
    {"dataRow": {"globalKey": "b"}, "name": "person", "polygon": polygon((2, 2), (7, 2), (7, 6), (2, 6)), "confidence": 0.7},
    {"dataRow": {"globalKey": "b"}, "name": "person", "mask": mask(_pixels(range(0, 3), range(0, 3))), "confidence": 0.6},
]


def test_a_polygon_feature_holding_masks_has_the_exact_numbers(tmp_path: Path) -> None:
    gt = write(tmp_path / "gt.ndjson", MIXED_GROUND_TRUTH)
    pred = write(tmp_path / "pred.ndjson", MIXED_PREDICTIONS)
    code, out, err = evaluate(
        "--ground-truth", gt, "--predictions", pred, "--confidence-thresholds", "0,0.85",
        "--iou-thresholds", "0.4,0.5", "--per-row",
    )  # fmt: skip
    assert code == 0, err
    report = orjson.loads(out)
    person = report["features"]["person"]
    # Row b: each polygon and mask pair of equal pixels, IoU 1 (20 and 9 pixels).
    assert (person["tp"], person["fp"], person["fn"]) == (
        [[3, 2], [1, 0]],
        [[0, 1], [0, 1]],
        [[0, 1], [2, 3]],
    )
    assert report["data_rows"]["a"]["iou"] == [[0.5, 0.0], [0.5, 0.0]]


def test_coco_mode_with_polygons_and_masks_of_one_feature_agrees_with_pycocotools(
    tmp_path: Path,
) -> None:
    from tests.domain.metrics.test_coco import COCO_KEYS, reference

    gt = write(tmp_path / "gt.ndjson", MIXED_GROUND_TRUTH)
    pred = write(tmp_path / "pred.ndjson", MIXED_PREDICTIONS)
    code, out, err = evaluate("--ground-truth", gt, "--predictions", pred, "--coco")
    assert code == 0, err
    ground_truth, predictions = _parsed_sides(MIXED_GROUND_TRUTH, MIXED_PREDICTIONS)
    theirs = reference(ground_truth, predictions, "segm", {"a": (8, 8), "b": (8, 8)})
    ours = orjson.loads(out)
    for key in COCO_KEYS:
        assert ours[key] == pytest.approx(theirs[key], abs=1e-6, rel=0), key


def test_plain_box_predictions_read_as_columns_are_the_parser_s_objects_in_line_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Plain box lines of a feature already seen as boxes are gathered as columns; every
    row still holds, in line order, exactly what parsing each line gives."""
    import random

    from cli.evaluate import _Rows, read_lines
    from domain.annotations.box_columns import BoxLines
    from domain.annotations.ndjson.lines import parse_annotation_line

    rng = random.Random(4)
    lines: list[dict] = []
    for _ in range(600):
        row = {"globalKey": f"r{rng.randrange(40)}"} if rng.random() < 0.8 else {"id": f"r{rng.randrange(6)}"}
        kind = rng.random()
        if kind < 0.75:
            line = {"dataRow": row, "name": rng.choice(["car", "dog"]), "bbox": bbox(rng.randrange(50), rng.uniform(0, 50), rng.uniform(1, 9), rng.randrange(1, 9))}
            if rng.random() < 0.8:
                line["confidence"] = rng.choice([0, 1, rng.random()])
        elif kind < 0.9:
            line = {"dataRow": row, "name": "region", "polygon": polygon((0, 0), (rng.uniform(1, 9), 0), (0, 5)), "confidence": rng.random()}
        else:
            line = {"dataRow": row, "name": "weather", "answer": {"name": rng.choice(["sunny", "rainy"])}}
        lines.append(line)

    gathered = 0
    take = BoxLines.take

    def counted(self: BoxLines, obj: object, line_no: int) -> bool:
        nonlocal gathered
        took = take(self, obj, line_no)
        gathered += took
        return took

    monkeypatch.setattr(BoxLines, "take", counted)
    rows = _Rows()
    read_lines([orjson.dumps(line) for line in lines], rows, False, str)
    assert gathered > 300  # most box lines went the columns' way

    expected: dict[tuple[str, str], list] = {}
    for line_no, line in enumerate(lines, 1):
        ref, annotations = parse_annotation_line(line, line_no, prediction=True)
        named = ("globalKey", ref.global_key) if ref.global_key is not None else ("id", ref.id)
        expected.setdefault(named, []).extend(annotations)  # type: ignore[arg-type]
    assert rows.names == [key for _, key in expected]
    assert rows.predictions == list(expected.values())


def test_a_box_of_a_feature_seen_as_polygons_is_still_an_error_naming_its_line(tmp_path: Path) -> None:
    box = {"dataRow": {"globalKey": "a"}, "name": "car", "bbox": bbox(0, 0, 1, 2), "confidence": 0.5}
    shape = {"dataRow": {"globalKey": "a"}, "name": "car", "polygon": polygon((0, 0), (1, 0), (0, 1))}
    gt = write(tmp_path / "gt.ndjson", [shape])
    pred = write(tmp_path / "pred.ndjson", [shape, box])
    code, _, err = evaluate("--ground-truth", gt, "--predictions", pred)
    assert code == 2
    assert f"pred.ndjson:2: feature 'car' is a box here but a polygon at {gt}:1" in err
