import { useState } from "react";
import { useMutation } from "urql";
import { errorText } from "../api/client";
import { type MetricsStatus, RETRY_METRICS, userError } from "../api/gallery";
import { count } from "../lib/format";
import { useSession } from "../session";

/** Says when the run's metrics are out of sync (absent when in sync), with a retry on failure. */
export function MetricsBanner({ runId, status }: { runId: string; status: MetricsStatus | null }) {
  const { viewer } = useSession();
  const [retryState, retry] = useMutation(RETRY_METRICS);
  const [problem, setProblem] = useState<string | null>(null);
  if (!status || status.state === "IN_SYNC") return null;
  const pending = `${count(status.pendingDataRows)} data row${status.pendingDataRows === 1 ? "" : "s"} pending`;
  const onRetry = async () => {
    setProblem(null);
    const answer = await retry({ runId });
    if (answer.error) setProblem(errorText(answer.error));
    else setProblem(userError(answer.data?.retryMetrics));
  };
  return (
    <div className={`banner banner-${status.state.toLowerCase()}`} data-testid="metrics-banner" data-state={status.state} role="status">
      {status.state === "COMPUTING" ? (
        <span>
          <span className="spinner" aria-hidden="true" /> Metrics out of sync — {pending}
          {status.progress !== null && ` (${Math.round(status.progress * 100)} % done)`}. Metric filters are unavailable until they are computed.
        </span>
      ) : (
        <span>
          Metric computation failed — {pending}
          {status.error ? `: ${status.error}` : "."}
        </span>
      )}
      {status.state === "FAILED" && !viewer.readOnly && (
        <button className="small" data-testid="metrics-retry" onClick={onRetry} disabled={retryState.fetching}>
          {retryState.fetching ? "Retrying…" : "Retry"}
        </button>
      )}
      {problem && <span className="error-inline">{problem}</span>}
    </div>
  );
}
