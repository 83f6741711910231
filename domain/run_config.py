"""A model run's config: a JSON object of hyperparameters (booleans, strings, numbers, null)."""

from __future__ import annotations

import json
import math
from typing import Any

from domain.errors import ValidationFailed

# The template a user starts from: common hyperparameters, all unset.
CONFIG_TEMPLATE: dict[str, Any] = {
    "learning_rate": None,
    "batch_size": None,
    "epochs": None,
    "optimizer": None,
    "momentum": None,
    "weight_decay": None,
    "dropout": None,
    "loss": None,
    "scheduler": None,
    "warmup_steps": None,
    "image_size": None,
    "backbone": None,
    "pretrained": None,
    "seed": None,
}

MAX_KEYS = 1_000
MAX_KEY_LENGTH = 200
MAX_STRING_LENGTH = 10_000


def check_config(config: Any) -> dict[str, Any]:
    """A flat object whose values are booleans, strings, finite numbers or null."""
    if not isinstance(config, dict):
        raise ValidationFailed(f"config must be a JSON object, got {type(config).__name__}")
    if len(config) > MAX_KEYS:
        raise ValidationFailed(f"config has {len(config)} keys; at most {MAX_KEYS} are allowed")
    for key, value in config.items():
        if not isinstance(key, str) or not 1 <= len(key) <= MAX_KEY_LENGTH:
            raise ValidationFailed(f"config key {key!r} must be a string of 1 to {MAX_KEY_LENGTH} characters")
        if value is None or isinstance(value, bool):
            continue
        if isinstance(value, int | float):
            if not math.isfinite(value):
                raise ValidationFailed(f"config value of {key!r} is not a finite number: {value}")
            continue
        if isinstance(value, str):
            if len(value) > MAX_STRING_LENGTH:
                raise ValidationFailed(f"config value of {key!r} is longer than {MAX_STRING_LENGTH} characters")
            continue
        raise ValidationFailed(
            f"config value of {key!r} must be a boolean, string, number or null, got {type(value).__name__}"
        )
    return dict(config)


def same_config(first: dict[str, Any], second: dict[str, Any]) -> bool:
    """Whether two configs are the same JSON object. Python's == is not enough: it takes
    true for 1 and 1 for 1.0, which a client reading the config back tells apart."""
    return _canonical(first) == _canonical(second)


def _canonical(config: dict[str, Any]) -> str:
    return json.dumps(config, sort_keys=True, allow_nan=False)
