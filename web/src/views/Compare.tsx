import { useMemo, useState } from "react";
import { useQuery } from "urql";
import { errorText } from "../api/client";
import { COMPARE, type Comparison, MODEL_RUNS, type ModelRunChoice } from "../api/compare";
import { type RunInfo, RUN } from "../api/gallery";
import { ThresholdSelect } from "../components/GridControls";
import { ErrorBox, ParamErrors } from "../components/ParamErrors";
import { VersionSelect } from "../components/VersionSelect";
import { Link, navigate } from "../lib/router";
import { useViewParams } from "../lib/useViewParams";
import { type ExtraParam, formatParams, gridPoint } from "../lib/viewParams";
import { CompareCharts, type Side } from "./CompareCharts";
import { DeltaChart, DeltaTable, METRICS, WorseRows } from "./CompareTables";

/** The comparison takes `versionB` besides the common parameters: `version` is run A's. */
const EXTRA: readonly ExtraParam[] = ["versionB"];

/** Why a run cannot be read at the version asked, or null. */
function versionProblem(side: "A" | "B", name: string, version: number | null, latest: number | null, found: boolean | null): string | null {
  if (version !== null && latest !== null && version > latest) return `Parameter ${name}=${version} is past run ${side}'s latest version ${latest}.`;
  if (found === false) return version === null ? `Run ${side} was not found.` : `Parameter ${name}=${version}: run ${side} has no version ${version}.`;
  return null;
}

/** Two runs of one model, each at its version: their figures side by side on their common
 *  rows, each delta with its 95 % paired bootstrap interval, both runs' objects per feature
 *  and confusion matrices, and the rows where B is worse than A. */
export function Compare({ runA, runB }: { runA: string; runB: string }) {
  const { params, errors, update } = useViewParams(EXTRA);
  const versionB = params.versionB ?? null;
  const [runResult] = useQuery<{ modelRun: RunInfo | null }>({ query: RUN, variables: { id: runA, version: params.version } });
  const [runBResult] = useQuery<{ modelRun: RunInfo | null }>({ query: RUN, variables: { id: runB, version: versionB } });
  const run = runResult.data?.modelRun ?? null;
  const modelId = run?.modelId ?? runBResult.data?.modelRun?.modelId ?? null;
  const confidence = gridPoint(params.confidence, run?.metricSettings.confidenceThresholds ?? [], "confidence");
  const iou = gridPoint(params.iou, run?.metricSettings.iouThresholds ?? [], "iou");
  const [metric, setMetric] = useState<string>("f1");
  const [result] = useQuery<{ compareModelRuns: Comparison; runA: { name: string } | null; runB: { name: string } | null }>({
    query: COMPARE,
    variables: { a: runA, b: runB, versionA: params.version, versionB, confidence: confidence.value, iou: iou.value, metric, filter: params.filter },
    pause: confidence.value === null || iou.value === null,
  });
  const [runsResult] = useQuery<{ model: { modelRuns: { nodes: ModelRunChoice[] } } | null }>({
    query: MODEL_RUNS, variables: { id: modelId }, pause: !modelId,
  });
  const others = runsResult.data?.model?.modelRuns.nodes ?? [];
  const latest = (id: string) => others.find((r) => r.id === id)?.latestVersion ?? null;
  const found = (answer: typeof runResult) => (answer.data ? !!answer.data.modelRun : null);
  const allErrors = [
    ...errors,
    ...[
      confidence.error, iou.error,
      versionProblem("A", "version", params.version, latest(runA), found(runResult)),
      versionProblem("B", "versionB", versionB, latest(runB), found(runBResult)),
    ].filter((e): e is string => !!e),
  ];
  const answer = result.data?.compareModelRuns;
  const nameOf = (id: string) => others.find((r) => r.id === id)?.name;
  const names = { a: result.data?.runA?.name ?? nameOf(runA) ?? "A", b: result.data?.runB?.name ?? nameOf(runB) ?? "B" };
  const sides = useMemo<[Side, Side]>(
    () => [
      { key: "a", runId: runA, version: params.version, label: `A · ${names.a}${params.version === null ? "" : ` (v${params.version})`}` },
      { key: "b", runId: runB, version: versionB, label: `B · ${names.b}${versionB === null ? "" : ` (v${versionB})`}` },
    ],
    [runA, runB, params.version, versionB, names.a, names.b],
  );
  // Another run on one side: its version is that run's latest.
  const pick = (side: "a" | "b", id: string) => {
    const next = side === "a" ? { ...params, version: null } : { ...params, versionB: null };
    navigate(`/compare/${encodeURIComponent(side === "a" ? id : runA)}/${encodeURIComponent(side === "b" ? id : runB)}${formatParams(next)}`);
  };

  return (
    <div className="page compare-page">
      <ParamErrors errors={allErrors} />
      <nav className="crumbs">
        <Link href="/">Models</Link> <span>/</span>
        {run?.model && <Link href={`/models/${run.model.id}`}>{run.model.name}</Link>} <span>/</span>
        <span className="strong">compare</span>
      </nav>
      <div className="toolbar compare-toolbar">
        {sides.map((side) => (
          <div key={side.key} className="compare-picker" data-run={side.key}>
            <label className="field">
              <span>Run {side.key.toUpperCase()}</span>
              <select data-testid={`compare-run-${side.key}`} value={side.runId} onChange={(e) => pick(side.key, e.target.value)}>
                {others.map((r) => (
                  <option key={r.id} value={r.id}>
                    {r.name}
                  </option>
                ))}
              </select>
            </label>
            <VersionSelect
              run={side.key}
              latest={latest(side.runId)}
              value={side.version}
              onChange={(version) => update(side.key === "a" ? { version } : { versionB: version })}
            />
          </div>
        ))}
        <ThresholdSelect testId="confidence-threshold" label="Confidence ≥" value={confidence.value} grid={run?.metricSettings.confidenceThresholds ?? []} onChange={(v) => update({ confidence: v, iou: iou.value })} />
        <ThresholdSelect testId="iou-threshold" label="IoU >" value={iou.value} grid={run?.metricSettings.iouThresholds ?? []} onChange={(v) => update({ confidence: confidence.value, iou: v })} />
      </div>
      {runResult.error && <ErrorBox message={errorText(runResult.error)} />}
      {result.error && <ErrorBox testId="compare-error" message={errorText(result.error)} />}
      {!answer && !result.error && (run || !runResult.data) && <div className="loading">Comparing…</div>}
      {answer && confidence.value !== null && iou.value !== null && (
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
          <CompareCharts sides={sides} at={{ confidence: confidence.value, iou: iou.value, filter: params.filter }} />
          <section className="panel compare-panel">
            <h2>
              Rows where {names.b} is worse than {names.a} on{" "}
              <select data-testid="compare-metric" className="compact" value={metric} onChange={(e) => setMetric(e.target.value)}>
                {[...METRICS, "tp", "fp", "fn"].map((m) => (
                  <option key={m} value={m}>{m}</option>
                ))}
              </select>
            </h2>
            <WorseRows answer={answer} runB={runB} at={{ confidence: confidence.value, iou: iou.value, version: versionB }} />
          </section>
        </>
      )}
    </div>
  );
}
