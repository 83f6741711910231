"""The data row filter (the schema's DataRowFilter) and the gallery's sort, as GraphQL inputs.

A filter input is turned into its JSON form (the form a saved slice keeps and a confusion
cell or histogram bar hands out) and read back through domain.filter_language, so a typed
input and a saved filter go through the same checks.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

import strawberry
from strawberry.scalars import JSON

from domain.filter_language import Clause, clauses_from_json
from projections.gallery.sorting import SortKey


@strawberry.enum
class FilterSplit(Enum):
    TRAINING = "TRAINING"
    VALIDATION = "VALIDATION"
    TEST = "TEST"
    UNASSIGNED = "UNASSIGNED"


@strawberry.input(description="Rows with (or, present false, without) annotations of any of the features; "
                  "min / max bound how many.")
class AnnotationFilter:
    features: list[str]
    present: bool = True
    min: int | None = None
    max: int | None = None


@strawberry.input(description="Rows with (or, present false, without) predictions of any of the features.")
class PredictionFilter:
    features: list[str]
    present: bool = True


@strawberry.input(description="Rows whose metric (automatic or custom), at the query's grid point, is in "
                  "[min, max]; scoped to one feature if given.")
class MetricFilter:
    name: str
    feature: str | None = None
    min: float | None = None
    max: float | None = None
    max_exclusive: bool = strawberry.field(
        default=False, description="Leave max itself out: [min, max), as a histogram bin does."
    )


@strawberry.input(description="Rows with a prediction (of the feature, if given) whose confidence is in [min, max].")
class ConfidenceFilter:
    feature: str | None = None
    min: float | None = None
    max: float | None = None


@strawberry.input(description="One test of a metadata field: equals, in, contains (strings, ignoring case), "
                  "or min and/or max (numbers, datetimes as ISO 8601).")
class MetadataFilter:
    key: str
    equals: JSON | None = None
    in_: list[JSON] | None = strawberry.field(default=None, name="in")
    contains: str | None = None
    min: JSON | None = None
    max: JSON | None = None


@strawberry.input
class DataRowsFilter:
    ids: list[strawberry.ID] | None = None
    global_keys: list[str] | None = None


@strawberry.input(description="An explicit selection of data rows (points chosen in the projector, say).")
class SelectionFilter:
    ids: list[strawberry.ID]


@strawberry.input(description="Rows with an outcome in this confusion-matrix cell; null is None.")
class ConfusionCellFilter:
    ground_truth: str | None = None
    prediction: str | None = None


@strawberry.input(one_of=True, description="Exactly one condition; lists inside it are OR-ed.")
class FilterClause:
    annotation: AnnotationFilter | None = strawberry.UNSET
    prediction: PredictionFilter | None = strawberry.UNSET
    metric: MetricFilter | None = strawberry.UNSET
    confidence: ConfidenceFilter | None = strawberry.UNSET
    metadata: MetadataFilter | None = strawberry.UNSET
    split: list[FilterSplit] | None = strawberry.UNSET
    data_rows: DataRowsFilter | None = strawberry.UNSET
    selection: SelectionFilter | None = strawberry.UNSET
    slice: strawberry.ID | None = strawberry.UNSET
    auto_slice: str | None = strawberry.field(
        default=strawberry.UNSET, description="An automatic slice by name, at the query's grid point."
    )
    confusion_cell: ConfusionCellFilter | None = strawberry.UNSET
    evaluated: bool | None = strawberry.field(
        default=strawberry.UNSET,
        description="Rows whose metrics are computed (a prediction upload covered them), or, false, the others.",
    )


@strawberry.input(description="The rows a query covers: all clauses hold (AND). Its JSON form is what a "
                  "saved slice keeps.")
class DataRowFilter:
    all: list[FilterClause] | None = None


@strawberry.enum(description="What the gallery sorts by; null values sort last either way.")
class SortField(Enum):
    ID = "ID"
    GLOBAL_KEY = "GLOBAL_KEY"
    METRIC = "METRIC"
    CONFIDENCE_MAX = "CONFIDENCE_MAX"
    CONFIDENCE_MIN = "CONFIDENCE_MIN"
    METADATA = "METADATA"


@strawberry.input(description="One sort key: a metric (named, optionally scoped to a feature, at the query's "
                  "grid point), the highest or lowest prediction confidence (optionally of one feature), a "
                  "metadata field (key), the global key or the id. Ties go to the next key, then the id.")
class DataRowSort:
    field: SortField
    descending: bool = False
    metric: str | None = None
    feature: str | None = None
    key: str | None = None

    def to_key(self) -> SortKey:
        return SortKey(self.field.value, self.descending, self.metric, self.feature, self.key)


_JSON_NAMES = {"data_rows": "dataRows", "confusion_cell": "confusionCell", "auto_slice": "autoSlice", "in_": "in"}


def filter_json(selection: DataRowFilter | None) -> dict[str, Any] | None:
    if selection is None:
        return None
    return {"all": [_clause_json(c) for c in selection.all or []]}


def clauses_of(selection: DataRowFilter | None) -> list[Clause]:
    return clauses_from_json(filter_json(selection))


def with_clause(selection: DataRowFilter | None, clause: dict[str, Any]) -> dict[str, Any]:
    """The filter (as JSON) with one more clause: what a bar or a cell gives a client to
    select its rows."""
    return {"all": [*clauses_json(selection), clause]}


def clauses_json(selection: DataRowFilter | None) -> list[dict[str, Any]]:
    """The filter's clauses as JSON, to give many items the same selection plus their own
    clause (`{"all": [*clauses, clause]}`) without converting it for each one."""
    return [_clause_json(c) for c in (selection.all or [])] if selection is not None else []


def _clause_json(clause: FilterClause) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in vars(clause).items():
        if value is None or value is strawberry.UNSET:
            continue
        out[_JSON_NAMES.get(name, name)] = _plain(value)
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, Enum):
        return value.value
    if hasattr(value, "__strawberry_definition__"):
        out = {}
        for key, item in vars(value).items():
            if item is None or item is strawberry.UNSET:
                continue
            name = _JSON_NAMES.get(key) or "".join(p if i == 0 else p.title() for i, p in enumerate(key.split("_")))
            out[name] = _plain(item)
        return out
    return value
