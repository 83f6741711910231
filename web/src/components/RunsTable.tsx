import { Fragment, useState } from "react";
import { Link } from "../lib/router";
import { RunConfigPanel } from "./RunConfigPanel";
import { count, when } from "../lib/format";

export interface RunRow {
  id: string;
  name: string;
  rowCount: number;
  createdAt: string;
  updatedAt: string;
  metricsStatus: { state: "IN_SYNC" | "COMPUTING" | "FAILED"; pendingDataRows: number; error: string | null };
  predictionDistribution: { pageInfo: { hasNextPage: boolean }; nodes: { objects: number }[] };
}

export const RUN_FIELDS = `
  id name rowCount createdAt updatedAt
  metricsStatus { state pendingDataRows error }
  predictionDistribution(first: 1000) { pageInfo { hasNextPage } nodes { objects } }
`;

export function StatusPill({ status }: { status: RunRow["metricsStatus"] }) {
  const label =
    status.state === "IN_SYNC"
      ? "in sync"
      : status.state === "COMPUTING"
        ? `computing · ${count(status.pendingDataRows)} pending`
        : "failed";
  return (
    <span className={`pill pill-${status.state.toLowerCase()}`} title={status.error ?? undefined}>
      {label}
    </span>
  );
}

function predictions(run: RunRow): string {
  const total = run.predictionDistribution.nodes.reduce((sum, n) => sum + n.objects, 0);
  return count(total) + (run.predictionDistribution.pageInfo.hasNextPage ? "+" : "");
}

/** The runs of a model; each row opens its config below it. `onChanged` refreshes the list after a config change. */
export function RunsTable({ runs, onChanged }: { runs: RunRow[]; onChanged: () => void }) {
  const [open, setOpen] = useState<ReadonlySet<string>>(new Set());
  if (!runs.length) return <p className="muted small">No runs yet.</p>;
  const toggle = (id: string) =>
    setOpen((current) => {
      const next = new Set(current);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });
  return (
    <table className="table" data-testid="runs-table">
      <thead>
        <tr>
          <th>Run</th>
          <th>Metrics</th>
          <th className="num">Data rows</th>
          <th className="num">Predictions</th>
          <th>Created</th>
          <th>Last changed</th>
          <th />
        </tr>
      </thead>
      <tbody>
        {runs.map((run) => (
          <Fragment key={run.id}>
            <tr data-testid="run-row" data-run-id={run.id}>
              <td>
                <Link href={`/runs/${run.id}/gallery`} className="strong">
                  {run.name}
                </Link>
              </td>
              <td>
                <StatusPill status={run.metricsStatus} />
              </td>
              <td className="num">{count(run.rowCount)}</td>
              <td className="num">{predictions(run)}</td>
              <td className="muted">{when(run.createdAt)}</td>
              <td className="muted">{when(run.updatedAt)}</td>
              <td className="num">
                <button
                  className="link small"
                  data-testid="run-config-toggle"
                  aria-expanded={open.has(run.id)}
                  onClick={() => toggle(run.id)}
                >
                  {open.has(run.id) ? "Hide config" : "Config"}
                </button>
              </td>
            </tr>
            {open.has(run.id) && (
              <tr className="run-config-row" data-testid="run-config-row" data-run-id={run.id}>
                <td colSpan={7}>
                  <RunConfigPanel runId={run.id} onChanged={onChanged} />
                </td>
              </tr>
            )}
          </Fragment>
        ))}
      </tbody>
    </table>
  );
}
