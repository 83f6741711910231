"""Parsing a custom metric upload line: its keys, and messages worded in the API's names."""

from __future__ import annotations

from typing import Any

import pytest

from domain.custom_metrics import LINE_SHAPE, Aggregation, parse_custom_metric_line
from domain.errors import AnnotationLineError
from domain.ontology import Ontology

ONTOLOGY = Ontology.build(tools=[{"name": "car", "tool": "BBOX"}], id_factory=lambda: "f1")
GOOD: dict[str, Any] = {"dataRow": {"globalKey": "k1"}, "metricName": "blur", "metricValue": 0.25}


def rejected(obj: Any) -> str:
    with pytest.raises(AnnotationLineError) as caught:
        parse_custom_metric_line(obj, 4, ONTOLOGY)
    # The line number is the error's own field; the message says it once, up front.
    assert str(caught.value) == f"line 4: {caught.value.reason}"
    return caught.value.reason


def test_a_line_by_global_key_by_id_or_by_a_bare_id() -> None:
    assert parse_custom_metric_line(GOOD, 4, ONTOLOGY).data_row == {"globalKey": "k1"}
    assert parse_custom_metric_line({**GOOD, "dataRow": {"id": "r1"}}, 4, ONTOLOGY).data_row == {"id": "r1"}
    assert parse_custom_metric_line({**GOOD, "dataRow": "r1"}, 4, ONTOLOGY).data_row == {"id": "r1"}
    value = parse_custom_metric_line({**GOOD, "featureName": "car", "aggregation": "sum"}, 4, ONTOLOGY)
    assert (value.feature, value.aggregation) == ("car", Aggregation.SUM)


@pytest.mark.parametrize(
    ("obj", "message"),
    [
        ({**GOOD, "metricValu": 1}, 'unknown key "metricValu"; did you mean "metricValue"?'),
        ({**GOOD, "feature": "car"}, 'unknown key "feature"; did you mean "featureName"?'),
        ({**GOOD, "value": 1}, 'unknown key "value"; did you mean "metricValue"?'),
        ({**GOOD, "dataRow": {"globalkey": "k1"}}, 'unknown key "globalkey" in dataRow; did you mean "globalKey"?'),
        ({"metricName": "blur", "metricValue": 1}, f'missing "dataRow"; expected {LINE_SHAPE}'),
        ({"dataRow": {"id": "r1"}, "metricValue": 1}, f'missing "metricName"; expected {LINE_SHAPE}'),
        ({"dataRow": {"id": "r1"}, "metricName": "blur"}, f'missing "metricValue"; expected {LINE_SHAPE}'),
        ({**GOOD, "metricValue": None}, "metricValue of 'blur' must be a finite number, got null"),
        ({**GOOD, "metricValue": True}, "metricValue of 'blur' must be a finite number, got true"),
        ({**GOOD, "metricValue": {"0.5": 1, "1.5": 2}}, "confidence '1.5' of metric 'blur' is outside [0, 1]"),
        ([GOOD], f"a line must be a JSON object; expected {LINE_SHAPE}"),
    ],
)
def test_messages(obj: Any, message: str) -> None:
    assert rejected(obj) == message


def test_the_expected_shape_lists_the_aggregations() -> None:
    assert LINE_SHAPE == (
        '{"dataRow": {"globalKey": "..."} | {"id": "..."}, "metricName": "...", "metricValue": number | '
        '{confidence: number}, "featureName"?: "...", "aggregation"?: "ARITHMETIC_MEAN" | "GEOMETRIC_MEAN" | '
        '"HARMONIC_MEAN" | "SUM"}'
    )
