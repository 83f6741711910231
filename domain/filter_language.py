"""The data row filter language (the schema's DataRowFilter): clauses the read models evaluate.

A filter is an AND of clauses; a clause holding a list matches any of its values (OR). The
same filter arrives as a GraphQL input or as the JSON a saved slice keeps: both become these
values through `clauses_from_json`, after domain.filters has checked the JSON.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from domain.filters import validate_filter


@dataclass(frozen=True, slots=True)
class AnnotationClause:
    features: tuple[str, ...]
    present: bool = True
    min: int | None = None
    max: int | None = None


@dataclass(frozen=True, slots=True)
class PredictionClause:
    features: tuple[str, ...]
    present: bool = True


@dataclass(frozen=True, slots=True)
class MetricClause:
    """Rows whose metric is in [min, max], or in [min, max) with max_exclusive."""

    name: str
    feature: str | None = None
    min: float | None = None
    max: float | None = None
    max_exclusive: bool = False


@dataclass(frozen=True, slots=True)
class ConfidenceClause:
    """Rows with a prediction (of the feature, if given) whose confidence is in [min, max]."""

    feature: str | None = None
    min: float | None = None
    max: float | None = None


@dataclass(frozen=True, slots=True)
class MetadataClause:
    """Exactly one test: equals, in, contains (strings, case-insensitive) or a range."""

    key: str
    equals: Any = None
    any_of: tuple[Any, ...] | None = None
    contains: str | None = None
    min: Any = None
    max: Any = None


@dataclass(frozen=True, slots=True)
class SplitClause:
    splits: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DataRowsClause:
    ids: tuple[str, ...] = ()
    global_keys: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SelectionClause:
    """An explicit selection of data row ids (points chosen in the projector, say)."""

    ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SliceClause:
    """Members of a saved slice: its own filter, evaluated in the run at hand."""

    slice_id: str


@dataclass(frozen=True, slots=True)
class AutoSliceClause:
    """Members of an automatic slice (docs/metrics.md §12) at the query's grid point."""

    name: str


@dataclass(frozen=True, slots=True)
class ConfusionClause:
    """Rows with an outcome in one confusion cell; None is the None label."""

    ground_truth: str | None
    prediction: str | None


@dataclass(frozen=True, slots=True)
class EvaluatedClause:
    """Rows a prediction upload covered and whose metrics are computed (true), or the others."""

    evaluated: bool


Clause = (
    AnnotationClause
    | PredictionClause
    | MetricClause
    | ConfidenceClause
    | MetadataClause
    | SplitClause
    | DataRowsClause
    | SelectionClause
    | SliceClause
    | AutoSliceClause
    | ConfusionClause
    | EvaluatedClause
)

# Clauses answered from match results: refused while the run's metrics are being computed.
RESULT_CLAUSES = (MetricClause, ConfusionClause, AutoSliceClause)


def depends_on_results(clauses: Sequence[Clause]) -> bool:
    return any(isinstance(c, RESULT_CLAUSES) for c in clauses)


def clauses_from_json(value: Any) -> list[Clause]:
    """The clauses of a filter as JSON ({"all": [clause, ...]}); None is no filter.

    The JSON is checked by domain.filters (every error names its clause); features and
    slices are checked where the filter is applied, against the run's model.
    """
    if value is None:
        return []
    return [_clause(item) for item in validate_filter(value, None, None)["all"]]


def _clause(item: dict[str, Any]) -> Clause:
    ((kind, body),) = item.items()
    if kind == "annotation":
        return AnnotationClause(tuple(body["features"]), body["present"], body["min"], body["max"])
    if kind == "prediction":
        return PredictionClause(tuple(body["features"]), body["present"])
    if kind == "metric":
        return MetricClause(body["name"], body["feature"], body["min"], body["max"], body["maxExclusive"])
    if kind == "confidence":
        return ConfidenceClause(body["feature"], body["min"], body["max"])
    if kind == "metadata":
        any_of = body["in"]
        return MetadataClause(
            body["key"], body["equals"], None if any_of is None else tuple(any_of), body["contains"], body["min"], body["max"]
        )
    if kind == "split":
        return SplitClause(tuple(body))
    if kind == "dataRows":
        return DataRowsClause(tuple(body["ids"]), tuple(body["globalKeys"]))
    if kind == "selection":
        return SelectionClause(tuple(body["ids"]))
    if kind == "slice":
        return SliceClause(body)
    if kind == "autoSlice":
        return AutoSliceClause(body)
    if kind == "evaluated":
        return EvaluatedClause(body)
    return ConfusionClause(body["groundTruth"], body["prediction"])
