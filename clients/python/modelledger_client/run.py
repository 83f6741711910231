"""A model run: its rows, predictions, custom metrics and config, and what the server
computes from them (metrics, confusion matrix, curves, gallery, history, projections)."""

from __future__ import annotations

import os
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from modelledger_client.dataset import Dataset
from modelledger_client.errors import ModelLedgerError, NotFoundError
from modelledger_client.ndjson import Source, data_row_key
from modelledger_client.session import PAGE_INFO, Session
from modelledger_client.subscriptions import wait_until_metrics_in_sync
from modelledger_client.tables import (
    ConfusionMatrix,
    DataRow,
    MetricsStatus,
    Projection,
    PrPoint,
    RunDiff,
    RunEvent,
    RunMetrics,
    Table,
    UploadResult,
    parse,
    parse_table,
    selection,
)
from modelledger_client.uploads import Upload

FIELDS = "id name modelId version latestVersion rowCount createdAt updatedAt"
ERRORS = "... on UserError { code message } ... on ValidationError { lineErrors { line message } }"

# Every read names the version: None is the newest, N the run as it was at N.
GET = f"query($id: ID!, $version: Int) {{ modelRun(id: $id, version: $version) {{ {FIELDS} }} }}"
CONFIG = "query($id: ID!, $version: Int) { modelRun(id: $id, version: $version) { config } }"
STATUS = f"query($id: ID!) {{ modelRun(id: $id) {{ metricsStatus {{ {selection(MetricsStatus)} }} }} }}"
METRICS = f"""query($id: ID!, $version: Int, $confidence: Float!, $iou: Float!, $filter: DataRowFilter) {{
  modelRun(id: $id, version: $version) {{
    metrics(confidence: $confidence, iou: $iou, filter: $filter) {{ {RunMetrics.selection()} }} }} }}"""
CONFUSION = f"""query($id: ID!, $version: Int, $confidence: Float!, $iou: Float!, $filter: DataRowFilter) {{
  modelRun(id: $id, version: $version) {{
    confusionMatrix(confidence: $confidence, iou: $iou, filter: $filter) {{ {ConfusionMatrix.selection()} }} }} }}"""
CURVE = f"""query($id: ID!, $version: Int, $iou: Float!, $feature: String, $filter: DataRowFilter) {{
  modelRun(id: $id, version: $version) {{
    precisionRecallCurve(iou: $iou, feature: $feature, filter: $filter) {{ {selection(PrPoint)} }} }} }}"""
DATA_ROWS = f"""query($id: ID!, $version: Int, $filter: DataRowFilter, $sort: [DataRowSort!], $confidence: Float,
    $iou: Float, $split: Split, $first: Int, $after: String) {{
  modelRun(id: $id, version: $version) {{
    dataRows(filter: $filter, sort: $sort, confidence: $confidence, iou: $iou, split: $split, first: $first, after: $after) {{
      {PAGE_INFO} nodes {{ {selection(DataRow)} }} }} }} }}"""
HISTORY = f"""query($id: ID!, $first: Int, $after: String) {{
  modelRun(id: $id) {{ history(first: $first, after: $after) {{ {PAGE_INFO} nodes {{ {selection(RunEvent)} }} }} }} }}"""
DIFF = f"""query($id: ID!, $from: Int!, $to: Int!) {{
  modelRun(id: $id) {{ diff(fromVersion: $from, toVersion: $to) {{ {RunDiff.selection()} }} }} }}"""
PROJECTION = f"query($id: ID!, $p: ID!) {{ modelRun(id: $id) {{ projection(id: $p) {{ {selection(Projection)} }} }} }}"

@dataclass(frozen=True)
class ObjectOutcome:
    """An annotation's or prediction's match at a grid point (TP, FP, FN, INACTIVE,
    UNMATCHED, CROWD, IGNORED); `partner` indexes the object paired with it."""

    index: int
    feature: str
    confidence: float | None
    outcome: str
    partner: int | None
    partner_feature: str | None
    iou: float | None


@dataclass(frozen=True)
class RowCustomMetric:
    """A custom metric's newest value on one row (of one feature, or of the row)."""

    name: str
    feature: str | None
    value: float | None


@dataclass(frozen=True)
class RowOutcomes:
    """One data row of a run at a grid point: each object's outcome, and its custom metrics."""

    annotations: Table[ObjectOutcome]
    predictions: Table[ObjectOutcome]
    custom_metrics: Table[RowCustomMetric]

    @classmethod
    def parse(cls, data: dict[str, Any]) -> RowOutcomes:
        return cls(
            parse_table(ObjectOutcome, data["annotations"]),
            parse_table(ObjectOutcome, data["predictions"]),
            parse_table(RowCustomMetric, data["customMetrics"]),
        )


DETAIL = f"""query($id: ID!, $version: Int, $row: ID!, $confidence: Float!, $iou: Float!) {{
  modelRun(id: $id, version: $version) {{ dataRowDetail(id: $row, confidence: $confidence, iou: $iou) {{
    annotations {{ {selection(ObjectOutcome)} }} predictions {{ {selection(ObjectOutcome)} }}
    customMetrics {{ {selection(RowCustomMetric)} }} }} }} }}"""

UPSERT_ROWS = f"""mutation($input: UpsertModelRunRowsInput!) {{
  upsertModelRunRows(input: $input) {{ ... on UpsertModelRunRowsPayload {{ version }} {ERRORS} }} }}"""
UPDATE_CONFIG = f"""mutation($input: UpdateModelRunConfigInput!) {{
  updateModelRunConfig(input: $input) {{ ... on UpdateModelRunConfigPayload {{ version }} {ERRORS} }} }}"""
RESET_CONFIG = f"""mutation($input: ResetModelRunConfigInput!) {{
  resetModelRunConfig(input: $input) {{ ... on ResetModelRunConfigPayload {{ version }} {ERRORS} }} }}"""
COPY_CONFIG = f"""mutation($input: CopyModelRunConfigInput!) {{
  copyModelRunConfig(input: $input) {{ ... on CopyModelRunConfigPayload {{ version }} {ERRORS} }} }}"""
RETRY_METRICS = f"""mutation($id: ID!) {{
  retryMetrics(runId: $id) {{ ... on RetryMetricsPayload {{ retried }} {ERRORS} }} }}"""
REQUEST_PROJECTION = f"""mutation($input: RequestProjectionInput!) {{
  requestProjection(input: $input) {{ ... on ProjectionPayload {{ projection {{ {selection(Projection)} }} }} {ERRORS} }} }}"""


@dataclass(frozen=True)
class ModelRun:
    """A snapshot of a run. `as_of` None reads the newest version; a run from `at(N)`
    reads everything as it was at version N."""

    session: Session = field(repr=False, compare=False)
    id: str
    name: str
    model_id: str
    version: int
    latest_version: int
    row_count: int
    created_at: str
    updated_at: str
    as_of: int | None = None

    @classmethod
    def load(cls, session: Session, run_id: str, version: int | None = None) -> ModelRun:
        found = session.transport.graphql(GET, {"id": run_id, "version": version})["modelRun"]
        if found is None:
            at = "" if version is None else f" at version {version}"
            raise NotFoundError(f"model run {run_id!r}{at} not found")
        return cls.parse(session, found, version)

    @classmethod
    def parse(cls, session: Session, data: dict[str, Any], as_of: int | None = None) -> ModelRun:
        return cls(
            session, data["id"], data["name"], data["modelId"], data["version"], data["latestVersion"],
            data["rowCount"], data["createdAt"], data["updatedAt"], as_of,
        )  # fmt: skip

    def refresh(self) -> ModelRun:
        return self.load(self.session, self.id, self.as_of)

    def at(self, version: int) -> ModelRun:
        """The run as it was at `version`: every read of it answers as of that version."""
        return self.load(self.session, self.id, version)

    # Rows, predictions, custom metrics

    def upsert_rows(
        self,
        dataset: Dataset | str,
        global_keys: list[str] | None = None,
        data_row_ids: list[str] | None = None,
        splits: dict[str, Any] | None = None,
        expected_version: int | None = None,
    ) -> int:
        """Take rows of `dataset` (a Dataset or its id) with their current labels into the
        run; without keys or ids every row of it. `splits` is a SplitsInput. The new version."""
        payload = {
            "runId": self.id,
            "datasetId": dataset.id if isinstance(dataset, Dataset) else dataset,
            "globalKeys": global_keys,
            "dataRowIds": data_row_ids,
            "splits": splits,
            "expectedVersion": expected_version,
        }
        return self._mutate(UPSERT_ROWS, "upsertModelRunRows", payload)

    def add_predictions(self, lines: Source, progress: bool = True) -> UploadResult:
        """Set the predictions of the rows the lines name. A row's lines must be consecutive:
        each request replaces the predictions of the rows it names, so they go in one chunk."""
        upload = Upload(f"/upload/model-runs/{self.id}/predictions", "predictions", group=data_row_key)
        return self.session.uploader.upload(upload, lines, progress)

    def add_custom_metrics(self, lines: Source, progress: bool = True) -> UploadResult:
        upload = Upload(f"/upload/model-runs/{self.id}/custom-metrics", "custom metrics")
        return self.session.uploader.upload(upload, lines, progress)

    # Config

    @property
    def config(self) -> dict[str, Any]:
        """The run's hyperparameters, read now (as of `as_of` if set)."""
        config: dict[str, Any] = self._read(CONFIG)["config"]
        return config

    def update_config(self, config: dict[str, Any], expected_version: int | None = None) -> int:
        """Replace the config; with `expected_version`, only if the run is still at it."""
        payload = {"runId": self.id, "config": config, "expectedVersion": expected_version}
        return self._mutate(UPDATE_CONFIG, "updateModelRunConfig", payload)

    def reset_config(self, expected_version: int | None = None) -> int:
        """Back to the server's template (common hyperparameters, unset)."""
        return self._mutate(RESET_CONFIG, "resetModelRunConfig", {"runId": self.id, "expectedVersion": expected_version})

    def copy_config_from(self, source: ModelRun | str, expected_version: int | None = None) -> int:
        """Copy another run's current config into this one."""
        source_id = source.id if isinstance(source, ModelRun) else source
        payload = {"runId": self.id, "sourceRunId": source_id, "expectedVersion": expected_version}
        return self._mutate(COPY_CONFIG, "copyModelRunConfig", payload)

    # Metrics

    def metrics_status(self) -> MetricsStatus:
        return parse(MetricsStatus, self._read(STATUS, versioned=False)["metricsStatus"])

    def wait_until_metrics_in_sync(self, timeout: float = 600.0, progress: bool = True) -> MetricsStatus:
        """Block until every row's metrics are computed, following the server's pushes;
        MetricsFailedError on FAILED, MetricsTimeoutError after `timeout` seconds."""
        return wait_until_metrics_in_sync(self.session.transport, self.id, timeout, progress)

    def retry_metrics(self) -> int:
        """Resume failed metric computations: how many were resumed."""
        answer = self.session.transport.mutate(RETRY_METRICS, "retryMetrics", {"id": self.id})
        return int(answer["retried"])

    def metrics(self, confidence: float, iou: float, filter: dict[str, Any] | None = None) -> RunMetrics:
        """Per feature, all features (micro) and their mean (macro) at a grid point of the
        run's metric settings; `filter` is a DataRowFilter."""
        variables = {"confidence": confidence, "iou": iou, "filter": filter}
        return RunMetrics.parse(self._read(METRICS, variables)["metrics"])

    def confusion_matrix(self, confidence: float, iou: float, filter: dict[str, Any] | None = None) -> ConfusionMatrix:
        variables = {"confidence": confidence, "iou": iou, "filter": filter}
        return ConfusionMatrix.parse(self._read(CONFUSION, variables)["confusionMatrix"])

    def precision_recall_curve(
        self, iou: float, feature: str | None = None, filter: dict[str, Any] | None = None
    ) -> Table[PrPoint]:
        """(confidence, precision, recall) at every confidence threshold of the run."""
        variables = {"iou": iou, "feature": feature, "filter": filter}
        return parse_table(PrPoint, self._read(CURVE, variables)["precisionRecallCurve"])

    # Gallery, history

    def data_rows(
        self,
        filter: dict[str, Any] | None = None,
        sort: list[dict[str, Any]] | None = None,
        page_size: int = 100,
        confidence: float | None = None,
        iou: float | None = None,
        split: str | None = None,
    ) -> Iterator[DataRow]:
        """The run's rows with their labels and predictions, filtered and sorted, fetched a
        keyset page at a time as the iterator is consumed."""
        variables = {
            "id": self.id, "version": self.as_of, "filter": filter, "sort": sort,
            "confidence": confidence, "iou": iou, "split": split,
        }  # fmt: skip
        nodes = self.session.pages(DATA_ROWS, variables, lambda d: _run(d, self.id)["dataRows"], page_size)
        return (parse(DataRow, node) for node in nodes)

    def data_row_outcomes(self, data_row_id: str, confidence: float, iou: float) -> RowOutcomes:
        """One row's objects with their outcomes at a grid point, and its custom metrics."""
        variables = {"row": data_row_id, "confidence": confidence, "iou": iou}
        return RowOutcomes.parse(self._read(DETAIL, variables)["dataRowDetail"])

    def history(self, page_size: int = 100) -> Table[RunEvent]:
        """Every event of the run, oldest first: what changed, who changed it, when."""
        nodes = self.session.pages(HISTORY, {"id": self.id}, lambda d: _run(d, self.id)["history"], page_size)
        return parse_table(RunEvent, list(nodes))

    def diff(self, from_version: int, to_version: int) -> RunDiff:
        variables = {"from": from_version, "to": to_version}
        return RunDiff.parse(self._read(DIFF, variables, versioned=False)["diff"])

    # Projections

    def request_projection(
        self,
        space: str,
        method: str = "PCA",
        sphereize: bool = False,
        data_row_ids: list[str] | None = None,
        filter: dict[str, Any] | None = None,
        confidence: float | None = None,
        iou: float | None = None,
    ) -> Projection:
        """A PCA or UMAP projection of the run's rows with a vector in `space`, computed in
        the background (an identical request returns the existing one)."""
        payload = {
            "runId": self.id, "space": space, "method": method, "sphereize": sphereize,
            "dataRowIds": data_row_ids, "filter": filter, "confidence": confidence, "iou": iou,
        }  # fmt: skip
        answer = self.session.transport.mutate(REQUEST_PROJECTION, "requestProjection", {"input": payload})
        return parse(Projection, answer["projection"])

    def projection(self, projection_id: str) -> Projection:
        found = self._read(PROJECTION, {"p": projection_id}, versioned=False)["projection"]
        if found is None:
            raise NotFoundError(f"projection {projection_id!r} of run {self.id} not found")
        return parse(Projection, found)

    # Export

    def export(
        self,
        format: str = "ndjson",
        *,
        output: str | os.PathLike[str],
        confidence: float = 0.5,
        iou: float = 0.5,
    ) -> list[Path]:
        """The run at this object's version, exported by the server (`GET /export/runs/{id}`)
        as `modelledger export run` writes it: ndjson into the file `output`; coco, parquet or
        csv into the directory `output` (made if missing). The paths written, in the
        server's order. The download is streamed to disk; an ndjson file appears only whole."""
        target = Path(output)
        params = {"format": format, "version": self.version, "confidence": confidence, "iou": iou}
        route = f"/export/runs/{self.id}"
        refused = "the export was refused"
        if format == "ndjson":
            target.parent.mkdir(parents=True, exist_ok=True)
            part = target.with_name(target.name + ".part")
            try:
                with part.open("wb") as file:
                    self.session.transport.download(route, params, file, refused)
                part.replace(target)
            finally:
                part.unlink(missing_ok=True)
            return [target]
        with tempfile.TemporaryFile() as archive:
            self.session.transport.download(route, params, archive, refused)
            archive.seek(0)
            with zipfile.ZipFile(archive) as files:
                return _extract(files, target)

    def _read(self, query: str, variables: dict[str, Any] | None = None, versioned: bool = True) -> dict[str, Any]:
        extra = {"version": self.as_of} if versioned else {}
        return _run(self.session.transport.graphql(query, {"id": self.id, **extra, **(variables or {})}), self.id)

    def _mutate(self, query: str, field_name: str, payload: dict[str, Any]) -> int:
        answer = self.session.transport.mutate(query, field_name, {"input": payload})
        return int(answer["version"])


def _extract(files: zipfile.ZipFile, directory: Path) -> list[Path]:
    """Every file of an export's zip into `directory`: plain names only, nothing outside it."""
    names = files.namelist()
    for name in names:
        if Path(name).name != name or name in ("", ".", ".."):
            raise ModelLedgerError(f"the export holds {name!r}, not a plain file name")
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name in names:
        path = directory / name
        with files.open(name) as source, path.open("wb") as file:
            while chunk := source.read(1024**2):
                file.write(chunk)
        written.append(path)
    return written


def _run(data: dict[str, Any], run_id: str) -> dict[str, Any]:
    """The run in an answer; a run that does not exist (or not at that version) is NotFound."""
    run: dict[str, Any] | None = data["modelRun"]
    if run is None:
        raise NotFoundError(f"model run {run_id!r} not found")
    return run
