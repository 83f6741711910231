"""Parsing a data-row upload line and its typed metadata."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

import pytest

from domain.data_rows import MetadataField, MetadataKind, data_row_id, parse_data_row_line
from domain.errors import MAX_MESSAGE, AnnotationLineError, LineError, ValidationFailed

# Fixed: the ids of the parametrized tests below contain it, and every test process must
# collect the same ids.
DATASET = UUID("25927268-b619-4603-b11f-f66e460ceb83")
OTHER_DATASET = UUID("3e6c259c-4904-4a67-aa02-491bfd9a4882")


def parse(obj: Any, fields: dict[str, MetadataField] | None = None):  # noqa: ANN201
    return parse_data_row_line(obj, 4, DATASET, fields or {})


def test_a_full_line() -> None:
    row, declared = parse(
        {"globalKey": "img-1", "rowData": "s3://b/1.jpg", "width": 640, "height": 480, "metadata": {"site": "a", "n": 3}}
    )
    assert row.id == data_row_id(DATASET, "img-1")
    assert (row.media_type, row.width, row.height) == ("IMAGE", 640, 480)
    assert row.metadata == {"site": "a", "n": 3.0}
    assert {f.key: f.kind for f in declared} == {"site": MetadataKind.STRING, "n": MetadataKind.NUMBER}


def test_ids_derive_from_dataset_and_key() -> None:
    assert data_row_id(DATASET, "k") == data_row_id(DATASET, "k") != data_row_id(uuid4(), "k")


@pytest.mark.parametrize(
    ("obj", "named"),
    [
        ({"rowData": "x"}, "globalKey"),
        ({"globalKey": "k"}, "rowData of 'k'"),
        ({"globalKey": "k", "rowData": "x", "mediaType": "HOLOGRAM"}, "'HOLOGRAM'"),
        ({"globalKey": "k", "rowData": "x", "width": 0, "height": 5}, "width of 'k'"),
        ({"globalKey": "k", "rowData": "x", "width": 5}, "only one of width and height"),
        ({"globalKey": "k", "rowData": "x", "metadata": {"flag": True}}, "'flag'"),
        ("not an object", "JSON object"),
    ],
)
def test_bad_lines_name_the_item_and_the_line(obj: Any, named: str) -> None:
    with pytest.raises(AnnotationLineError, match=named) as caught:
        parse(obj)
    assert caught.value.line == 4


def test_declared_fields_check_their_values() -> None:
    fields = {
        "taken": MetadataField("taken", MetadataKind.DATETIME),
        "weather": MetadataField("weather", MetadataKind.ENUM, ("sun", "rain")),
        "score": MetadataField("score", MetadataKind.NUMBER),
    }
    row, declared = parse(
        {"globalKey": "k", "rowData": "x", "metadata": {"taken": "2026-01-02T03:04:05Z", "weather": "rain"}}, fields
    )
    assert declared == []
    assert row.metadata == {"taken": "2026-01-02T03:04:05+00:00", "weather": "rain"}
    for metadata, named in (
        ({"taken": "yesterday"}, "'taken'"),
        ({"taken": "2026-01-02T03:04:05"}, "time zone"),
        ({"weather": "snow"}, "'snow'"),
        ({"score": "high"}, "'score'"),
    ):
        with pytest.raises(AnnotationLineError, match=named):
            parse({"globalKey": "k", "rowData": "x", "metadata": metadata}, fields)


def test_row_data_may_name_a_file_of_its_own_dataset() -> None:
    for row_data in (f"/assets/{DATASET}/img-1.jpg", f"/assets/{DATASET}/day%201/a%23b.png", "https://x/assets/y"):
        row, _ = parse({"globalKey": "k", "rowData": row_data})
        assert row.row_data == row_data


@pytest.mark.parametrize(
    ("row_data", "named"),
    [
        (f"/assets/{OTHER_DATASET}/img-1.jpg", "names a file of dataset"),
        ("/assets/not-a-dataset/img-1.jpg", "'not-a-dataset'"),
        (f"/assets/{DATASET}", "empty"),
        (f"/assets/{DATASET}/", "empty"),
        (f"/assets/{DATASET}/a//b.jpg", "empty segment"),
        (f"/assets/{DATASET}/../{OTHER_DATASET}/b.jpg", "'..' segment"),
        (f"/assets/{DATASET}/%2e%2e%2fother/b.jpg", "'..' segment"),
        (f"/assets/{DATASET}/./b.jpg", "'.' segment"),
        (f"/assets/{DATASET}/a\\b.jpg", "backslash"),
        (f"/assets/{DATASET}/a%00.jpg", "NUL"),
        (f"/assets/{DATASET}/{'n' * 256}.jpg", "longer than 255 bytes"),
        (f"/assets/{DATASET}/" + "/".join(["d" * 100] * 11), "longer than 1024 bytes"),
    ],
)
def test_row_data_of_a_file_elsewhere_is_refused(row_data: str, named: str) -> None:
    with pytest.raises(AnnotationLineError, match=named) as caught:
        parse({"globalKey": "k", "rowData": row_data})
    assert caught.value.line == 4
    assert "'k'" in caught.value.message


def test_error_messages_are_bounded_and_keep_both_ends() -> None:
    message = "start " + "x" * 1_000_000 + " end"
    for bounded in (ValidationFailed(message).message, LineError(1, message).message):
        assert len(bounded) < MAX_MESSAGE + 100
        assert bounded.startswith("start xxx") and bounded.endswith("xxx end")
        assert f"[... {len(message) - MAX_MESSAGE * 3 // 4 - MAX_MESSAGE // 8} characters left out ...]" in bounded
    assert ValidationFailed("short").message == "short"
