import * as Plot from "@observablehq/plot";
import { useCallback, useMemo, useState } from "react";
import { useQuery } from "urql";
import { errorText } from "../api/client";
import { COMPARE, type Comparison, type MetricDelta, MODEL_RUNS } from "../api/compare";
import { type RunInfo, RUN } from "../api/gallery";
import { Chart, type ChartHook, HOOKED } from "../components/charts/Chart";
import { ThresholdSelect } from "../components/GridControls";
import { ErrorBox, ParamErrors } from "../components/ParamErrors";
import { figure, galleryHref } from "../lib/metricsView";
import { Link, navigate } from "../lib/router";
import { useViewParams } from "../lib/useViewParams";
import { formatParams, gridPoint } from "../lib/viewParams";

const METRICS = ["precision", "recall", "f1", "iou"] as const;

/** Two runs of one model: their figures side by side on their common rows, each delta with
 *  its 95 % paired bootstrap interval, and the rows where B is worse than A. */
export function Compare({ runA, runB }: { runA: string; runB: string }) {
  const { params, errors, update } = useViewParams();
  const [runResult] = useQuery<{ modelRun: RunInfo | null }>({ query: RUN, variables: { id: runA, version: null } });
  const run = runResult.data?.modelRun ?? null;
  const confidence = gridPoint(params.confidence, run?.metricSettings.confidenceThresholds ?? [], "confidence");
  const iou = gridPoint(params.iou, run?.metricSettings.iouThresholds ?? [], "iou");
  const [metric, setMetric] = useState<string>("f1");
  const [result] = useQuery<{ compareModelRuns: Comparison; runA: { name: string; modelId: string; model: { id: string; name: string } | null } | null; runB: { name: string } | null }>({
    query: COMPARE,
    variables: { a: runA, b: runB, confidence: confidence.value, iou: iou.value, metric, filter: params.filter },
    pause: confidence.value === null || iou.value === null,
  });
  const [runsResult] = useQuery<{ model: { modelRuns: { nodes: { id: string; name: string }[] } } | null }>({
    query: MODEL_RUNS, variables: { id: run?.modelId }, pause: !run,
  });
  const others = runsResult.data?.model?.modelRuns.nodes ?? [];
  const allErrors = [...errors, ...[confidence.error, iou.error].filter((e): e is string => !!e)];
  const answer = result.data?.compareModelRuns;
  const names = { a: result.data?.runA?.name ?? "A", b: result.data?.runB?.name ?? "B" };
  const pick = (side: "a" | "b", id: string) =>
    navigate(`/compare/${encodeURIComponent(side === "a" ? id : runA)}/${encodeURIComponent(side === "b" ? id : runB)}${formatParams(params)}`);

  return (
    <div className="page compare-page">
      <ParamErrors errors={allErrors} />
      <nav className="crumbs">
        <Link href="/">Models</Link> <span>/</span>
        {run?.model && <Link href={`/models/${run.model.id}`}>{run.model.name}</Link>} <span>/</span>
        <span className="strong">compare</span>
      </nav>
      <div className="toolbar compare-toolbar">
        {(["a", "b"] as const).map((side) => (
          <label key={side} className="field">
            <span>Run {side.toUpperCase()}</span>
            <select data-testid={`compare-run-${side}`} value={side === "a" ? runA : runB} onChange={(e) => pick(side, e.target.value)}>
              {others.map((r) => (
                <option key={r.id} value={r.id}>
                  {r.name}
                </option>
              ))}
            </select>
          </label>
        ))}
        <ThresholdSelect testId="confidence-threshold" label="Confidence ≥" value={confidence.value} grid={run?.metricSettings.confidenceThresholds ?? []} onChange={(v) => update({ confidence: v, iou: iou.value })} />
        <ThresholdSelect testId="iou-threshold" label="IoU >" value={iou.value} grid={run?.metricSettings.iouThresholds ?? []} onChange={(v) => update({ confidence: confidence.value, iou: v })} />
      </div>
      {runResult.error && <ErrorBox message={errorText(runResult.error)} />}
      {result.error && <ErrorBox testId="compare-error" message={errorText(result.error)} />}
      {!answer && !result.error && <div className="loading">Comparing…</div>}
      {answer && (
        <>
          <p className="muted small">
            {answer.commonDataRows} data rows both runs evaluated; B minus A, with the 95 % paired bootstrap interval over those rows
            (1,000 resamples). A delta whose interval excludes 0 is marked ●.
          </p>
          <section className="panel compare-panel">
            <DeltaTable deltas={answer.deltas} names={names} />
          </section>
          <section className="panel compare-panel">
            <DeltaChart deltas={answer.deltas} />
          </section>
          <section className="panel compare-panel">
            <h2>
              Rows where {names.b} is worse than {names.a} on{" "}
              <select data-testid="compare-metric" className="compact" value={metric} onChange={(e) => setMetric(e.target.value)}>
                {[...METRICS, "tp", "fp", "fn"].map((m) => (
                  <option key={m} value={m}>{m}</option>
                ))}
              </select>
            </h2>
            <WorseRows answer={answer} runB={runB} at={{ confidence: confidence.value, iou: iou.value, version: null }} />
          </section>
        </>
      )}
    </div>
  );
}

function DeltaTable({ deltas, names }: { deltas: MetricDelta[]; names: { a: string; b: string } }) {
  return (
    <table className="table metrics-table">
      <thead>
        <tr>
          <th>Feature</th><th>Metric</th><th>{names.a} (A)</th><th>{names.b} (B)</th><th>B − A</th><th>95 % interval</th><th />
        </tr>
      </thead>
      <tbody>
        {deltas.map((d) => (
          <tr
            key={`${d.feature}/${d.metric}`}
            data-testid="compare-delta"
            data-feature={d.feature ?? ""}
            data-metric={d.metric}
            data-delta={d.delta ?? ""}
            data-low={d.low ?? ""}
            data-high={d.high ?? ""}
            className={d.feature === null ? "total" : ""}
          >
            <td>{d.feature ?? "all features"}</td>
            <td>{d.metric}</td>
            <td>{figure(d.a)}</td>
            <td>{figure(d.b)}</td>
            <td className={d.delta === null ? "" : d.delta > 0 ? "better" : d.delta < 0 ? "worse" : ""}>{d.delta === null ? "—" : `${d.delta > 0 ? "+" : ""}${figure(d.delta)}`}</td>
            <td>{d.low === null || d.high === null ? "—" : `${figure(d.low)} … ${figure(d.high)}`}</td>
            <td title={d.significant ? "The interval excludes 0" : "The interval includes 0"}>{d.significant ? "●" : ""}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

interface Interval {
  label: string;
  metric: string;
  delta: number;
  low: number;
  high: number;
  significant: boolean;
}

function DeltaChart({ deltas }: { deltas: MetricDelta[] }) {
  const data = useMemo<Interval[]>(
    () =>
      deltas
        .filter((d) => d.delta !== null && d.low !== null && d.high !== null)
        .map((d) => ({ label: d.feature ?? "all features", metric: d.metric, delta: d.delta!, low: d.low!, high: d.high!, significant: d.significant })),
    [deltas],
  );
  const options = useCallback(
    (width: number): Plot.PlotOptions => ({
      width, height: 60 + 26 * new Set(data.map((d) => d.label)).size * 1.1, marginLeft: 120,
      fx: { label: null, domain: [...METRICS] }, x: { label: "B − A", grid: true }, y: { label: null },
      marks: [
        Plot.ruleX([0], { stroke: "currentColor", strokeOpacity: 0.5 }),
        Plot.ruleY(data, { fx: "metric", y: "label", x1: "low", x2: "high", stroke: (d: Interval) => (d.significant ? "#f5b94c" : "#8a94a6"), strokeWidth: 3 }),
        Plot.dot(data, { fx: "metric", y: "label", x: "delta", fill: (d: Interval) => (d.significant ? "#f5b94c" : "#8a94a6"), r: 4, className: HOOKED, title: (d: Interval) => `${d.label} ${d.metric}: ${figure(d.delta)} (${figure(d.low)} … ${figure(d.high)})` }),
      ],
    }),
    [data],
  );
  const hook = useMemo<ChartHook<Interval>>(() => ({ testId: "compare-interval", attributes: (d) => ({ feature: d.label, metric: d.metric }) }), []);
  if (!data.length) return <p className="muted small">No delta is defined on these rows.</p>;
  return <Chart name="deltas" data={data} csvColumns={["label", "metric", "delta", "low", "high", "significant"]} options={options} hook={hook} />;
}

function WorseRows({ answer, runB, at }: { answer: Comparison; runB: string; at: { confidence: number | null; iou: number | null; version: null } }) {
  const rows = answer.worseDataRows.nodes;
  if (!rows.length) return <p className="muted small">B is nowhere worse than A on this metric.</p>;
  const all = galleryHref(runB, at, { all: [{ dataRows: { ids: rows.map((r) => r.dataRow.id) } }] });
  return (
    <>
      <p className="muted small">
        {answer.worseDataRows.totalCount} rows, the most worse first; <Link href={all} data-testid="compare-worse-gallery">open the first {rows.length} in B's gallery</Link>.
      </p>
      <table className="table metrics-table">
        <thead>
          <tr><th>Data row</th><th>A</th><th>B</th><th>worse by</th></tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.dataRow.id} data-testid="compare-worse-row">
              <td><Link href={galleryHref(runB, at, { all: [{ dataRows: { ids: [r.dataRow.id] } }] })}>{r.dataRow.globalKey}</Link></td>
              <td>{figure(r.a)}</td><td>{figure(r.b)}</td><td>{figure(r.by)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
