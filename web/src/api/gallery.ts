// The gallery's operations (schema.graphql) and the shapes they answer with.
import type { DataRowFilter, DataRowSort, MetadataKind, SplitName } from "../lib/filters";

export type MetricsState = "IN_SYNC" | "COMPUTING" | "FAILED";

export interface MetricsStatus {
  state: MetricsState;
  pendingDataRows: number;
  progress: number | null;
  error: string | null;
  /** The log position of the run's last computation change: later with the same state means
   *  results were computed since. */
  changedAt: number;
}

export interface Feature {
  name: string;
  kind: string;
  question: string | null;
}

export interface RunInfo {
  id: string;
  name: string;
  version: number;
  latestVersion: number;
  modelId: string;
  rowCount: number;
  deleted: boolean;
  metricSettings: { confidenceThresholds: number[]; iouThresholds: number[]; pointRadius: number };
  metricsStatus: MetricsStatus;
  model: { id: string; name: string; ontology: { features: Feature[] } } | null;
}

export const RUN = `query GalleryRun($id: ID!, $version: Int) {
  modelRun(id: $id, version: $version) {
    id name version latestVersion modelId rowCount deleted
    metricSettings { confidenceThresholds iouThresholds pointRadius }
    metricsStatus { state pendingDataRows progress error changedAt }
    model { id name ontology { features { name kind question } } }
  }
  datasets(first: 100) { nodes { metadataFields { key kind options } } }
}`;

export interface MetadataField {
  key: string;
  kind: MetadataKind;
  options: string[];
}

export interface GalleryRow {
  id: string;
  globalKey: string;
  width: number | null;
  height: number | null;
  rowData: string | null;
  mediaType: string | null;
  split: SplitName | null;
  metadata: Record<string, unknown> | null;
  labels: unknown;
  predictions: unknown;
}

const ROW_FIELDS = "id globalKey width height rowData mediaType split metadata labels predictions";

export const ROWS = `query GalleryRows($id: ID!, $version: Int, $filter: DataRowFilter, $sort: [DataRowSort!],
    $confidence: Float, $iou: Float, $first: Int, $after: String, $split: Split) {
  modelRun(id: $id, version: $version) {
    id
    dataRows(filter: $filter, sort: $sort, confidence: $confidence, iou: $iou, first: $first, after: $after, split: $split) {
      totalCount
      pageInfo { hasNextPage endCursor }
      nodes { ${ROW_FIELDS} }
    }
  }
}`;

export interface RowsVariables {
  id: string;
  version: number | null;
  filter: DataRowFilter | null;
  sort: DataRowSort[] | null;
  confidence: number | null;
  iou: number | null;
  first: number;
  after: string | null;
  split: SplitName | null;
}

export interface ObjectOutcome {
  index: number;
  feature: string;
  confidence: number | null;
  outcome: string;
  partner: number | null;
  partnerFeature: string | null;
  iou: number | null;
}

export interface FeatureMetricRow {
  feature: string | null;
  tp: number;
  fp: number;
  fn: number;
  tn: number;
  precision: number | null;
  recall: number | null;
  f1: number | null;
  iou: number | null;
}

const METRIC_FIELDS = "feature tp fp fn tn precision recall f1 iou";

export const DETAIL = `query RowDetail($id: ID!, $version: Int, $row: ID!, $confidence: Float!, $iou: Float!) {
  modelRun(id: $id, version: $version) {
    id
    dataRowDetail(id: $row, confidence: $confidence, iou: $iou) {
      dataRow { ${ROW_FIELDS} }
      annotations { index feature confidence outcome partner partnerFeature iou }
      predictions { index feature confidence outcome partner partnerFeature iou }
      customMetrics { name feature value }
    }
  }
}`;

export const ROW_METRICS = `query RowMetrics($id: ID!, $version: Int, $confidence: Float!, $iou: Float!, $filter: DataRowFilter) {
  modelRun(id: $id, version: $version) {
    id
    metrics(confidence: $confidence, iou: $iou, filter: $filter) {
      features { ${METRIC_FIELDS} }
      all { ${METRIC_FIELDS} }
    }
  }
}`;

export interface RowDetailData {
  dataRow: GalleryRow;
  annotations: ObjectOutcome[];
  predictions: ObjectOutcome[];
  customMetrics: { name: string; feature: string | null; value: number | null }[];
}

export const CUSTOM_METRICS = `query CustomMetricNames($id: ID!, $version: Int, $confidence: Float!, $iou: Float!) {
  modelRun(id: $id, version: $version) { id metrics(confidence: $confidence, iou: $iou) { custom { name feature } } }
}`;

export interface SliceCount {
  id: string | null;
  name: string;
  count: number | null;
  reason: string | null;
  filter: DataRowFilter;
}

export const SLICES = `query Slices($id: ID!, $version: Int, $confidence: Float, $iou: Float) {
  modelRun(id: $id, version: $version) { id slices(confidence: $confidence, iou: $iou) { id name count reason filter } }
}`;

export const AUTO_SLICES = `query AutoSlices($id: ID!, $version: Int, $confidence: Float!, $iou: Float!) {
  modelRun(id: $id, version: $version) { id autoSlices(confidence: $confidence, iou: $iou) { id name count reason filter } }
}`;

export const SLICE_MEMBERSHIP = `subscription SliceMembership($runId: ID!, $sliceId: ID, $autoSlice: String, $confidence: Float, $iou: Float) {
  sliceMembership(runId: $runId, sliceId: $sliceId, autoSlice: $autoSlice, confidence: $confidence, iou: $iou) { name count runVersion }
}`;

export const METRICS_STATUS = `subscription MetricsStatus($runId: ID!) {
  metricsStatus(runId: $runId) { state pendingDataRows progress error changedAt }
}`;

const ERRORS = "... on UserError { code message }";

export const RETRY_METRICS = `mutation RetryMetrics($runId: ID!) {
  retryMetrics(runId: $runId) { __typename ... on RetryMetricsPayload { retried metricsStatus { state pendingDataRows progress error changedAt } } ${ERRORS} }
}`;

export const CREATE_SLICE = `mutation CreateSlice($input: CreateSliceInput!) {
  createSlice(input: $input) { __typename ... on CreateSlicePayload { slice { id name } } ${ERRORS} }
}`;

export const RENAME_SLICE = `mutation RenameSlice($input: RenameSliceInput!) {
  renameSlice(input: $input) { __typename ... on RenameSlicePayload { slice { id name } } ${ERRORS} }
}`;

export const DELETE_SLICE = `mutation DeleteSlice($input: DeleteSliceInput!) {
  deleteSlice(input: $input) { __typename ... on DeleteSlicePayload { slice { id } } ${ERRORS} }
}`;

/** The typed error of a mutation answer ("errors as data"), or null on success. */
export function userError(result: { __typename: string; message?: string } | undefined): string | null {
  if (!result) return "no answer";
  return "message" in result && result.message ? result.message : null;
}
