"""The data row filter, as plain JSON: what a saved slice holds.

It has the shape of the GraphQL `DataRowFilter` input: `{"all": [clause, ...]}`, the AND of
its clauses; each clause sets exactly one condition, and the lists inside a condition are
OR-ed. `validate_filter` checks a filter against a model's ontology and slices and returns
its normal form: every field of a condition present (null where not set), feature and id
lists without repeats, splits and automatic metric names in their canonical spelling.
Validating a normal form gives it back unchanged.

Every error names the clause by its position (from 1) and its condition, e.g.
"clause 2 (annotation): unknown feature 'dog'".
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Collection, Iterable
from datetime import datetime
from typing import Any
from uuid import UUID

from domain.errors import ValidationFailed
from domain.ontology import Ontology
from domain.splits import SPLITS

AUTOMATIC_METRICS = ("tp", "fp", "fn", "tn", "precision", "recall", "f1", "iou")
# The automatic slices of every run (docs/metrics.md §12), by name.
AUTO_SLICES = (
    "True positive",
    "False positive",
    "False negative",
    "True negative",
    "Low precision",
    "Low recall",
    "Low F1",
    "Low confidence",
    "Candidate mislabels",
)
MAX_CLAUSES = 100

# The slice ids a filter may name: a set of them, or a test of one (given in canonical form).
KnownSlices = Collection[str] | Callable[[str], bool]


class _Clause:
    """Where a check is: the clause's position and condition, for the error message."""

    __slots__ = ("kind", "position")

    def __init__(self, position: int, kind: str) -> None:
        self.position = position
        self.kind = kind

    def error(self, message: str) -> ValidationFailed:
        return ValidationFailed(f"clause {self.position} ({self.kind}): {message}")


class _Checks:
    """The context of one validation: the ontology, the known slices, the slice itself."""

    def __init__(self, ontology: Ontology | None, known_slice_ids: KnownSlices | None, own_slice_id: str | None) -> None:
        self.ontology = ontology
        if known_slice_ids is None:
            self.is_known_slice: Callable[[str], bool] = lambda slice_id: True
        elif callable(known_slice_ids):
            self.is_known_slice = known_slice_ids
        else:
            known = {_canonical_id(s) or s for s in known_slice_ids}
            self.is_known_slice = known.__contains__
        self.own_slice_id = None if own_slice_id is None else (_canonical_id(own_slice_id) or own_slice_id)

    # -- the conditions ----------------------------------------------------------------------

    def annotation(self, at: _Clause, body: Any) -> dict[str, Any]:
        fields = _fields(at, body, {"features": None, "present": True, "min": None, "max": None}, ("features",))
        features = self.features(at, fields["features"])
        present = _boolean(at, fields["present"], "present")
        low, high = _count(at, fields["min"], "min"), _count(at, fields["max"], "max")
        if not present and (low is not None or high is not None):
            raise at.error("min and max count annotations, so they need present to be true")
        _in_order(at, low, high)
        return {"features": features, "present": present, "min": low, "max": high}

    def prediction(self, at: _Clause, body: Any) -> dict[str, Any]:
        fields = _fields(at, body, {"features": None, "present": True}, ("features",))
        return {
            "features": self.features(at, fields["features"]),
            "present": _boolean(at, fields["present"], "present"),
        }

    def metric(self, at: _Clause, body: Any) -> dict[str, Any]:
        fields = _fields(
            at, body, {"name": None, "feature": None, "min": None, "max": None, "maxExclusive": False}, ("name",)
        )
        name = fields["name"]
        if not isinstance(name, str) or not name.strip():
            raise at.error(f"name must be a metric name, got {_show(name)}")
        # Automatic metrics by their canonical name; any other name is a custom metric,
        # whose existence depends on the run it is applied in.
        if name.lower() in AUTOMATIC_METRICS:
            name = name.lower()
        low, high = _number(at, fields["min"], "min"), _number(at, fields["max"], "max")
        _in_order(at, low, high)
        # A histogram bin is half-open, [min, max): its filter must not take the next bin's edge.
        exclusive = _boolean(at, fields["maxExclusive"], "maxExclusive")
        if exclusive and high is None:
            raise at.error("maxExclusive needs max")
        return {
            "name": name,
            "feature": self.feature(at, fields["feature"], "feature"),
            "min": low,
            "max": high,
            "maxExclusive": exclusive,
        }

    def confidence(self, at: _Clause, body: Any) -> dict[str, Any]:
        fields = _fields(at, body, {"feature": None, "min": None, "max": None}, ())
        low, high = _number(at, fields["min"], "min"), _number(at, fields["max"], "max")
        for field, value in (("min", low), ("max", high)):
            if value is not None and not 0.0 <= value <= 1.0:
                raise at.error(f"{field} {_show(value)} is outside [0, 1]")
        _in_order(at, low, high)
        return {"feature": self.feature(at, fields["feature"], "feature"), "min": low, "max": high}

    def metadata(self, at: _Clause, body: Any) -> dict[str, Any]:
        fields = _fields(
            at, body, {"key": None, "equals": None, "in": None, "contains": None, "min": None, "max": None}, ("key",)
        )
        key = fields["key"]
        if not isinstance(key, str) or not key.strip():
            raise at.error(f"key must be a metadata key, got {_show(key)}")
        given = [name for name in ("equals", "in", "contains") if fields[name] is not None]
        if fields["min"] is not None or fields["max"] is not None:
            given.append("min/max")
        if len(given) != 1:
            found = "none" if not given else " and ".join(given)
            raise at.error(f"set exactly one of equals, in, contains, or min and/or max; got {found}")
        out: dict[str, Any] = {**fields, "key": key}
        if fields["equals"] is not None:
            out["equals"] = _metadata_value(at, fields["equals"], "equals")
        elif fields["in"] is not None:
            values = fields["in"]
            if not isinstance(values, list) or not values:
                raise at.error(f"in must be a non-empty list of values, got {_show(values)}")
            out["in"] = _distinct(_metadata_value(at, v, "a value of in") for v in values)
        elif fields["contains"] is not None:
            text = fields["contains"]
            if not isinstance(text, str) or not text:
                raise at.error(f"contains must be a non-empty string, got {_show(text)}")
        else:
            out["min"], out["max"] = _metadata_range(at, fields["min"], fields["max"])
        return out

    def split(self, at: _Clause, body: Any) -> list[str]:
        if not isinstance(body, list) or not body:
            raise at.error(f"expected a non-empty list of splits ({', '.join(SPLITS)}), got {_show(body)}")
        splits = []
        for value in body:
            name = value.upper() if isinstance(value, str) else None
            if name not in SPLITS:
                raise at.error(f"unknown split {_show(value)}; expected one of {', '.join(SPLITS)}")
            splits.append(name)
        return _distinct(splits)

    def data_rows(self, at: _Clause, body: Any) -> dict[str, Any]:
        fields = _fields(at, body, {"ids": None, "globalKeys": None}, ())
        ids = _strings(at, fields["ids"], "ids", allow_empty=True)
        keys = _strings(at, fields["globalKeys"], "globalKeys", allow_empty=True)
        if not ids and not keys:
            raise at.error("name at least one data row id or global key")
        return {"ids": ids, "globalKeys": keys}

    def slice(self, at: _Clause, body: Any) -> str:
        slice_id = _canonical_id(body) if isinstance(body, str) else None
        if slice_id is not None and slice_id == self.own_slice_id:
            raise at.error("a slice cannot include itself")
        if slice_id is None or not self.is_known_slice(slice_id):
            raise at.error(f"unknown slice {_show(body)}")
        return slice_id

    def auto_slice(self, at: _Clause, body: Any) -> str:
        if body not in AUTO_SLICES:
            raise at.error(f"unknown automatic slice {_show(body)}; expected one of {', '.join(AUTO_SLICES)}")
        return str(body)

    def selection(self, at: _Clause, body: Any) -> dict[str, Any]:
        fields = _fields(at, body, {"ids": None}, ("ids",))
        return {"ids": _strings(at, fields["ids"], "ids", allow_empty=False)}

    def confusion_cell(self, at: _Clause, body: Any) -> dict[str, Any]:
        fields = _fields(at, body, {"groundTruth": None, "prediction": None}, ())
        if fields["groundTruth"] is None and fields["prediction"] is None:
            raise at.error("name groundTruth, prediction or both (null is the None label)")
        return {
            "groundTruth": self.feature(at, fields["groundTruth"], "groundTruth"),
            "prediction": self.feature(at, fields["prediction"], "prediction"),
        }

    def evaluated(self, at: _Clause, body: Any) -> bool:
        return _boolean(at, body, "evaluated")

    # -- features ----------------------------------------------------------------------------

    def features(self, at: _Clause, value: Any) -> list[str]:
        if not isinstance(value, list) or not value:
            raise at.error(f"features must be a non-empty list of feature names, got {_show(value)}")
        return _distinct(self.feature_name(at, name) for name in value)

    def feature(self, at: _Clause, value: Any, field: str) -> str | None:
        return None if value is None else self.feature_name(at, value, field)

    def feature_name(self, at: _Clause, name: Any, field: str = "features") -> str:
        if not isinstance(name, str) or not name:
            raise at.error(f"{field} must name features by non-empty strings, got {_show(name)}")
        if self.ontology is None or self.ontology.feature_named(name) is not None:
            return name
        question = self.ontology.question_named(name)
        if question is not None and question.answers:
            raise at.error(
                f"{name!r} is a question, not a feature; name its answers, e.g. {question.answers[0]!r}"
            )
        raise at.error(f"unknown feature {name!r}")


_CONDITIONS: dict[str, Callable[[_Checks, _Clause, Any], Any]] = {
    "annotation": _Checks.annotation,
    "prediction": _Checks.prediction,
    "metric": _Checks.metric,
    "confidence": _Checks.confidence,
    "metadata": _Checks.metadata,
    "split": _Checks.split,
    "dataRows": _Checks.data_rows,
    "slice": _Checks.slice,
    "autoSlice": _Checks.auto_slice,
    "selection": _Checks.selection,
    "confusionCell": _Checks.confusion_cell,
    "evaluated": _Checks.evaluated,
}
CONDITIONS = tuple(_CONDITIONS)


def validate_filter(
    filter_json: Any,
    ontology: Ontology | None,
    known_slice_ids: KnownSlices | None,
    own_slice_id: str | None = None,
) -> dict[str, Any]:
    """The filter's normal form, or a ValidationFailed naming the first bad clause.

    Features are checked against `ontology`; a slice clause must name one of
    `known_slice_ids` (a set, or a test called with the id in canonical form), and never
    `own_slice_id`, the slice the filter is saved in. None skips the check (a query checks
    features against its run's model when it evaluates the filter). Metadata keys and
    custom metric names are not checked: whether a run has them is known only when the
    filter is applied.
    """
    if not isinstance(filter_json, dict):
        raise ValidationFailed(f'filter must be a JSON object {{"all": [clauses]}}, got {_show(filter_json)}')
    unknown = sorted(set(filter_json) - {"all"})
    if unknown:
        raise ValidationFailed(f"filter has unknown field {unknown[0]!r}; expected only 'all'")
    clauses = filter_json.get("all")
    if clauses is None:
        clauses = []
    if not isinstance(clauses, list):
        raise ValidationFailed(f"filter field 'all' must be a list of clauses, got {_show(clauses)}")
    if len(clauses) > MAX_CLAUSES:
        raise ValidationFailed(f"filter has {len(clauses)} clauses; at most {MAX_CLAUSES} are allowed")
    checks = _Checks(ontology, known_slice_ids, own_slice_id)
    return {"all": [_clause(checks, position, clause) for position, clause in enumerate(clauses, start=1)]}


def _clause(checks: _Checks, position: int, clause: Any) -> dict[str, Any]:
    expected = ", ".join(CONDITIONS)
    if not isinstance(clause, dict):
        raise ValidationFailed(f"clause {position} must be an object with one of {expected}; got {_show(clause)}")
    # A null condition is an unset one, as in a GraphQL input.
    conditions = [kind for kind, body in clause.items() if body is not None]
    if len(conditions) != 1:
        found = "none" if not conditions else " and ".join(repr(c) for c in conditions)
        raise ValidationFailed(f"clause {position} must set exactly one condition of {expected}; it sets {found}")
    kind = conditions[0]
    check = _CONDITIONS.get(kind)
    if check is None:
        raise ValidationFailed(f"clause {position}: unknown condition {kind!r}; expected one of {expected}")
    return {kind: check(checks, _Clause(position, kind), clause[kind])}


# -- values ----------------------------------------------------------------------------------


def _fields(at: _Clause, body: Any, defaults: dict[str, Any], required: tuple[str, ...]) -> dict[str, Any]:
    """The condition's fields with their defaults; unknown or missing fields are errors."""
    names = ", ".join(defaults)
    if not isinstance(body, dict):
        raise at.error(f"expected an object with {names}, got {_show(body)}")
    unknown = [key for key in body if key not in defaults]
    if unknown:
        raise at.error(f"unknown field {unknown[0]!r}; expected {names}")
    for name in required:
        if body.get(name) is None:
            raise at.error(f"{name} is required")
    return {name: default if body.get(name) is None else body[name] for name, default in defaults.items()}


def _boolean(at: _Clause, value: Any, field: str) -> bool:
    if not isinstance(value, bool):
        raise at.error(f"{field} must be true or false, got {_show(value)}")
    return value


def _count(at: _Clause, value: Any, field: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise at.error(f"{field} must be a whole number of at least 0, got {_show(value)}")
    return value


def _number(at: _Clause, value: Any, field: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise at.error(f"{field} must be a finite number, got {_show(value)}")
    return float(value)


def _in_order(at: _Clause, low: Any, high: Any) -> None:
    if low is not None and high is not None and low > high:
        raise at.error(f"min {_show(low)} is greater than max {_show(high)}")


def _strings(at: _Clause, value: Any, field: str, *, allow_empty: bool) -> list[str]:
    if value is None and allow_empty:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise at.error(f"{field} must be a list of non-empty strings, got {_show(value)}")
    if not value and not allow_empty:
        raise at.error(f"{field} must not be empty")
    return _distinct(value)


def _metadata_value(at: _Clause, value: Any, field: str) -> str | float | int | bool:
    """Metadata values are strings (datetimes in ISO 8601 too) and numbers."""
    if isinstance(value, str | bool) or (isinstance(value, int | float) and math.isfinite(value)):
        return value
    raise at.error(f"{field} must be a string, a number or a boolean, got {_show(value)}")


def _metadata_range(at: _Clause, low: Any, high: Any) -> tuple[Any, Any]:
    for field, value in (("min", low), ("max", high)):
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, str | int | float) or (
            not isinstance(value, str) and not math.isfinite(value)
        ):
            raise at.error(f"{field} must be a number or a string (e.g. an ISO 8601 datetime), got {_show(value)}")
    if low is None or high is None:
        return low, high
    if isinstance(low, str) != isinstance(high, str):
        raise at.error(f"min {_show(low)} and max {_show(high)} must both be numbers or both strings")
    if isinstance(low, str):
        low_time, high_time = _datetime(low), _datetime(high)
        if low_time is not None and high_time is not None:
            if low_time > high_time:
                raise at.error(f"min {_show(low)} is later than max {_show(high)}")
            return low, high
    _in_order(at, low, high)
    return low, high


def _datetime(text: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def _canonical_id(value: Any) -> str | None:
    try:
        return str(UUID(str(value)))
    except ValueError:
        return None


def _distinct(values: Iterable[Any]) -> list[Any]:
    out: list[Any] = []
    seen: set[tuple[type, Any]] = set()
    for value in values:
        key = (type(value), value)
        if key not in seen:
            seen.add(key)
            out.append(value)
    return out


def _show(value: Any) -> str:
    """A value as a message shows it: strings quoted, other values as JSON, long ones cut."""
    if isinstance(value, str):
        text = repr(value)
    else:
        try:
            text = json.dumps(value, allow_nan=True)
        except (TypeError, ValueError):
            text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
