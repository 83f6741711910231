import type { ReactNode } from "react";
import { useQuery } from "urql";
import { errorText } from "../api/client";
import { MODEL_RUNS } from "../api/compare";
import { Link, navigate } from "../lib/router";
import { formatParams } from "../lib/viewParams";
import type { RunView } from "../views/useRunView";
import { MetricsBanner } from "./MetricsBanner";
import { ExportMenu } from "./ExportMenu";
import { ErrorBox, ParamErrors } from "./ParamErrors";
import { VersionSelect } from "./VersionSelect";

const VIEWS = [
  ["gallery", "Gallery"],
  ["metrics", "Metrics"],
  ["projector", "Projector"],
  ["history", "History"],
] as const;

/** The run's views as tabs; each keeps the address's parameters. */
function ViewTabs({ runId, current, view }: { runId: string; current: string; view: RunView }) {
  const search = formatParams(view.params);
  return (
    <nav className="view-tabs" aria-label="Views of this run">
      {VIEWS.map(([path, label]) => (
        <Link key={path} href={`/runs/${encodeURIComponent(runId)}/${path}${search}`} className={path === current ? "active" : ""} data-testid={`view-tab-${path}`}>
          {label}
        </Link>
      ))}
    </nav>
  );
}

/** Opens the comparison of this run (A) with another run of its model (B). */
function CompareWith({ runId, modelId, view }: { runId: string; modelId: string; view: RunView }) {
  const [result] = useQuery<{ model: { modelRuns: { nodes: { id: string; name: string }[] } } | null }>({ query: MODEL_RUNS, variables: { id: modelId } });
  const others = (result.data?.model?.modelRuns.nodes ?? []).filter((r) => r.id !== runId);
  if (!others.length) return null;
  const search = formatParams({ ...view.params, sort: null, split: null });
  return (
    <select
      className="compact"
      data-testid="compare-with"
      value=""
      onChange={(e) => e.target.value && navigate(`/compare/${encodeURIComponent(runId)}/${encodeURIComponent(e.target.value)}${search}`)}
    >
      <option value="">Compare with…</option>
      {others.map((r) => (
        <option key={r.id} value={r.id}>
          {r.name}
        </option>
      ))}
    </select>
  );
}

/** Errors, loading and not-found for a run's view: the page to show instead, or null. */
export function runViewProblem(runId: string, view: RunView): ReactNode | null {
  const { runResult, run, allErrors, params } = view;
  if (runResult.error) {
    return (
      <div className="page">
        <ParamErrors errors={allErrors} />
        <ErrorBox message={errorText(runResult.error)} />
      </div>
    );
  }
  if (!runResult.data) return <div className="page"><ParamErrors errors={allErrors} /><div className="loading">Loading the run…</div></div>;
  if (!run) {
    return (
      <div className="page">
        <ParamErrors errors={allErrors} />
        <div className="empty-state" data-testid="not-found">
          <h1>Run not found</h1>
          <p className="muted">
            No model run has the id <code>{runId}</code>
            {params.version !== null ? ` at version ${params.version}` : ""}.
          </p>
          <Link href="/">Back to the models</Link>
        </div>
      </div>
    );
  }
  return null;
}

/** Parameter errors, the sync banner, and the head: where the run is, its views, its version. */
export function RunHeader({ runId, current, view, children }: { runId: string; current: string; view: RunView; children?: ReactNode }) {
  const { run, params, update, allErrors, status, confidence, iou } = view;
  if (!run) return null;
  return (
    <>
      <ParamErrors errors={allErrors} />
      <MetricsBanner runId={runId} status={status} />
      <div className="gallery-head">
        <nav className="crumbs">
          <Link href="/">Models</Link> <span>/</span>
          {run.model && <Link href={`/models/${run.model.id}`}>{run.model.name}</Link>} <span>/</span>
          <span className="strong">{run.name}</span>
        </nav>
        <ViewTabs runId={runId} current={current} view={view} />
        <CompareWith runId={runId} modelId={run.modelId} view={view} />
        <div className="spacer" />
        <VersionSelect latest={run.latestVersion} value={params.version} onChange={(version) => update({ version })} />
        {params.version !== null && params.version < run.latestVersion && (
          <span className="version-marker" data-testid="version-marker">
            viewing version {params.version} of {run.latestVersion}
          </span>
        )}
        <ExportMenu runId={runId} version={params.version} confidence={confidence.value} iou={iou.value} />
        {children}
      </div>
    </>
  );
}
