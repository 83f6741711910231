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
    [([], "1 to 101"), ([0.1] * 2, "twice"), ([1.2], r"iou_thresholds\[0\]"), ([math.nan], "finite"), (list(range(102)), "1 to 101")],
)
def test_bad_thresholds_are_refused(values: list[float], named: str) -> None:
    with pytest.raises(ValidationFailed, match=named):
        MetricSettings().changed(iou_thresholds=values)


def test_radius_must_be_positive() -> None:
    assert MetricSettings().changed(point_radius=12).point_radius == 12.0
    with pytest.raises(ValidationFailed, match="point_radius"):
        MetricSettings().changed(point_radius=0)
