// The comparison view's operations (schema.graphql: compareModelRuns).
import type { FeatureMetricRow } from "./gallery";
import { CONFUSION_FIELDS, type ConfusionAnswer, DISTRIBUTION_FIELDS, type DistributionPage } from "./metrics";

export interface MetricDelta {
  feature: string | null;
  metric: string;
  a: number | null;
  b: number | null;
  delta: number | null;
  low: number | null;
  high: number | null;
  significant: boolean;
}

export interface WorseRow {
  dataRow: { id: string; globalKey: string };
  a: number;
  b: number;
  by: number;
}

export interface Comparison {
  commonDataRows: number;
  a: { all: FeatureMetricRow; features: FeatureMetricRow[] };
  b: { all: FeatureMetricRow; features: FeatureMetricRow[] };
  deltas: MetricDelta[];
  worseDataRows: { totalCount: number; nodes: WorseRow[] };
}

const METRIC_FIELDS = "feature tp fp fn tn precision recall f1 iou";

export const COMPARE = `query Compare($a: ID!, $b: ID!, $versionA: Int, $versionB: Int, $confidence: Float!, $iou: Float!, $metric: String!, $filter: DataRowFilter) {
  compareModelRuns(runA: $a, runB: $b, versionA: $versionA, versionB: $versionB, confidence: $confidence, iou: $iou, metric: $metric, filter: $filter) {
    commonDataRows
    a { all { ${METRIC_FIELDS} } features { ${METRIC_FIELDS} } }
    b { all { ${METRIC_FIELDS} } features { ${METRIC_FIELDS} } }
    deltas { feature metric a b delta low high significant }
    worseDataRows(first: 50) { totalCount nodes { dataRow { id globalKey } a b by } }
  }
  runA: modelRun(id: $a) { id name modelId model { id name } }
  runB: modelRun(id: $b) { id name }
}`;

export interface ModelRunChoice {
  id: string;
  name: string;
  latestVersion: number;
}

export const MODEL_RUNS = `query ModelRuns($id: ID!) { model(id: $id) { id modelRuns(first: 100) { nodes { id name latestVersion } } } }`;

/** What each run's charts show: its confusion matrix and its objects per feature. */
export interface RunCharts {
  id: string;
  confusionMatrix: ConfusionAnswer;
  annotationDistribution: DistributionPage;
  predictionDistribution: DistributionPage;
}

const RUN_CHARTS = `id
    confusionMatrix(confidence: $confidence, iou: $iou, filter: $filter) { ${CONFUSION_FIELDS} }
    annotationDistribution(filter: $filter, first: $first) { ${DISTRIBUTION_FIELDS} }
    predictionDistribution(confidence: $confidence, filter: $filter, first: $first) { ${DISTRIBUTION_FIELDS} }`;

/** Both runs' charts, each run at its own version. */
export const COMPARE_CHARTS = `query CompareCharts($a: ID!, $b: ID!, $versionA: Int, $versionB: Int, $confidence: Float!, $iou: Float!, $filter: DataRowFilter, $first: Int) {
  runA: modelRun(id: $a, version: $versionA) { ${RUN_CHARTS} }
  runB: modelRun(id: $b, version: $versionB) { ${RUN_CHARTS} }
}`;
