"""A run's config and metric settings: what is accepted, exactly as given."""

from __future__ import annotations

import math

import pytest

from domain.errors import ValidationFailed
from domain.metric_settings import DEFAULT_THRESHOLDS, MetricSettings
from domain.run_config import CONFIG_TEMPLATE, check_config


def test_config_values_are_flat_json_scalars() -> None:
    config = {"learning_rate": 0.001, "optimizer": "adam", "pretrained": True, "epochs": None}
    assert check_config(config) == config


@pytest.mark.parametrize(
    ("config", "named"),
    [
        ({"lr": math.nan}, "'lr'"),
        ({"lr": math.inf}, "'lr'"),
        ({"layers": [1, 2]}, "'layers'"),
        ({"": 1}, "''"),
        ([1, 2], "JSON object"),
    ],
)
def test_bad_config_is_refused_naming_the_key(config: object, named: str) -> None:
    with pytest.raises(ValidationFailed, match=named):
        check_config(config)


def test_template_has_common_hyperparameters_unset() -> None:
    assert {"learning_rate", "batch_size", "epochs", "optimizer"} <= set(CONFIG_TEMPLATE)
    assert set(CONFIG_TEMPLATE.values()) == {None}


def test_default_grid_is_written_out_not_computed() -> None:
    assert DEFAULT_THRESHOLDS[3] == 0.3 and 0.1 * 3 != 0.3
    settings = MetricSettings()
    assert settings.confidence_thresholds == settings.iou_thresholds == DEFAULT_THRESHOLDS


def test_thresholds_are_kept_exactly_and_sorted() -> None:
    given = [0.55, 0.5, 0.51, 0.6]
    settings = MetricSettings().changed(iou_thresholds=given)
    assert settings.iou_thresholds == (0.5, 0.51, 0.55, 0.6)
    assert settings.confidence_thresholds == DEFAULT_THRESHOLDS
    assert MetricSettings.from_dict(settings.to_dict()) == settings


@pytest.mark.parametrize(
    ("values", "named"),
    [([], "1 to 101"), ([0.1] * 2, "twice"), ([1.2], r"iouThresholds\[0\]"), ([math.nan], "finite"), (list(range(102)), "1 to 101")],
)
def test_bad_thresholds_are_refused(values: list[float], named: str) -> None:
    with pytest.raises(ValidationFailed, match=named):
        MetricSettings().changed(iou_thresholds=values)


def test_radius_must_be_positive() -> None:
    assert MetricSettings().changed(point_radius=12).point_radius == 12.0
    with pytest.raises(ValidationFailed, match="pointRadius"):
        MetricSettings().changed(point_radius=0)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"iou_thresholds": [0.5, 1.2]}, "iouThresholds[1] 1.2 is outside [0, 1]"),
        ({"confidence_thresholds": [math.nan]}, "confidenceThresholds[0] must be a finite number, got NaN"),
        ({"confidence_thresholds": []}, "confidenceThresholds must list 1 to 101 values, got 0"),
        ({"confidence_thresholds": [0.1, 0.5, 0.1]}, "confidenceThresholds lists 0.1 twice; values must be distinct"),
        ({"point_radius": 0}, "pointRadius 0 must be > 0"),
        ({"low_precision": 1.5}, "lowPrecision 1.5 is outside [0, 1]"),
        ({"mislabel_confidence": "high"}, 'mislabelConfidence must be a finite number, got "high"'),
        ({"bogus_setting": 1}, 'unknown metric setting "bogusSetting"'),
    ],
)
def test_messages_use_the_apis_names_and_say_the_range(changes: dict[str, object], message: str) -> None:
    # Users set these through setMetricSettings: the message speaks its camelCase names.
    with pytest.raises(ValidationFailed) as caught:
        MetricSettings().changed(**changes)
    assert caught.value.message == message
