// The comparison's figures: each delta with its interval, as a table and a chart, and the
// rows where B is worse than A.
import * as Plot from "@observablehq/plot";
import { useCallback, useMemo } from "react";
import type { Comparison, MetricDelta } from "../api/compare";
import { Chart, type ChartHook, HOOKED } from "../components/charts/Chart";
import { figure, galleryHref } from "../lib/metricsView";
import { Link } from "../lib/router";
import type { ViewParams } from "../lib/viewParams";

export const METRICS = ["precision", "recall", "f1", "iou"] as const;

export function DeltaTable({ deltas, names }: { deltas: MetricDelta[]; names: { a: string; b: string } }) {
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

export function DeltaChart({ deltas }: { deltas: MetricDelta[] }) {
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

export function WorseRows({ answer, runB, at }: { answer: Comparison; runB: string; at: Pick<ViewParams, "confidence" | "iou" | "version"> }) {
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
