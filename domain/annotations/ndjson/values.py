"""The values every item of a line is made of: names, confidences, coordinates, offsets,
objects; and how a value is shown in a message.

Values come from a JSON decoder, so exact types (`type(...) is`) are all there is to accept,
and `bool`, a subclass of `int`, is refused where a number is expected, since `true` is
never a coordinate.
"""

from __future__ import annotations

from collections.abc import Mapping
from math import isfinite
from typing import Any, Final

from domain.annotations.ndjson.keys import KEY_ORDER, check_keys
from domain.errors import AnnotationLineError

# Character offsets stay exact in a float64 and in any JSON client.
MAX_OFFSET: Final = 2**53


Names = Mapping[str, str]


def show_value(value: Any) -> str:
    """A value as the user wrote it in JSON, cut short: messages must stay readable."""
    if value is None:
        return "null"
    if type(value) is bool:
        return "true" if value else "false"
    if type(value) is float and value.is_integer():
        text = str(int(value)) if abs(value) < 1e16 else repr(value)
    else:
        text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def read_name(
    item: dict[str, Any], line: int, names: Names | None, parent: str | None, what: str
) -> str:
    """The full feature or question name an item points at by name or schemaId."""
    name = item.get("name")
    schema_id = item.get("schemaId")
    if name is not None:
        if type(name) is not str or not name:
            raise AnnotationLineError(
                line, f"name {show_value(name)} of {what} is not a non-empty string"
            )
        full = name if parent is None else f"{parent}/{name}"
        if schema_id is not None and names is not None and names.get(schema_id) != full:
            raise AnnotationLineError(
                line, f"schemaId {show_value(schema_id)} of {what} does not name {full!r}"
            )
        return full
    if schema_id is None:
        raise AnnotationLineError(line, f"{what} has neither name nor schemaId")
    resolved = names.get(schema_id) if names is not None and type(schema_id) is str else None
    if resolved is None:
        raise AnnotationLineError(line, f"schemaId {show_value(schema_id)} of {what} is unknown")
    return resolved


def read_confidence(value: Any, name: str, line: int) -> float | None:
    if value is None:
        return None
    kind = type(value)
    if kind is float or kind is int:
        try:
            number = float(value)
        except OverflowError:
            number = float("inf")
        if not isfinite(number):
            raise AnnotationLineError(
                line, f"confidence {show_value(value)} of {name!r} is not a finite number"
            )
        if 0.0 <= number <= 1.0:
            return number
        raise AnnotationLineError(
            line, f"confidence {show_value(value)} of {name!r} is outside [0, 1]"
        )
    raise AnnotationLineError(line, f"confidence {show_value(value)} of {name!r} is not a number")


def read_coordinate(value: Any, what: str, name: str, line: int) -> float:
    kind = type(value)
    if kind is float:
        if isfinite(value):
            number: float = value
            return number
    elif kind is int:
        try:
            return float(value)
        except OverflowError:
            pass
    elif value is None:
        raise AnnotationLineError(line, f"{what} of {name!r} is missing")
    else:
        raise AnnotationLineError(line, f"{what} {show_value(value)} of {name!r} is not a number")
    raise AnnotationLineError(
        line, f"{what} {show_value(value)} of {name!r} is not a finite number"
    )


def read_offset(value: Any, what: str, name: str, line: int) -> int:
    kind = type(value)
    if kind is int:
        number: int = value
    elif kind is float and isfinite(value) and value.is_integer():
        number = int(value)
    elif value is None:
        raise AnnotationLineError(line, f"{what} of {name!r} is missing")
    else:
        raise AnnotationLineError(line, f"{what} {show_value(value)} of {name!r} is not an integer")
    if number < 0:
        raise AnnotationLineError(line, f"{what} {show_value(value)} of {name!r} is negative")
    if number > MAX_OFFSET:
        raise AnnotationLineError(
            line, f"{what} {show_value(value)} of {name!r} is too large; at most {MAX_OFFSET}"
        )
    return number


def read_object(
    value: Any, what: str, name: str, line: int, keys: frozenset[str] | None = None
) -> dict[str, Any]:
    """`value` if it is an object (whose keys are among `keys`, when given)."""
    if type(value) is not dict:
        raise AnnotationLineError(
            line, f"{what} of {name!r} must be an object, got {show_value(value)}"
        )
    if keys is not None and not value.keys() <= keys:
        check_keys(value, KEY_ORDER[keys], line, f" in {what} of {name!r}")
    return value
