"""Plain box lines taken as columns give what the general parser and encoder give."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.annotations.box_columns import BoxLines
from domain.annotations.box_labels import BoxLabels, label_columns
from domain.annotations.box_payloads import prediction_payloads
from domain.annotations.column_decoding import decode_rows
from domain.annotations.columns import chunk_rows, encode_rows
from domain.annotations.ndjson.lines import DataRowRef, parse_annotation_line
from domain.annotations.objects import Annotation, Box
from domain.annotations.validation import check_against_row, validate_annotations
from domain.errors import AnnotationLineError
from domain.ontology import Ontology

_ids = itertools.count()
ONTOLOGY = Ontology.build(
    tools=[
        {"name": "car", "tool": "BBOX"},
        {"name": "person", "tool": "BBOX"},
        {"name": "vélo \"2\"", "tool": "BBOX"},
        {"name": "road", "tool": "POLYGON"},
    ],
    classifications=[{"name": "weather", "kind": "RADIO", "answers": ["sunny", "rainy"]}],
    id_factory=lambda: f"schema-{next(_ids)}",
)
NAMES = ONTOLOGY.names_by_id
IDS = {name: schema_id for schema_id, name in NAMES.items()}
BOX_FEATURES = ["car", "person", "vélo \"2\""]


def row_of(ref: DataRowRef) -> str:
    """Rows are named "k<n>" by global key and "i<n>" by id: both are the row "row-<n>"."""
    key = ref.id if ref.id is not None else ref.global_key
    assert key is not None
    return f"row-{key[1:]}"


def general(lines: list[Any], max_bytes: int) -> tuple[list[dict[str, Any]], int]:
    """What the upload gives with every line parsed into objects."""
    by_row: dict[str, list[Annotation]] = {}
    for line_no, obj in enumerate(lines, 1):
        ref, annotations = parse_annotation_line(obj, line_no, NAMES)
        by_row.setdefault(row_of(ref), []).extend(annotations)
    rows = list(by_row.items())
    return [encode_rows(part) for part in chunk_rows(rows, max_bytes)], len(rows)


def fast(lines: list[Any], max_bytes: int) -> tuple[list[dict[str, Any]], int, int]:
    """What the upload gives with plain box lines taken as columns; also how many were."""
    box_lines = BoxLines(NAMES)
    others = []
    for line_no, obj in enumerate(lines, 1):
        if not box_lines.take(obj, line_no):
            ref, annotations = parse_annotation_line(obj, line_no, NAMES)
            others.append((line_no, row_of(ref), annotations))
    boxes = box_lines.finish()
    payloads, rows = prediction_payloads(boxes, [row_of(r) for r in boxes.refs], others, max_bytes)
    return payloads, rows, len(boxes)


numbers = st.one_of(
    st.floats(min_value=-1e6, max_value=1e6, allow_nan=False), st.integers(-(10**6), 10**6)
)
sides = st.one_of(
    st.floats(min_value=1e-9, max_value=1e6, allow_nan=False), st.integers(1, 10**6)
)
confidences = st.one_of(st.none(), st.floats(0.0, 1.0), st.sampled_from([0, 1]))


@st.composite
def data_rows(draw: st.DrawFn) -> dict[str, str]:
    row = draw(st.integers(0, 6))
    return {"globalKey": f"k{row}"} if draw(st.booleans()) else {"id": f"i{row}"}


@st.composite
def box_lines(draw: st.DrawFn) -> dict[str, Any]:
    feature = draw(st.sampled_from(BOX_FEATURES))
    line: dict[str, Any] = {"dataRow": draw(data_rows())}
    if draw(st.booleans()):
        line["name"] = feature
    else:
        line["schemaId"] = IDS[feature]
    sides_ = {"top": numbers, "left": numbers, "height": sides, "width": sides}
    line["bbox"] = {key: draw(values) for key, values in sides_.items()}
    confidence = draw(confidences)
    if confidence is not None:
        line["confidence"] = confidence
    return line


@st.composite
def other_lines(draw: st.DrawFn) -> dict[str, Any]:
    """Lines the columns leave to the general parser, valid all the same."""
    row = draw(data_rows())
    box = draw(box_lines())
    return draw(
        st.sampled_from(
            [
                {"dataRow": row, "name": "road", "polygon": [{"x": 0, "y": 0}, {"x": 4, "y": 0}, {"x": 0, "y": 3}]},
                {"dataRow": row, "name": "weather", "answer": {"name": "sunny"}, "confidence": 0.5},
                {**box, "uuid": "0a1b"},
                {**box, "confidence": None},
                {**box, "classifications": []},
            ]
        )
    )


covered_only = data_rows().map(lambda row: {"dataRow": row})
chunk_bounds = st.integers(4_600, 12_000)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(box_lines(), box_lines(), covered_only), min_size=1, max_size=60), chunk_bounds)
def test_box_uploads_give_the_general_paths_payloads(lines: list[Any], max_bytes: int) -> None:
    lines = orjson.loads(orjson.dumps(lines))  # as the route decodes them
    expected, rows = general(lines, max_bytes)
    payloads, fast_rows, taken = fast(lines, max_bytes)
    assert taken == sum("bbox" in line for line in lines)
    assert fast_rows == rows
    assert payloads == expected
    assert [decode_rows(p) for p in payloads] == [decode_rows(p) for p in expected]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.one_of(box_lines(), box_lines(), box_lines(), covered_only, other_lines()), min_size=1, max_size=40),
    chunk_bounds,
)
def test_mixed_uploads_give_the_general_paths_payloads(lines: list[Any], max_bytes: int) -> None:
    lines = orjson.loads(orjson.dumps(lines))
    expected, rows = general(lines, max_bytes)
    payloads, fast_rows, _ = fast(lines, max_bytes)
    assert fast_rows == rows
    assert payloads == expected


def test_a_row_bigger_than_a_chunk_is_split_as_the_general_path_splits_it() -> None:
    lines = [
        {"dataRow": {"globalKey": "k1"}, "name": BOX_FEATURES[i % 3], "bbox": {"top": i, "left": 1.5, "height": 2, "width": 3.25}, "confidence": i / 500}
        for i in range(500)
    ]
    lines.insert(250, {"dataRow": {"id": "i2"}, "name": "car", "bbox": {"top": 1, "left": 2, "height": 3, "width": 4}})
    expected, _ = general(lines, 10_000)
    payloads, _, taken = fast(lines, 10_000)
    assert taken == 501 and len(expected) > 2
    assert payloads == expected


def test_many_lines_over_many_rows_give_the_general_paths_payloads() -> None:
    lines: list[Any] = [
        {"dataRow": {"globalKey": f"k{i // 7}"}, "name": BOX_FEATURES[i % 3], "bbox": {"top": i / 3, "left": 1.5, "height": 2, "width": 3.25}, "confidence": (i % 101) / 100}
        for i in range(12_000)
    ]
    lines[5_000] = {"dataRow": {"globalKey": "k3"}}
    lines[9_000]["dataRow"] = {"id": "i1"}
    expected, rows = general(lines, 60_000)
    payloads, fast_rows, taken = fast(lines, 60_000)
    assert (taken, fast_rows) == (11_999, rows)
    assert len(expected) > 5 and payloads == expected


def good() -> dict[str, Any]:
    return {"dataRow": {"globalKey": "k1"}, "name": "car", "bbox": {"top": 1.0, "left": 2.0, "height": 3.0, "width": 4.0}, "confidence": 0.5}


def changed(path: str, value: Any) -> dict[str, Any]:
    line = good()
    *parents, key = path.split(".")
    target = line
    for parent in parents:
        target = target[parent]
    if value is _MISSING:
        del target[key]
    else:
        target[key] = value
    return line


_MISSING = object()


@pytest.mark.parametrize(
    ("line", "words"),
    [
        (changed("confidence", math.nan), "confidence nan of 'car' is not a finite number"),
        (changed("confidence", 1.5), "confidence 1.5 of 'car' is outside [0, 1]"),
        (changed("confidence", -0.1), "confidence -0.1 of 'car' is outside [0, 1]"),
        (changed("confidence", 2), "confidence 2 of 'car' is outside [0, 1]"),
        (changed("confidence", True), "confidence true of 'car' is not a number"),
        (changed("confidence", "0.5"), "confidence '0.5' of 'car' is not a number"),
        (changed("bbox.top", math.inf), "bbox top inf of 'car' is not a finite number"),
        (changed("bbox.left", -math.inf), "bbox left -inf of 'car' is not a finite number"),
        (changed("bbox.height", math.nan), "bbox height nan of 'car' is not a finite number"),
        (changed("bbox.width", 10**400), "bbox width"),
        (changed("bbox.width", 0.0), "bbox of 'car' has width 0 and height 3; both must be > 0"),
        (changed("bbox.height", -2), "bbox of 'car' has width 4 and height -2; both must be > 0"),
        (changed("bbox.top", True), "bbox top true of 'car' is not a number"),
        (changed("bbox.left", "2"), "bbox left '2' of 'car' is not a number"),
        (changed("bbox.width", _MISSING), "bbox width of 'car' is missing"),
        (changed("bbox", [1, 2, 3, 4]), "bbox of 'car' must be an object"),
        (changed("name", _MISSING), "the line has neither name nor schemaId"),
        (changed("name", ""), "name '' of the line is not a non-empty string"),
        (changed("name", 7), "name 7 of the line is not a non-empty string"),
        ({**changed("name", _MISSING), "schemaId": "nope"}, "schemaId 'nope' of the line is unknown"),
        ({**good(), "schemaId": IDS["person"]}, "schemaId 'schema-1' of the line does not name 'car'"),
        (changed("dataRow", _MISSING), "dataRow is missing"),
        (changed("dataRow", "k1"), "dataRow must be an object, got 'k1'"),
        (changed("dataRow.globalKey", ""), "dataRow globalKey '' is not a non-empty string"),
        (changed("dataRow.globalKey", 3), "dataRow globalKey 3 is not a non-empty string"),
        (changed("dataRow.id", "i1"), "dataRow gives both id 'i1' and globalKey 'k1'"),
        ({**good(), "point": {"x": 1, "y": 2}}, "a line holds one geometry, got 'bbox' and 'point'"),
        ({**good(), "classifications": 3}, "classifications of 'car' must be a list, got 3"),
        # Unknown keys: the general parser names them; the columns must not take the line.
        (changed("confidance", 0.5), 'unknown key "confidance"; did you mean "confidence"?'),
        ({**changed("confidence", _MISSING), "confidance": 0.5}, 'unknown key "confidance"; did you mean "confidence"?'),
        (changed("bbox.hieght", 3.0), "unknown key \"hieght\" in bbox of 'car'; did you mean \"height\"?"),
        (
            {**good(), "bbox": {"top": 1, "left": 2, "height": 3, "width": 4, "extra": 5}},
            "unknown key \"extra\" in bbox of 'car'; known keys: top, left, height, width",
        ),
        ({**good(), "bbox": {"top": 1.0, "left": 2.0, "hieght": 3.0, "width": 4.0}}, "unknown key \"hieght\" in bbox"),
        (changed("dataRow.url", "x"), 'unknown key "url" in dataRow; known keys: id, globalKey'),
        ({**good(), "dataRow": {"key": "k1"}}, 'unknown key "key" in dataRow; did you mean "globalKey"?'),
    ],
)
def test_a_bad_box_line_is_left_to_the_general_parser(line: dict[str, Any], words: str) -> None:
    assert not BoxLines(NAMES).take(line, 7)
    with pytest.raises(AnnotationLineError) as caught:
        parse_annotation_line(line, 7, NAMES)
    assert caught.value.line == 7 and words in caught.value.reason


odd_values = st.sampled_from(
    [math.nan, math.inf, -math.inf, 0, 1, -1, 0.0, -0.0, 1e-300, 1e308, 10**20, 10**400, True, False, None, "1", "", [], {}, [1.0], {"top": 1.0}]
)
fields = st.sampled_from(
    ["confidence", "name", "schemaId", "dataRow", "dataRow.id", "dataRow.globalKey", "bbox", "bbox.top", "bbox.left", "bbox.height", "bbox.width", "bbox.extra", "uuid"]
)


@settings(max_examples=500, deadline=None)
@given(st.lists(st.tuples(fields, st.one_of(odd_values, st.just(_MISSING))), max_size=3))
def test_a_taken_line_is_one_the_general_parser_reads_the_same(changes: list[tuple[str, Any]]) -> None:
    line = good()
    for path, value in changes:
        *parents, key = path.split(".")
        target: Any = line
        for parent in parents:
            target = target.get(parent) if type(target) is dict else None
        if type(target) is not dict:
            continue
        if value is _MISSING:
            target.pop(key, None)
        else:
            target[key] = value
    box_lines = BoxLines(NAMES)
    if not box_lines.take(line, 3):
        return
    ref, annotations = parse_annotation_line(line, 3, NAMES)
    boxes = box_lines.finish()
    assert boxes.refs == [ref]
    assert boxes.annotations() == annotations
    assert boxes.line.tolist() == [3]


def test_features_the_ontology_does_not_take_as_boxes_are_worded_as_validation_words_them() -> None:
    lines = [
        {"dataRow": {"globalKey": "k1"}, "name": name, "bbox": {"top": 1.0, "left": 2.0, "height": 3.0, "width": 4.0}}
        for name in ["car", "truck", "road", "weather", "weather/sunny", "car", "truck"]
    ]
    lines.append({"dataRow": {"globalKey": "k2"}, "name": "truck", "bbox": {"top": 1.0, "left": 2.0, "height": 3.0, "width": 4.0}})
    box_lines = BoxLines(NAMES)
    assert all(box_lines.take(line, n) for n, line in enumerate(lines, 10))
    boxes = box_lines.finish()
    unknown_row = {1: "data row 'k2' is not in the run"}
    expected = []
    for line_no, line in enumerate(lines, 10):
        if line["dataRow"]["globalKey"] == "k2":
            expected.append((line_no, "data row 'k2' is not in the run"))
            continue
        try:
            validate_annotations(parse_annotation_line(line, line_no, NAMES)[1], ONTOLOGY, (9, 9), line_no)
        except AnnotationLineError as exc:
            expected.append((line_no, exc.reason))
    assert boxes.line_errors(unknown_row, ONTOLOGY) == expected
    assert [message for _, message in expected[:3]] == [
        "unknown feature 'truck'",
        "feature 'road' is a POLYGON tool, got a bbox",
        "unknown feature 'weather'",
    ]
    assert boxes.line_errors({}, Ontology.build(tools=[{"name": n, "tool": "BBOX"} for n in ["car", "truck", "road", "weather", "weather/sunny"]], id_factory=lambda: f"x{next(_ids)}")) == []


@dataclass(frozen=True)
class Row:
    media_type: str | None
    width: int | None
    height: int | None


def test_boxes_that_do_not_fit_their_row_are_worded_as_the_general_path_words_them() -> None:
    # The general path checks a line against the ontology, then against its row; the
    # columns must refuse the same lines with the same words, whichever way a line came.
    rows = {
        "k1": Row("IMAGE", 64, 48),
        "k2": Row("TEXT", None, None),
        "k3": Row("IMAGE", None, None),
        "k4": Row(None, 64, 48),
    }
    boxes_at = [
        ("k1", "car", (1.0, 2.0, 3.0, 4.0)),
        ("k1", "car", (100.0, 5.0, 10.0, 4.0)),
        ("k1", "person", (-20.0, -20.0, 21.0, 21.0)),
        ("k1", "person", (-20.0, -20.0, 10.0, 10.0)),
        ("k2", "car", (1.0, 2.0, 3.0, 4.0)),
        ("k2", "truck", (1.0, 2.0, 3.0, 4.0)),
        ("k3", "car", (1e6, 1e6, 1.0, 1.0)),
        ("k4", "car", (49.0, 0.0, 1.0, 1.0)),
        ("k9", "car", (1e6, 1e6, 1.0, 1.0)),
    ]
    lines = [
        {"dataRow": {"globalKey": key}, "name": name, "bbox": {"top": top, "left": left, "height": height, "width": width}}
        for key, name, (top, left, height, width) in boxes_at
    ]
    box_lines = BoxLines(NAMES)
    assert all(box_lines.take(line, n) for n, line in enumerate(lines, 1))
    boxes = box_lines.finish()
    unknown = {i: f"data row {ref.global_key!r} is not in the run" for i, ref in enumerate(boxes.refs) if ref.global_key not in rows}
    expected = []
    for line_no, line in enumerate(lines, 1):
        key = line["dataRow"]["globalKey"]
        if key not in rows:
            expected.append((line_no, f"data row {key!r} is not in the run"))
            continue
        annotations = parse_annotation_line(line, line_no, NAMES)[1]
        try:
            validate_annotations(annotations, ONTOLOGY, None, line_no)
            check_against_row(annotations, rows[key], line_no)
        except AnnotationLineError as exc:
            expected.append((line_no, exc.reason))
    row_of_ref = [rows.get(ref.global_key or "") for ref in boxes.refs]
    assert boxes.line_errors(unknown, ONTOLOGY, row_of_ref) == expected
    assert [line for line, _ in expected] == [2, 4, 5, 6, 8, 9]
    assert expected[0][1] == (
        "bbox of 'car' (x 5 to 9, y 100 to 110) lies entirely outside the data row's image (x 0 to 64, y 0 to 48)"
    )
    assert expected[3][1] == "unknown feature 'truck'"
    # Without rows (an older caller), only references and features are checked.
    assert [line for line, _ in boxes.line_errors(unknown, ONTOLOGY)] == [6, 9]


@pytest.mark.parametrize("extra", [{"iscrowd": True}, {"iscrowd": False}, {"area": 4.0}])
@pytest.mark.parametrize("confidence", [None, 0.5])
def test_lines_with_crowd_or_area_go_to_the_general_parser(
    extra: dict[str, Any], confidence: float | None
) -> None:
    # docs/metrics.md §9: the general parser refuses them on predictions, naming the line.
    line: dict[str, Any] = {
        "dataRow": {"globalKey": "k"},
        "name": "car",
        "bbox": {"top": 1.0, "left": 2.0, "height": 3.0, "width": 4.0},
        **extra,
    }
    if confidence is not None:
        line["confidence"] = confidence
    assert BoxLines({}).take(line, 3) is False
    plain = {key: value for key, value in line.items() if key not in extra}
    assert BoxLines({}).take(plain, 3) is True


def label_objects(items: Any) -> list[Annotation]:
    """A row's labels (upload format, no dataRow) as the general parser reads them."""
    return [a for item in items for a in parse_annotation_line({**item, "dataRow": {"id": "x"}}, 1, NAMES)[1]]


label_boxes = box_lines().map(lambda line: {"name": line.get("name", NAMES.get(line.get("schemaId", ""))), "bbox": line["bbox"]})
other_labels = st.sampled_from(
    [
        {"name": "road", "polygon": [{"x": 0, "y": 0}, {"x": 4, "y": 0}, {"x": 0, "y": 3}]},
        {"name": "weather", "answer": {"name": "rainy"}},
        {"name": "car", "bbox": {"top": 1, "left": 2, "height": 3, "width": 4}, "iscrowd": True},
    ]
)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.lists(st.one_of(label_boxes, label_boxes, label_boxes, other_labels), max_size=6),
        min_size=1,
        max_size=30,
    ),
    st.booleans(),
)
def test_label_columns_give_the_payloads_of_the_labels_as_objects(rows: list[list[Any]], boxes_only: bool) -> None:
    """A dataset's labels taken into a run's chunks through columns give the chunks of the
    same labels as objects, whether every row holds boxes alone or some hold others."""
    if boxes_only:
        rows = [[item for item in items if set(item) == {"name", "bbox"}] for items in rows]
    rows_ = orjson.loads(orjson.dumps([(f"row-{i}", items) for i, items in enumerate(rows)]))
    expected_rows = [(row_id, label_objects(items)) for row_id, items in rows_ if items]
    expected = [encode_rows(part) for part in chunk_rows(expected_rows, 6_000)]
    boxes, others = label_columns(rows_, label_objects)
    # A row whose labels are all plain boxes is in the columns, every other labelled row an object row.
    plain = [i for i, (_, items) in enumerate(rows_) if items and all(set(x) == {"name", "bbox"} for x in items)]
    assert sorted(set(boxes.line.tolist())) == plain
    assert [index for index, _, _ in others] == [i for i, (_, items) in enumerate(rows_) if items and i not in plain]
    payloads, count = prediction_payloads(boxes, [ref.id for ref in boxes.refs], others, 6_000)
    assert count == len(expected_rows)
    assert payloads == expected
    if boxes_only:
        assert others == []


def test_label_columns_read_rows_as_objects_when_a_box_is_not_one_the_columns_take() -> None:
    rows = [
        ("a", [{"name": "car", "bbox": {"top": 1, "left": 2, "height": 3, "width": 4}}]),
        ("b", [{"name": "car", "bbox": {"top": 1, "left": 2, "height": 0, "width": 4}}]),
    ]
    read: list[Any] = []

    def objects(items: Any) -> list[Annotation]:
        read.extend(items)
        return [Annotation(item["name"], Box(0.0, 0.0, 1.0, 1.0)) for item in items]

    boxes, others = label_columns(rows, objects)
    assert len(boxes) == 0
    assert [(index, row_id, len(objects)) for index, row_id, objects in others] == [(0, "a", 1), (1, "b", 1)]
    assert read == [*rows[0][1], *rows[1][1]]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.lists(st.one_of(label_boxes, label_boxes, label_boxes, other_labels), max_size=6), min_size=1, max_size=30),
    chunk_bounds,
)
def test_box_labels_of_uploaded_rows_give_the_general_paths_payloads(rows: list[list[Any]], max_bytes: int) -> None:
    """Data rows' labels: rows of plain boxes taken as columns, the others parsed, give the
    chunks of every row's labels parsed into objects."""
    rows = orjson.loads(orjson.dumps(rows))
    expected_rows = [(f"row-{i}", label_objects(labels)) for i, labels in enumerate(rows) if labels]
    expected = [encode_rows(part) for part in chunk_rows(expected_rows, max_bytes)]
    gathered = BoxLabels(100)
    others = []
    for i, labels in enumerate(rows):
        if not gathered.take(labels, f"row-{i}", i + 1) and labels:
            others.append((i + 1, f"row-{i}", label_objects(labels)))
    boxes, numbers = gathered.finish()
    assert len(numbers) == len(boxes) == sum(len(labels) for labels in rows if all(set(x) == {"name", "bbox"} for x in labels))
    payloads, count = prediction_payloads(boxes, boxes.ref_ids(), others, max_bytes)
    assert (payloads, count) == (expected, len(expected_rows))


@dataclass(frozen=True)
class Shape:
    media_type: str | None = None
    width: int | None = 64
    height: int | None = 48


def test_box_labels_that_do_not_fit_their_row_are_worded_as_the_general_path_words_them() -> None:
    inside, outside = {"top": 1, "left": 2, "height": 3, "width": 4}, {"top": 100, "left": 2, "height": 3, "width": 4}
    rows = [
        ("a", Shape(), [{"name": "car", "bbox": inside}, {"name": "car", "bbox": outside}]),
        ("b", Shape(media_type="TEXT"), [{"name": "person", "bbox": inside}]),
        ("c", Shape(width=None, height=None), [{"name": "car", "bbox": outside}]),
        # A box the columns do not take (no height): the whole row is left to the general
        # parser, the boxes taken before it dropped.
        ("d", Shape(), [{"name": "car", "bbox": outside}, {"name": "car", "bbox": {**inside, "height": 0}}]),
        ("e", Shape(), [{"name": "person", "bbox": outside}]),
    ]
    gathered = BoxLabels(100)
    taken = [gathered.take(labels, row_id, line) for line, (row_id, _, labels) in enumerate(rows, 1)]
    assert taken == [True, True, True, False, True]
    boxes, numbers = gathered.finish()
    shapes = {row_id: shape for row_id, shape, _ in rows}
    found = [
        (int(boxes.line[i]), numbers[i], message)
        for i, message in boxes.misfit_messages([shapes[row_id] for row_id in boxes.ref_ids()])
    ]
    expected = []
    for line, (_, shape, labels) in enumerate(rows, 1):
        if line == 4:
            continue
        for number, label in enumerate(labels, 1):
            try:
                check_against_row(label_objects([label]), shape, line)
            except AnnotationLineError as exc:
                expected.append((line, number, exc.reason))
    assert boxes.ref_ids() == ["a", "b", "c", "e"]
    assert [(line, number) for line, number, _ in found] == [(1, 2), (2, 1), (5, 1)]
    assert found == expected
