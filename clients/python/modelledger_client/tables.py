"""What queries answer: frozen dataclasses, and `Table`, a list of them that turns into a
pandas DataFrame.

Each dataclass mirrors a GraphQL type field for field (snake_case here, camelCase there),
so its selection set is derived from it and cannot drift from the parsing."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    import pandas
    from _typeshed import DataclassInstance

T = TypeVar("T", bound="DataclassInstance")

PANDAS_MISSING = "to_pandas() needs pandas, which is not installed: pip install pandas"


def require_pandas() -> Any:
    """pandas, imported only when a table is converted: the client does not depend on it."""
    try:
        import pandas
    except ImportError as exc:
        raise ImportError(PANDAS_MISSING) from exc
    return pandas


class Table(list[T], Generic[T]):
    """The rows of an answer, in the server's order."""

    def __init__(self, row_type: type[T], rows: Any = ()) -> None:
        super().__init__(rows)
        self.row_type = row_type

    def to_pandas(self) -> pandas.DataFrame:
        """One column per dataclass field, so an empty table still has its columns."""
        pd = require_pandas()
        columns = [f.name for f in fields(self.row_type)]
        return pd.DataFrame([[getattr(row, c) for c in columns] for row in self], columns=columns)


def graphql_name(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def _key(f: Any) -> str:
    return str(f.metadata.get("graphql", graphql_name(f.name)))


def selection(row_type: type) -> str:
    """The GraphQL selection set of a dataclass: its fields, camelCase; a field whose metadata
    names a `nested` dataclass selects that one's fields."""
    return " ".join(
        f"{_key(f)} {{ {selection(f.metadata['nested'])} }}" if "nested" in f.metadata else _key(f)
        for f in fields(row_type)
    )


def parse(row_type: type[T], data: dict[str, Any]) -> T:
    """A dataclass from its GraphQL object (JSON lists become tuples: rows are frozen)."""
    values = {}
    for f in fields(row_type):
        value = data[_key(f)]
        nested = f.metadata.get("nested")
        values[f.name] = parse(nested, value) if nested is not None and value is not None else _frozen(value)
    return row_type(**values)


def parse_table(row_type: type[T], items: list[dict[str, Any]]) -> Table[T]:
    return Table(row_type, (parse(row_type, item) for item in items))


def _frozen(value: Any) -> Any:
    return tuple(_frozen(v) for v in value) if isinstance(value, list) else value


@dataclass(frozen=True)
class FeatureMetrics:
    """One feature's counts and rates at a grid point; `feature` is None for all of them (micro)."""

    feature: str | None
    tp: int
    fp: int
    fn: int
    tn: int
    precision: float | None
    recall: float | None
    f1: float | None
    iou: float | None
    annotations: int
    predictions: int


@dataclass(frozen=True)
class CustomMetric:
    name: str
    feature: str | None
    aggregation: str
    value: float | None
    data_rows: int


@dataclass(frozen=True)
class MacroMetrics:
    precision: float | None
    recall: float | None
    f1: float | None
    iou: float | None


@dataclass(frozen=True)
class RunMetrics:
    """A run's metrics at one (confidence, iou) grid point."""

    confidence: float
    iou: float
    features: Table[FeatureMetrics]
    all: FeatureMetrics
    macro: MacroMetrics
    custom: Table[CustomMetric]
    data_rows: int
    pending_data_rows: int

    @staticmethod
    def selection() -> str:
        return (
            f"confidence iou dataRows pendingDataRows features {{ {selection(FeatureMetrics)} }} "
            f"all {{ {selection(FeatureMetrics)} }} macro {{ {selection(MacroMetrics)} }} "
            f"custom {{ {selection(CustomMetric)} }}"
        )

    @classmethod
    def parse(cls, data: dict[str, Any]) -> RunMetrics:
        return cls(
            confidence=data["confidence"],
            iou=data["iou"],
            features=parse_table(FeatureMetrics, data["features"]),
            all=parse(FeatureMetrics, data["all"]),
            macro=parse(MacroMetrics, data["macro"]),
            custom=parse_table(CustomMetric, data["custom"]),
            data_rows=data["dataRows"],
            pending_data_rows=data["pendingDataRows"],
        )


@dataclass(frozen=True)
class ConfusionCell:
    """A non-empty cell; `filter` is the DataRowFilter that selects its data rows."""

    ground_truth: str | None
    prediction: str | None
    count: int
    data_rows: int
    filter: dict[str, Any]


@dataclass(frozen=True)
class ConfusionMatrix:
    """Rows are ground truth, columns predictions; None (no object) comes last on both."""

    labels: tuple[str | None, ...]
    counts: tuple[tuple[int, ...], ...]
    cells: Table[ConfusionCell]

    @staticmethod
    def selection() -> str:
        return f"labels counts cells {{ {selection(ConfusionCell)} }}"

    @classmethod
    def parse(cls, data: dict[str, Any]) -> ConfusionMatrix:
        return cls(_frozen(data["labels"]), _frozen(data["counts"]), parse_table(ConfusionCell, data["cells"]))

    def count(self, ground_truth: str | None, prediction: str | None) -> int:
        return self.counts[self.labels.index(ground_truth)][self.labels.index(prediction)]

    def to_pandas(self) -> pandas.DataFrame:
        """The square matrix, ground truth as the index, predictions as the columns."""
        pd = require_pandas()
        names = ["None" if label is None else label for label in self.labels]
        frame = pd.DataFrame(list(self.counts), index=names, columns=names)
        frame.index.name, frame.columns.name = "ground truth", "prediction"
        return frame


@dataclass(frozen=True)
class PrPoint:
    confidence: float
    precision: float | None
    recall: float | None


@dataclass(frozen=True)
class RowMetrics:
    """A data row's metrics at a grid point: counts over its features; ratios None where
    undefined."""

    tp: int
    fp: int
    fn: int
    tn: int
    precision: float | None
    recall: float | None
    f1: float | None
    iou: float | None


@dataclass(frozen=True)
class DataRow:
    """A row of a run's gallery; labels and predictions are in the NDJSON line format;
    `metrics` at the grid point when one was asked (`data_rows(confidence=, iou=)`), else
    None, as for a row no prediction upload covered."""

    id: str
    global_key: str
    width: int | None
    height: int | None
    labels: tuple[Any, ...]
    row_data: str | None
    media_type: str | None
    metadata: dict[str, Any] | None
    split: str | None
    covered: bool | None
    predictions: tuple[Any, ...] | None
    metrics: RowMetrics | None = field(default=None, metadata={"nested": RowMetrics})


@dataclass(frozen=True)
class RunEvent:
    """One change of a run: the event that made `version`, who made it and when."""

    version: int
    type: str
    actor: str
    at: str
    summary: dict[str, Any]


@dataclass(frozen=True)
class SplitChange:
    global_key: str
    from_split: str = field(metadata={"graphql": "from"})
    to_split: str = field(metadata={"graphql": "to"})


@dataclass(frozen=True)
class RunDiff:
    """What changed in a run between two versions; rows are named by global key."""

    from_version: int
    to_version: int
    rows_added: tuple[str, ...]
    rows_removed: tuple[str, ...]
    splits_changed: tuple[SplitChange, ...]
    labels_changed: tuple[str, ...]
    predictions_changed: tuple[str, ...]
    config_before: dict[str, Any]
    config_after: dict[str, Any]
    metric_settings_before: dict[str, Any]
    metric_settings_after: dict[str, Any]

    @staticmethod
    def selection() -> str:
        flat = [f for f in fields(RunDiff) if f.name != "splits_changed"]
        return " ".join(_key(f) for f in flat) + f" splitsChanged {{ {selection(SplitChange)} }}"

    @classmethod
    def parse(cls, data: dict[str, Any]) -> RunDiff:
        values = {f.name: _frozen(data[_key(f)]) for f in fields(cls) if f.name != "splits_changed"}
        changes = tuple(parse(SplitChange, c) for c in data["splitsChanged"])
        return cls(splits_changed=changes, **values)


@dataclass(frozen=True)
class MetricsStatus:
    state: str
    pending_data_rows: int
    progress: float | None
    error: str | None


@dataclass(frozen=True)
class Feature:
    """A feature of a model's ontology; answers are named "<question>/<answer>"."""

    id: str
    name: str
    kind: str
    question: str | None


@dataclass(frozen=True)
class EmbeddingSpace:
    id: str
    name: str
    dimension: int
    version: int
    vector_count: int


@dataclass(frozen=True)
class Projection:
    """A 2-D projection of a run's embeddings, computed in the background."""

    id: str
    state: str
    progress: float
    stage: str
    error: str | None
    method: str
    space: str
    run_version: int
    point_count: int


@dataclass(frozen=True)
class AssetFile:
    """A file the server keeps; put `row_data` in the line of the row that shows it."""

    row_data: str
    bytes: int
    content_type: str


@dataclass(frozen=True)
class UploadResult:
    """`accepted` lines recorded in `requests` chunks (one request each, retries aside);
    `version` is the dataset's, run's or embedding space's version after the last one."""

    accepted: int
    requests: int
    version: int | None
