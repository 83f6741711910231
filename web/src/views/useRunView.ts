// What every view of one run needs: the run as of the version asked, its features and
// metadata fields, its grid point, and its live metrics status.
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { useQuery, useSubscription } from "urql";
import { type MetadataField, METRICS_STATUS, type MetricsStatus, RUN, type RunInfo } from "../api/gallery";
import { useViewParams } from "../lib/useViewParams";
import { gridPoint } from "../lib/viewParams";

function mergeMetadataFields(datasets: { metadataFields: MetadataField[] }[]): MetadataField[] {
  const byKey = new Map<string, MetadataField>();
  for (const d of datasets) for (const f of d.metadataFields) if (!byKey.has(f.key)) byKey.set(f.key, f);
  return [...byKey.values()].sort((a, b) => a.key.localeCompare(b.key));
}

export function useRunView(runId: string) {
  const { params, errors, update } = useViewParams();
  const [runResult, reexecuteRun] = useQuery<{ modelRun: RunInfo | null; datasets: { nodes: { metadataFields: MetadataField[] }[] } }>({
    query: RUN,
    variables: { id: runId, version: params.version },
  });
  const run = runResult.data?.modelRun ?? null;
  const metadataFields = useMemo(() => mergeMetadataFields(runResult.data?.datasets.nodes ?? []), [runResult.data]);
  const features = useMemo(() => run?.model?.ontology.features ?? [], [run]);

  // The grid point: the parameters if they are on the run's grid, else the nearest point.
  const confidenceGrid = run?.metricSettings.confidenceThresholds ?? [];
  const iouGrid = run?.metricSettings.iouThresholds ?? [];
  const confidence = gridPoint(params.confidence, confidenceGrid, "confidence");
  const iou = gridPoint(params.iou, iouGrid, "iou");
  const versionError =
    run && params.version !== null && params.version > run.latestVersion
      ? `Parameter version=${params.version} is past the run's latest version ${run.latestVersion}.`
      : null;
  const allErrors = [...errors, ...[confidence.error, iou.error, versionError].filter((e): e is string => !!e)];

  // Metrics status, live; `refresh` counts the computations seen finishing: a move to
  // IN_SYNC, or IN_SYNC again at a later position (a computation done between two reads).
  const [statusResult] = useSubscription<{ metricsStatus: MetricsStatus }>({ query: METRICS_STATUS, variables: { runId }, pause: !run });
  const status = statusResult.data?.metricsStatus ?? run?.metricsStatus ?? null;
  const inSync = status?.state === "IN_SYNC";
  const [refresh, setRefresh] = useState(0);
  const last = useRef<MetricsStatus | null>(null);
  useEffect(() => {
    // Results that depend on metrics change when a computation finishes.
    const before = last.current;
    if (status && before && status.state === "IN_SYNC" && (before.state !== "IN_SYNC" || status.changedAt > before.changedAt)) setRefresh((r) => r + 1);
    last.current = status;
  }, [status]);

  // After a change of the run's settings made here (no document cache answers for it).
  const reloadRun = useCallback(() => reexecuteRun({ requestPolicy: "network-only" }), [reexecuteRun]);

  return {
    reloadRun, params, update, runResult, run, metadataFields, features, confidenceGrid, iouGrid,
    confidence, iou, allErrors, status, inSync, refresh,
  };
}

export type RunView = ReturnType<typeof useRunView>;
