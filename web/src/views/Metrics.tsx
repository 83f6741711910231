import * as Plot from "@observablehq/plot";
import { useCallback, useMemo, useState } from "react";
import { useClient, useQuery } from "urql";
import { errorText } from "../api/client";
import { type SliceCount, SLICES } from "../api/gallery";
import {
  type ConfusionAnswer, type DistributionEntry, type DistributionPage, DISTRIBUTIONS, HISTOGRAM, type HistogramAnswer,
  type HistogramBin, PR_CURVE, type PrPoint, RUN_METRICS, type RunMetricsAnswer,
} from "../api/metrics";
import { Chart, type ChartHook, HOOKED } from "../components/charts/Chart";
import { ConfusionMatrix } from "../components/charts/ConfusionMatrix";
import { FeatureSelect } from "../components/FeatureSelect";
import { FilterBar } from "../components/FilterBar";
import { GridControls } from "../components/GridControls";
import { ErrorBox } from "../components/ParamErrors";
import { RunHeader, runViewProblem } from "../components/RunHeader";
import { ThresholdEditor } from "../components/ThresholdEditor";
import { AUTOMATIC_METRICS, type DataRowFilter, type DataRowSort } from "../lib/filters";
import { figure, galleryHref, withSplit } from "../lib/metricsView";
import { navigate } from "../lib/router";
import { type RunView, useRunView } from "./useRunView";

const RATIOS = ["precision", "recall", "f1", "iou"] as const;
const DISTRIBUTION_PAGE = 100;

/** The grid point and version every query of the view reads at, and where its links go. */
interface At {
  runId: string;
  version: number | null;
  confidence: number;
  iou: number;
  filter: DataRowFilter | null;
  open: (filter: DataRowFilter | null, sort?: DataRowSort[] | null) => void;
}

export function Metrics({ runId }: { runId: string }) {
  const view = useRunView(runId);
  const { params, update, run, features, metadataFields, confidence, iou, inSync, refresh } = view;
  const filter = useMemo(() => withSplit(params.filter, params.split), [params.filter, params.split]);
  const [slicesResult] = useQuery<{ modelRun: { slices: SliceCount[] } | null }>({
    query: SLICES, variables: { id: runId, version: params.version, confidence: confidence.value, iou: iou.value, refresh }, pause: !run,
  });
  const open = useCallback(
    (to: DataRowFilter | null, sort: DataRowSort[] | null = null) =>
      navigate(galleryHref(runId, { confidence: confidence.value, iou: iou.value, version: params.version }, to, sort)),
    [runId, confidence.value, iou.value, params.version],
  );

  const problem = runViewProblem(runId, view);
  if (problem || !run) return problem;
  const at: At | null =
    confidence.value === null || iou.value === null
      ? null
      : { runId, version: params.version, confidence: confidence.value, iou: iou.value, filter, open };
  return (
    <div className="metrics-page">
      <RunHeader runId={runId} current="metrics" view={view} />
      <div className="toolbar">
        <FilterBar
          filter={params.filter}
          onChange={(next) => update({ filter: next })}
          features={features}
          metadataFields={metadataFields}
          customMetrics={[]}
          savedSlices={slicesResult.data?.modelRun?.slices ?? []}
          metricsInSync={inSync}
          split={params.split}
          onSplit={(split) => update({ split })}
        />
        <GridControls view={view} />
        {params.version === null && <ThresholdEditor runId={runId} confidences={view.confidenceGrid} ious={view.iouGrid} onSaved={view.reloadRun} />}
      </div>
      {!inSync && <div className="muted small metrics-note">The figures below are those of the rows computed so far; they change as the computation goes on.</div>}
      {at === null ? (
        <div className="empty-state small">This run has no grid point: its metric settings have no thresholds.</div>
      ) : (
        <MetricsBody at={at} view={view} refresh={refresh} />
      )}
    </div>
  );
}

function MetricsBody({ at, view, refresh }: { at: At; view: RunView; refresh: number }) {
  const variables = { id: at.runId, version: at.version, confidence: at.confidence, iou: at.iou, filter: at.filter, refresh };
  const [result] = useQuery<{ modelRun: { metrics: RunMetricsAnswer; confusionMatrix: ConfusionAnswer } | null }>({ query: RUN_METRICS, variables });
  if (result.error) return <ErrorBox testId="metrics-error" message={errorText(result.error)} />;
  const answer = result.data?.modelRun;
  if (!answer) return <div className="loading">Computing the figures…</div>;
  const customNames = [...new Set(answer.metrics.custom.map((c) => c.name))];
  return (
    <div className="metrics-grid">
      <section className="panel wide">
        <h2>Per feature at confidence ≥ {at.confidence}, IoU &gt; {at.iou}</h2>
        <p className="muted small">{answer.metrics.dataRows} evaluated data rows. Click a bar to see its feature's rows, worst first.</p>
        <FeatureTable metrics={answer.metrics} />
        <FeatureBars metrics={answer.metrics} at={at} />
      </section>
      <section className={answer.confusionMatrix.labels.length > 7 ? "panel wide" : "panel"}>
        <h2>Confusion matrix</h2>
        <p className="muted small">Rows are ground truth, columns predictions; shading is each cell's share of its row. Click a cell for its rows.</p>
        <ConfusionMatrix matrix={answer.confusionMatrix} selection={at.filter} onOpen={(filter) => at.open(filter)} />
      </section>
      <section className="panel">
        <PrCurve at={at} features={view.features.map((f) => f.name)} refresh={refresh} />
      </section>
      {[...RATIOS, ...customNames].map((metric) => (
        <section className="panel" key={metric}>
          <Histogram at={at} metric={metric} refresh={refresh} />
        </section>
      ))}
      {answer.metrics.custom.length > 0 && (
        <section className="panel wide">
          <h2>Custom metrics</h2>
          <CustomMetrics metrics={answer.metrics} />
        </section>
      )}
      <section className="panel wide">
        <Distributions at={at} refresh={refresh} />
      </section>
    </div>
  );
}

function FeatureTable({ metrics }: { metrics: RunMetricsAnswer }) {
  const rows = [...metrics.features, { ...metrics.all, feature: null }];
  return (
    <table className="table metrics-table">
      <thead>
        <tr>
          <th>Feature</th><th>TP</th><th>FP</th><th>FN</th><th>TN</th><th>Precision</th><th>Recall</th><th>F1</th><th>IoU</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((m) => (
          <tr
            key={m.feature ?? "(all)"}
            data-testid={m.feature === null ? "all-metric" : "feature-metric"}
            data-feature={m.feature ?? ""}
            data-precision={m.precision ?? ""}
            data-recall={m.recall ?? ""}
            data-f1={m.f1 ?? ""}
            data-iou={m.iou ?? ""}
            className={m.feature === null ? "total" : ""}
          >
            <td>{m.feature ?? "all features (micro)"}</td>
            <td>{m.tp}</td><td>{m.fp}</td><td>{m.fn}</td><td>{m.tn}</td>
            <td>{figure(m.precision)}</td><td>{figure(m.recall)}</td><td>{figure(m.f1)}</td><td>{figure(m.iou)}</td>
          </tr>
        ))}
        <tr className="total" data-testid="macro-metric">
          <td>mean of features (macro)</td><td /><td /><td /><td />
          <td>{figure(metrics.macro.precision)}</td><td>{figure(metrics.macro.recall)}</td><td>{figure(metrics.macro.f1)}</td><td>{figure(metrics.macro.iou)}</td>
        </tr>
      </tbody>
    </table>
  );
}

interface FeatureBar {
  feature: string;
  metric: string;
  value: number;
}

function FeatureBars({ metrics, at }: { metrics: RunMetricsAnswer; at: At }) {
  const data = useMemo<FeatureBar[]>(
    () => metrics.features.flatMap((m) => RATIOS.filter((r) => m[r] !== null).map((r) => ({ feature: m.feature!, metric: r, value: m[r]! }))),
    [metrics],
  );
  const options = useCallback(
    (width: number): Plot.PlotOptions => ({
      width, height: 240, marginBottom: 40,
      fx: { label: null }, x: { axis: null, domain: [...RATIOS] }, y: { domain: [0, 1], grid: true, label: "value" },
      color: { domain: [...RATIOS], legend: true },
      marks: [Plot.barY(data, { fx: "feature", x: "metric", y: "value", fill: "metric", className: HOOKED, title: (d: FeatureBar) => `${d.feature} ${d.metric} ${figure(d.value)}` }), Plot.ruleY([0])],
    }),
    [data],
  );
  const hook = useMemo<ChartHook<FeatureBar>>(
    () => ({
      testId: "feature-bar",
      attributes: (d) => ({ feature: d.feature, metric: d.metric, value: String(d.value) }),
      // A feature's rows, the worst by this metric first.
      onClick: (d) => at.open(at.filter, [{ field: "METRIC", metric: d.metric, feature: d.feature, descending: false }]),
    }),
    [at],
  );
  if (!data.length) return <p className="muted small">No feature has a defined precision, recall, F1 or IoU here.</p>;
  return <Chart name="feature-metrics" data={data} csvColumns={["feature", "metric", "value"]} options={options} hook={hook} />;
}

function PrCurve({ at, features, refresh }: { at: At; features: string[]; refresh: number }) {
  const [feature, setFeature] = useState("");
  const [result] = useQuery<{ modelRun: { precisionRecallCurve: PrPoint[] } | null }>({
    query: PR_CURVE, variables: { id: at.runId, version: at.version, iou: at.iou, feature: feature || null, filter: at.filter, refresh },
  });
  const points = useMemo(() => (result.data?.modelRun?.precisionRecallCurve ?? []).filter((p) => p.precision !== null && p.recall !== null), [result.data]);
  const options = useCallback(
    (width: number): Plot.PlotOptions => ({
      width, height: 260, x: { domain: [0, 1], label: "recall", grid: true }, y: { domain: [0, 1], label: "precision", grid: true },
      marks: [
        Plot.line(points, { x: "recall", y: "precision", stroke: "currentColor", strokeOpacity: 0.6 }),
        Plot.dot(points, {
          x: "recall", y: "precision", r: (p: PrPoint) => (p.confidence === at.confidence ? 6 : 3),
          fill: (p: PrPoint) => (p.confidence === at.confidence ? "#f5b94c" : "#5b9dff"), className: HOOKED,
          title: (p: PrPoint) => `confidence ≥ ${p.confidence}: precision ${figure(p.precision)}, recall ${figure(p.recall)}`,
        }),
      ],
    }),
    [points, at.confidence],
  );
  const hook = useMemo<ChartHook<PrPoint>>(
    () => ({
      testId: "pr-point",
      attributes: (p) => ({ confidence: String(p.confidence), precision: String(p.precision), recall: String(p.recall), current: String(p.confidence === at.confidence) }),
    }),
    [at.confidence],
  );
  return (
    <>
      <h2>Precision–recall at IoU &gt; {at.iou}</h2>
      <label className="inline-field">
        <span className="muted small">Feature</span>
        <FeatureSelect testId="pr-feature" features={features.map((name) => ({ name, kind: "", question: null }))} value={feature} onChange={setFeature} empty="all features" />
      </label>
      <p className="muted small">One point per confidence threshold; the larger one is the current threshold.</p>
      {result.error ? <ErrorBox message={errorText(result.error)} /> : <Chart name="precision-recall" data={points} csvColumns={["confidence", "precision", "recall"]} options={options} hook={hook} />}
    </>
  );
}

function binLabel(bin: HistogramBin): string {
  return `${bin.min}–${bin.max}`;
}

function Histogram({ at, metric, refresh }: { at: At; metric: string; refresh: number }) {
  const [result] = useQuery<{ modelRun: { metricHistogram: HistogramAnswer } | null }>({
    query: HISTOGRAM, variables: { id: at.runId, version: at.version, metric, confidence: at.confidence, iou: at.iou, filter: at.filter, refresh },
  });
  const histogram = result.data?.modelRun?.metricHistogram;
  const bins = useMemo(() => histogram?.bins ?? [], [histogram]);
  const options = useCallback(
    (width: number): Plot.PlotOptions => ({
      width, height: 200, x: { label: metric }, y: { label: "data rows", grid: true },
      marks: [Plot.rectY(bins, { x1: "min", x2: "max", y: "dataRows", fill: "#5b9dff", inset: 1, className: HOOKED, title: (b: HistogramBin) => `${binLabel(b)}: ${b.dataRows} data rows` }), Plot.ruleY([0])],
    }),
    [bins, metric],
  );
  const hook = useMemo<ChartHook<HistogramBin>>(
    () => ({
      testId: "histogram-bar",
      attributes: (b) => ({ label: binLabel(b), count: String(b.dataRows) }),
      onClick: (b) => at.open(b.filter, b.sort),
    }),
    [at],
  );
  return (
    <>
      <h2>{AUTOMATIC_METRICS.includes(metric as (typeof AUTOMATIC_METRICS)[number]) ? metric : `${metric} (custom)`} per data row</h2>
      {result.error ? (
        <ErrorBox message={errorText(result.error)} />
      ) : (
        <>
          <Chart name={metric} data={bins} csvColumns={["min", "max", "dataRows"]} options={options} hook={hook} />
          {histogram && (histogram.nulls > 0 || histogram.outside > 0) && (
            <p className="muted small">
              {histogram.nulls} rows without a value{histogram.outside ? `, ${histogram.outside} outside [0, 1]` : ""}.
            </p>
          )}
        </>
      )}
    </>
  );
}

function CustomMetrics({ metrics }: { metrics: RunMetricsAnswer }) {
  return (
    <table className="table metrics-table">
      <thead>
        <tr><th>Name</th><th>Feature</th><th>Aggregation</th><th>Value</th><th>Data rows</th></tr>
      </thead>
      <tbody>
        {metrics.custom.map((c) => (
          <tr key={`${c.name}/${c.feature}`} data-testid="custom-metric" data-name={c.name}>
            <td>{c.name}</td><td>{c.feature ?? "—"}</td><td>{c.aggregation}</td><td>{figure(c.value)}</td><td>{c.dataRows}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

interface DistributionPages {
  annotations: DistributionEntry[];
  predictions: DistributionEntry[];
  annotationsAfter: string | null;
  predictionsAfter: string | null;
}

function Distributions({ at, refresh }: { at: At; refresh: number }) {
  const client = useClient();
  const [under, setUnder] = useState<string | null>(null);
  // Pages loaded with "load more", for the query they continue.
  const [more, setMore] = useState<{ key: string; pages: DistributionPages } | null>(null);
  const variables = { id: at.runId, version: at.version, confidence: at.confidence, filter: at.filter, first: DISTRIBUTION_PAGE, under, refresh };
  const [result] = useQuery<{ modelRun: { annotationDistribution: DistributionPage; predictionDistribution: DistributionPage } | null }>({ query: DISTRIBUTIONS, variables });
  const first = result.data?.modelRun;
  const key = JSON.stringify(variables);
  const pages: DistributionPages | null = first
    ? more?.key === key
      ? more.pages
      : {
          annotations: first.annotationDistribution.nodes,
          predictions: first.predictionDistribution.nodes,
          annotationsAfter: first.annotationDistribution.pageInfo.hasNextPage ? first.annotationDistribution.pageInfo.endCursor : null,
          predictionsAfter: first.predictionDistribution.pageInfo.hasNextPage ? first.predictionDistribution.pageInfo.endCursor : null,
        }
    : null;
  const loadMore = async () => {
    if (!pages) return;
    const answer = await client.query(DISTRIBUTIONS, { ...variables, annotationsAfter: pages.annotationsAfter, predictionsAfter: pages.predictionsAfter }).toPromise();
    const next = answer.data?.modelRun;
    if (!next) return;
    const merged = {
      annotations: pages.annotationsAfter ? [...pages.annotations, ...next.annotationDistribution.nodes] : pages.annotations,
      predictions: pages.predictionsAfter ? [...pages.predictions, ...next.predictionDistribution.nodes] : pages.predictions,
      annotationsAfter: pages.annotationsAfter && next.annotationDistribution.pageInfo.hasNextPage ? next.annotationDistribution.pageInfo.endCursor : null,
      predictionsAfter: pages.predictionsAfter && next.predictionDistribution.pageInfo.hasNextPage ? next.predictionDistribution.pageInfo.endCursor : null,
    };
    setMore({ key, pages: merged });
  };
  if (result.error) return <ErrorBox message={errorText(result.error)} />;
  if (!pages) return <div className="loading">Counting objects…</div>;
  const parents = [...pages.annotations, ...pages.predictions].filter((e) => e.subFeatures > 0).map((e) => e.feature);
  return (
    <>
      <h2>Objects per feature{under ? ` under ${under}` : ""}</h2>
      <p className="muted small">
        Predictions counted at confidence ≥ {at.confidence}. Click a bar for the rows that have that feature.
        {under && (
          <>
            {" "}
            <button className="link small" data-testid="distribution-up" onClick={() => setUnder(null)}>Back to the top-level features</button>
          </>
        )}
      </p>
      {parents.length > 0 && !under && (
        <div className="chips">
          <span className="muted small">Sub-features of:</span>
          {[...new Set(parents)].map((p) => (
            <button key={p} className="ghost small" data-testid="distribution-expand" onClick={() => setUnder(p)}>{p} ▸</button>
          ))}
        </div>
      )}
      <div className="row-2">
        <DistributionChart name="annotations" entries={pages.annotations} at={at} />
        <DistributionChart name="predictions" entries={pages.predictions} at={at} />
      </div>
      {(pages.annotationsAfter || pages.predictionsAfter) && (
        <button className="ghost small" data-testid="distribution-more" onClick={() => void loadMore()}>Load {DISTRIBUTION_PAGE} more</button>
      )}
    </>
  );
}

function DistributionChart({ name, entries, at }: { name: string; entries: DistributionEntry[]; at: At }) {
  const options = useCallback(
    (width: number): Plot.PlotOptions => ({
      width, height: 40 + 22 * Math.max(1, entries.length), marginLeft: 120,
      x: { label: `${name} (objects)`, grid: true }, y: { label: null, domain: entries.map((e) => e.feature) },
      marks: [Plot.barX(entries, { y: "feature", x: "objects", fill: name === "annotations" ? "#3fb68b" : "#5b9dff", className: HOOKED, title: (e: DistributionEntry) => `${e.feature}: ${e.objects} objects on ${e.dataRows} data rows` }), Plot.ruleX([0])],
    }),
    [entries, name],
  );
  const hook = useMemo<ChartHook<DistributionEntry>>(
    () => ({ testId: "histogram-bar", attributes: (e) => ({ label: e.feature, count: String(e.objects), rows: String(e.dataRows) }), onClick: (e) => at.open(e.filter) }),
    [at],
  );
  if (!entries.length) return <p className="muted small">No {name}.</p>;
  return <Chart name={name} data={entries} csvColumns={["feature", "parent", "objects", "dataRows"]} options={options} hook={hook} />;
}
