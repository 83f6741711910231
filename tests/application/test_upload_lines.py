"""Collecting the line errors of an upload: each message says its line number once."""

from __future__ import annotations

import pytest

from application.upload_lines import ErrorCollector
from domain.errors import AnnotationLineError, LineError, ValidationFailed


def raise_line_error() -> None:
    raise AnnotationLineError(3, "confidence 1.5 of 'car' is outside [0, 1]")


def raise_numbered_failure() -> None:
    # A failure worded with its line already in it (str of an AnnotationLineError, say).
    raise ValidationFailed("line 5: metadata 'city' must be a string, got 3")


def test_the_summary_names_the_first_line_once() -> None:
    errors = ErrorCollector()
    errors.attempt(3, raise_line_error)
    errors.add(2, "line 2: globalKey 'a' already exists in dataset d")
    errors.attempt(5, raise_numbered_failure)
    assert errors.errors == [
        LineError(3, "confidence 1.5 of 'car' is outside [0, 1]"),
        LineError(2, "globalKey 'a' already exists in dataset d"),
        LineError(5, "metadata 'city' must be a string, got 3"),
    ]
    with pytest.raises(ValidationFailed) as caught:
        errors.raise_if_any("data row upload")
    assert caught.value.message == (
        "data row upload rejected: 3 invalid line(s); first: line 2: globalKey 'a' already exists in dataset d"
    )
    assert caught.value.message.count("line 2:") == 1
    assert [e.line for e in caught.value.errors] == [2, 3, 5]
