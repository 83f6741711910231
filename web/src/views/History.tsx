import { useState } from "react";
import { useClient, useQuery } from "urql";
import { errorText } from "../api/client";
import { DIFF, HISTORY, type RunDiff, type RunEvent } from "../api/history";
import { ErrorBox } from "../components/ParamErrors";
import { RunHeader, runViewProblem } from "../components/RunHeader";
import { when } from "../lib/format";
import { Link } from "../lib/router";
import { formatParams } from "../lib/viewParams";
import { useRunView } from "./useRunView";

const PAGE = 50;
const LISTED = 20;

/** Every change of a run, newest last, and what changed between two of its versions. */
export function History({ runId }: { runId: string }) {
  const view = useRunView(runId);
  const client = useClient();
  const [more, setMore] = useState<{ events: RunEvent[]; after: string | null } | null>(null);
  const [result] = useQuery<{ modelRun: { history: { totalCount: number; pageInfo: { hasNextPage: boolean; endCursor: string | null }; nodes: RunEvent[] } } | null }>({
    query: HISTORY, variables: { id: runId, first: PAGE, after: null, refresh: view.run?.latestVersion },
  });
  const [pair, setPair] = useState<{ from: number | null; to: number | null }>({ from: null, to: null });
  const problem = runViewProblem(runId, view);
  if (problem || !view.run) return problem;
  const first = result.data?.modelRun?.history;
  const events = more?.events ?? first?.nodes ?? [];
  const after = more ? more.after : first?.pageInfo.hasNextPage ? first.pageInfo.endCursor : null;
  const loadMore = async () => {
    const answer = await client.query(HISTORY, { id: runId, first: PAGE, after }).toPromise();
    const page = answer.data?.modelRun?.history;
    if (page) setMore({ events: [...events, ...page.nodes], after: page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null });
  };
  const latest = view.run.latestVersion;
  const from = pair.from ?? Math.max(1, latest - 1);
  const to = pair.to ?? latest;
  const at = (version: number) => `/runs/${encodeURIComponent(runId)}/gallery${formatParams({ ...view.params, version: version === latest ? null : version })}`;
  return (
    <div className="metrics-page">
      <RunHeader runId={runId} current="history" view={view} />
      <div className="metrics-grid">
        <section className="panel wide">
          <h2>Changes ({first?.totalCount ?? "…"})</h2>
          <p className="muted small">Pick two versions (from, to) to see what changed between them; open any version to see the run as it was.</p>
          {result.error && <ErrorBox message={errorText(result.error)} />}
          <table className="table metrics-table">
            <thead>
              <tr><th>From</th><th>To</th><th>Version</th><th>Change</th><th>By</th><th>When</th><th>Summary</th><th /></tr>
            </thead>
            <tbody>
              {events.map((e) => (
                <tr key={e.version} data-testid="history-event" data-version={e.version}>
                  <td><input type="radio" name="from" data-testid="diff-from" checked={from === e.version} onChange={() => setPair({ from: e.version, to })} /></td>
                  <td><input type="radio" name="to" data-testid="diff-to" checked={to === e.version} onChange={() => setPair({ from, to: e.version })} /></td>
                  <td>{e.version}</td>
                  <td>{e.type}</td>
                  <td>{e.actor}</td>
                  <td>{when(e.at)}</td>
                  <td className="summary"><code>{JSON.stringify(e.summary)}</code></td>
                  <td><Link href={at(e.version)}>view</Link></td>
                </tr>
              ))}
            </tbody>
          </table>
          {after && <button className="ghost small" data-testid="history-more" onClick={() => void loadMore()}>Load {PAGE} more</button>}
        </section>
        <section className="panel wide">
          <Diff runId={runId} from={from} to={to} />
        </section>
      </div>
    </div>
  );
}

function Keys({ title, keys, testId }: { title: string; keys: string[]; testId: string }) {
  return (
    <div className="diff-part" data-testid={testId} data-count={keys.length}>
      <h3>{title}: {keys.length}</h3>
      {keys.length > 0 && (
        <p className="muted small">
          {keys.slice(0, LISTED).join(", ")}
          {keys.length > LISTED ? ` and ${keys.length - LISTED} more` : ""}
        </p>
      )}
    </div>
  );
}

function Diff({ runId, from, to }: { runId: string; from: number; to: number }) {
  const ordered = from <= to;
  const [result] = useQuery<{ modelRun: { diff: RunDiff } | null }>({ query: DIFF, variables: { id: runId, from, to }, pause: !ordered });
  if (!ordered) return <div className="error small">Pick a "from" version no later than the "to" version.</div>;
  if (result.error) return <ErrorBox message={errorText(result.error)} />;
  const diff = result.data?.modelRun?.diff;
  if (!diff) return <div className="loading">Comparing versions…</div>;
  const json = (value: unknown) => JSON.stringify(value, null, 1);
  return (
    <div data-testid="run-diff" data-from={diff.fromVersion} data-to={diff.toVersion}>
      <h2>From version {diff.fromVersion} to {diff.toVersion}</h2>
      <div className="diff-grid">
        <Keys title="Rows added" keys={diff.rowsAdded} testId="diff-rows-added" />
        <Keys title="Rows removed" keys={diff.rowsRemoved} testId="diff-rows-removed" />
        <Keys title="Splits changed" keys={diff.splitsChanged.map((s) => `${s.globalKey} (${s.from.toLowerCase()} → ${s.to.toLowerCase()})`)} testId="diff-splits" />
        <Keys title="Labels changed" keys={diff.labelsChanged} testId="diff-labels" />
        <Keys title="Predictions changed" keys={diff.predictionsChanged} testId="diff-predictions" />
      </div>
      {[
        ["Config", diff.configBefore, diff.configAfter],
        ["Metric settings", diff.metricSettingsBefore, diff.metricSettingsAfter],
      ].map(([title, before, after]) => (
        <div key={String(title)} className="diff-part">
          <h3>{String(title)}{json(before) === json(after) ? ": unchanged" : ""}</h3>
          {json(before) !== json(after) && (
            <div className="row-2">
              <pre className="json">{json(before)}</pre>
              <pre className="json">{json(after)}</pre>
            </div>
          )}
        </div>
      ))}
    </div>
  );
}
