// The projector's operations (schema.graphql: projections, requestProjection, projectionStatus).
import type { PointColumn } from "../lib/projector";

export interface ProjectionInfo {
  id: string;
  state: string;
  progress: number;
  stage: string;
  error: string | null;
  method: string;
  sphereize: boolean;
  space: string;
  pointCount: number;
  selected: boolean;
  runVersion: number;
}

const INFO = "id state progress stage error method sphereize space pointCount selected runVersion";

// Every query reads the run at $version (null: latest): the colouring columns are those of
// the run version shown.
export const PROJECTIONS = `query Projections($id: ID!, $version: Int) {
  modelRun(id: $id, version: $version) { id projections { ${INFO} } }
  datasets(first: 100) { nodes { id name } }
}`;

export const SPACES = `query Spaces($dataset: ID!) { embeddingSpaces(datasetId: $dataset) { id name dimension vectorCount } }`;

export const POINTS = `query Points($id: ID!, $version: Int, $projection: ID!) {
  modelRun(id: $id, version: $version) { id projection(id: $projection) { ${INFO} xy dataRowIdsPacked } }
}`;

export interface Points extends ProjectionInfo {
  xy: string | null;
  /** 16 bytes (a UUID) per point, base64: read only for the points a user hovers or selects. */
  dataRowIdsPacked: string | null;
}

export const SPLITS_COLUMN = `query SplitColumn($id: ID!, $version: Int, $projection: ID!) {
  modelRun(id: $id, version: $version) { id projection(id: $projection) { id splits { kind legend codes bytesPerCode values } } }
}`;
export const METADATA_COLUMN = `query MetadataColumn($id: ID!, $version: Int, $projection: ID!, $key: String!) {
  modelRun(id: $id, version: $version) { id projection(id: $projection) { id metadata(key: $key) { kind legend codes bytesPerCode values } } }
}`;
export const METRIC_COLUMN = `query MetricColumn($id: ID!, $version: Int, $projection: ID!, $metric: String!, $confidence: Float!, $iou: Float!) {
  modelRun(id: $id, version: $version) { id projection(id: $projection) { id metric(name: $metric, confidence: $confidence, iou: $iou) { kind legend codes bytesPerCode values } } }
}`;
export const FEATURE_POINTS = `query FeaturePoints($id: ID!, $version: Int, $projection: ID!) {
  modelRun(id: $id, version: $version) { id projection(id: $projection) { id features(source: LABELS) { feature count points } } }
}`;

export type ColumnAnswer = { splits?: PointColumn | null; metadata?: PointColumn | null; metric?: PointColumn | null; features?: { feature: string; count: number; points: string }[] | null };

export const REQUEST = `mutation Request($input: RequestProjectionInput!) {
  requestProjection(input: $input) { __typename ... on ProjectionPayload { created projection { ${INFO} } } ... on UserError { code message } }
}`;

export const STATUS = `subscription ProjectionStatus($runId: ID!, $projectionId: ID!) {
  projectionStatus(runId: $runId, projectionId: $projectionId) { id state progress stage error attempt }
}`;
