// Both runs of a comparison on one chart per kind of object (annotations, predictions), bars
// of A and B side by side per feature, and both confusion matrices side by side. Each run is
// read at its own version, and every bar and cell opens that run's gallery.
import * as Plot from "@observablehq/plot";
import { useCallback, useMemo } from "react";
import { useQuery } from "urql";
import { errorText } from "../api/client";
import { COMPARE_CHARTS, type RunCharts } from "../api/compare";
import type { DistributionEntry } from "../api/metrics";
import { Chart, type ChartHook, HOOKED } from "../components/charts/Chart";
import { ConfusionMatrix } from "../components/charts/ConfusionMatrix";
import { ErrorBox } from "../components/ParamErrors";
import type { DataRowFilter } from "../lib/filters";
import { galleryHref } from "../lib/metricsView";
import { navigate } from "../lib/router";

/** More features than this per run: the chart shows the first ones and says so. */
const FEATURES_SHOWN = 100;
const COLOURS = { a: "#5b9dff", b: "#f5b94c" } as const;

/** One run of the comparison: which, at which version, and how the view names it. */
export interface Side {
  key: "a" | "b";
  runId: string;
  version: number | null;
  label: string;
}

interface At {
  confidence: number;
  iou: number;
  filter: DataRowFilter | null;
}

export function CompareCharts({ sides, at }: { sides: [Side, Side]; at: At }) {
  const [a, b] = sides;
  const [result] = useQuery<{ runA: RunCharts | null; runB: RunCharts | null }>({
    query: COMPARE_CHARTS,
    variables: { a: a.runId, b: b.runId, versionA: a.version, versionB: b.version, confidence: at.confidence, iou: at.iou, filter: at.filter, first: FEATURES_SHOWN },
  });
  const open = useCallback(
    (side: Side, filter: DataRowFilter) => navigate(galleryHref(side.runId, { confidence: at.confidence, iou: at.iou, version: side.version }, filter)),
    [at.confidence, at.iou],
  );
  const charts = useMemo(() => ({ a: result.data?.runA ?? null, b: result.data?.runB ?? null }), [result.data]);
  if (result.error) return <ErrorBox message={errorText(result.error)} />;
  if (!result.data) return <div className="loading">Counting objects…</div>;
  const more = (["a", "b"] as const).some((k) => charts[k]?.annotationDistribution.pageInfo.hasNextPage || charts[k]?.predictionDistribution.pageInfo.hasNextPage);
  return (
    <>
      <section className="panel compare-panel">
        <h2>Objects per feature, A and B</h2>
        <p className="muted small">
          Each run over its own rows{at.filter ? " that the filter selects" : ""}; predictions counted at confidence ≥ {at.confidence}. Click a bar for that
          run's rows with that feature.{more ? ` The first ${FEATURES_SHOWN} features of each run are shown.` : ""}
        </p>
        <div className="row-2">
          {(["annotations", "predictions"] as const).map((kind) => (
            <GroupedDistribution key={kind} name={kind} sides={sides} charts={charts} onOpen={open} />
          ))}
        </div>
      </section>
      <section className="panel compare-panel">
        <h2>Confusion matrices at confidence ≥ {at.confidence}, IoU &gt; {at.iou}</h2>
        <p className="muted small">Rows are ground truth, columns predictions; shading is each cell's share of its row. Click a cell for that run's rows.</p>
        <div className="row-2">
          {sides.map((side) => {
            const matrix = charts[side.key]?.confusionMatrix;
            return (
              <div key={side.key} className="compare-matrix" data-testid="compare-confusion" data-run={side.key}>
                <h3 style={{ color: COLOURS[side.key] }}>{side.label}</h3>
                {matrix ? (
                  <ConfusionMatrix matrix={matrix} selection={at.filter} onOpen={(filter) => open(side, filter)} csvName={`confusion-matrix-${side.key}`} />
                ) : (
                  <p className="muted small">Run {side.key.toUpperCase()} was not found at this version.</p>
                )}
              </div>
            );
          })}
        </div>
      </section>
    </>
  );
}

interface Bar {
  feature: string;
  run: string;
  side: Side;
  objects: number;
  dataRows: number;
  filter: DataRowFilter;
}

/** Features in the order A lists them, then those only B has. */
function bars(name: "annotations" | "predictions", sides: [Side, Side], charts: Record<"a" | "b", RunCharts | null>): Bar[] {
  const field = name === "annotations" ? "annotationDistribution" : "predictionDistribution";
  return sides.flatMap((side) =>
    (charts[side.key]?.[field].nodes ?? []).map((e: DistributionEntry) => ({ feature: e.feature, run: side.label, side, objects: e.objects, dataRows: e.dataRows, filter: e.filter })),
  );
}

function GroupedDistribution({ name, sides, charts, onOpen }: {
  name: "annotations" | "predictions";
  sides: [Side, Side];
  charts: Record<"a" | "b", RunCharts | null>;
  onOpen: (side: Side, filter: DataRowFilter) => void;
}) {
  const data = useMemo(() => bars(name, sides, charts), [name, sides, charts]);
  const features = useMemo(() => [...new Set(data.map((d) => d.feature))], [data]);
  const runs = useMemo(() => sides.map((s) => s.label), [sides]);
  const options = useCallback(
    (width: number): Plot.PlotOptions => ({
      width, height: 70 + 40 * Math.max(1, features.length), marginLeft: 110, marginRight: 40,
      fy: { label: null, domain: features, axis: "left", padding: 0.25 },
      y: { axis: null, domain: runs },
      x: { label: `${name} (objects)`, grid: true },
      color: { domain: runs, range: [COLOURS.a, COLOURS.b], legend: true },
      marks: [
        Plot.barX(data, { fy: "feature", y: "run", x: "objects", fill: "run", className: HOOKED, title: (d: Bar) => `${d.run}, ${d.feature}: ${d.objects} objects on ${d.dataRows} data rows` }),
        Plot.text(data, { fy: "feature", y: "run", x: "objects", text: (d: Bar) => String(d.objects), textAnchor: "start", dx: 4, fill: "currentColor", fontSize: 10 }),
        Plot.ruleX([0]),
      ],
    }),
    [data, features, name, runs],
  );
  const hook = useMemo<ChartHook<Bar>>(
    () => ({
      testId: "histogram-bar",
      attributes: (d) => ({ label: d.feature, run: d.side.key, count: String(d.objects), rows: String(d.dataRows) }),
      onClick: (d) => onOpen(d.side, d.filter),
    }),
    [onOpen],
  );
  if (!data.length) return <p className="muted small">Neither run has {name}.</p>;
  return (
    <div>
      <h3>{name === "annotations" ? "Annotations" : "Predictions"}</h3>
      <Chart name={name} data={data} csvColumns={["feature", "run", "objects", "dataRows"]} options={options} hook={hook} />
    </div>
  );
}
