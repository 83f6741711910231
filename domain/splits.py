"""Assigning data rows of a model run to training / validation / test splits."""

from __future__ import annotations

import hashlib
from enum import StrEnum

from domain.errors import ValidationFailed


class Split(StrEnum):
    TRAINING = "TRAINING"
    VALIDATION = "VALIDATION"
    TEST = "TEST"
    UNASSIGNED = "UNASSIGNED"


# The splits' names in a fixed order: read models store a row's split as its index here.
SPLITS: tuple[str, ...] = tuple(split.value for split in Split)


def parse_split(value: str) -> Split:
    try:
        return Split(value.upper())
    except ValueError:
        names = ", ".join(s.value for s in Split)
        raise ValidationFailed(f"unknown split {value!r}; expected one of {names}") from None


def check_ratios(train: float, validate: float, test: float) -> None:
    for name, ratio in (("train", train), ("validate", validate), ("test", test)):
        if not 0.0 <= ratio <= 1.0:
            raise ValidationFailed(f"split ratio {name}={ratio} is outside [0, 1]")
    if train + validate + test > 1.0 + 1e-9:
        raise ValidationFailed(
            f"split ratios add up to {train + validate + test}, more than 1"
        )


def split_by_ratios(
    data_row_ids: list[str], train: float, validate: float, test: float, seed: int
) -> list[Split]:
    """Each row's split from a hash of (seed, row id): the same seed gives the same split
    for a row whatever the other rows are or in which order they come; what the ratios
    leave over stays UNASSIGNED."""
    check_ratios(train, validate, test)
    bounds = (train, train + validate, train + validate + test)
    out: list[Split] = []
    salt = str(seed).encode()
    for row_id in data_row_ids:
        digest = hashlib.blake2b(row_id.encode(), digest_size=8, salt=salt[:16]).digest()
        u = int.from_bytes(digest, "big") / 2.0**64
        if u < bounds[0]:
            out.append(Split.TRAINING)
        elif u < bounds[1]:
            out.append(Split.VALIDATION)
        elif u < bounds[2]:
            out.append(Split.TEST)
        else:
            out.append(Split.UNASSIGNED)
    return out
