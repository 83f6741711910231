// The metrics view's operations (schema.graphql) and the shapes they answer with.
import type { FeatureMetricRow } from "./gallery";
import type { DataRowFilter, DataRowSort } from "../lib/filters";

export interface CustomMetricValue {
  name: string;
  feature: string | null;
  aggregation: string;
  value: number | null;
  dataRows: number;
}

export interface RunMetricsAnswer {
  features: (FeatureMetricRow & { annotations: number; predictions: number })[];
  all: FeatureMetricRow;
  macro: { precision: number | null; recall: number | null; f1: number | null; iou: number | null };
  custom: CustomMetricValue[];
  dataRows: number;
}

export interface ConfusionAnswer {
  labels: (string | null)[];
  /** Objects per cell: rows are ground truth, columns predictions (null: None). */
  counts: number[][];
  /** Laid out as counts: the data rows with an outcome in each cell. */
  dataRows: number[][];
}

export interface PrPoint {
  confidence: number;
  precision: number | null;
  recall: number | null;
}

export interface HistogramBin {
  min: number;
  max: number;
  dataRows: number;
  filter: DataRowFilter;
  sort: DataRowSort[];
}

export interface HistogramAnswer {
  metric: string;
  feature: string | null;
  bins: HistogramBin[];
  nulls: number;
  outside: number;
}

export interface DistributionEntry {
  feature: string;
  objects: number;
  dataRows: number;
  filter: DataRowFilter;
  parent: string | null;
  subFeatures: number;
}

export interface DistributionPage {
  totalCount: number;
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  nodes: DistributionEntry[];
}

// Two matrices, not the `cells` list: a matrix of 80 features has thousands of cells, each an
// object the server would build and send with its own filter (the component builds those).
export const CONFUSION_FIELDS = "labels counts dataRows";
const METRIC_FIELDS = "feature tp fp fn tn precision recall f1 iou";

export const RUN_METRICS = `query RunMetrics($id: ID!, $version: Int, $confidence: Float!, $iou: Float!, $filter: DataRowFilter) {
  modelRun(id: $id, version: $version) {
    id
    metrics(confidence: $confidence, iou: $iou, filter: $filter) {
      features { ${METRIC_FIELDS} annotations predictions }
      all { ${METRIC_FIELDS} }
      macro { precision recall f1 iou }
      custom { name feature aggregation value dataRows }
      dataRows
    }
    confusionMatrix(confidence: $confidence, iou: $iou, filter: $filter) {
      ${CONFUSION_FIELDS}
    }
  }
}`;

export const PR_CURVE = `query PrCurve($id: ID!, $version: Int, $iou: Float!, $feature: String, $filter: DataRowFilter) {
  modelRun(id: $id, version: $version) { id precisionRecallCurve(iou: $iou, feature: $feature, filter: $filter) { confidence precision recall } }
}`;

export const HISTOGRAM = `query Histogram($id: ID!, $version: Int, $metric: String!, $confidence: Float!, $iou: Float!, $filter: DataRowFilter) {
  modelRun(id: $id, version: $version) {
    id metricHistogram(metric: $metric, confidence: $confidence, iou: $iou, filter: $filter) {
      metric feature nulls outside bins { min max dataRows filter sort }
    }
  }
}`;

export const DISTRIBUTION_FIELDS = "totalCount pageInfo { hasNextPage endCursor } nodes { feature objects dataRows filter parent subFeatures }";

export const DISTRIBUTIONS = `query Distributions($id: ID!, $version: Int, $confidence: Float, $filter: DataRowFilter,
    $first: Int, $annotationsAfter: String, $predictionsAfter: String, $under: String) {
  modelRun(id: $id, version: $version) {
    id
    annotationDistribution(filter: $filter, first: $first, after: $annotationsAfter, under: $under) { ${DISTRIBUTION_FIELDS} }
    predictionDistribution(confidence: $confidence, filter: $filter, first: $first, after: $predictionsAfter, under: $under) { ${DISTRIBUTION_FIELDS} }
  }
}`;
