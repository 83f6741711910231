// Downloads the run as a file from GET /export/runs/{id} (docs/formats.md §4): the version
// and grid point on screen, in the format chosen. The route needs the API key, so the file is
// fetched with the Authorization header and handed to the browser as a blob.
import { useState } from "react";
import { authorization } from "../lib/auth";
import { useSession } from "../session";
import { save } from "./charts/Chart";

// Each format: its short name in the menu, and what the file holds (the option's tooltip).
const FORMATS = [
  ["ndjson", "NDJSON", "One line per data row: its labels, predictions, split and metrics at the grid point"],
  ["coco", "COCO (.zip)", "COCO ground truth (instances.json) and results (results.json)"],
  ["csv", "CSV tables (.zip)", "Metric tables per feature, per data row, and the confusion matrix; the config as JSON"],
  ["parquet", "Parquet tables (.zip)", "Metric tables per feature, per data row, and the confusion matrix; the config as JSON"],
] as const;

type State = { kind: "idle" } | { kind: "busy"; format: string } | { kind: "failed"; message: string };

export function exportHref(runId: string, format: string, version: number | null, confidence: number | null, iou: number | null): string {
  const query = new URLSearchParams({ format });
  if (version !== null) query.set("version", String(version));
  if (confidence !== null) query.set("confidence", String(confidence));
  if (iou !== null) query.set("iou", String(iou));
  return `/export/runs/${encodeURIComponent(runId)}?${query}`;
}

/** The file name the server gave (Content-Disposition), else one made of the run id. */
function fileName(response: Response, runId: string, format: string): string {
  const header = response.headers.get("Content-Disposition") ?? "";
  const encoded = /filename\*=utf-8''([^;]+)/i.exec(header);
  if (encoded) return decodeURIComponent(encoded[1]);
  const plain = /filename="?([^";]+)"?/i.exec(header);
  if (plain) return plain[1];
  return `${runId}.${format === "ndjson" ? "ndjson" : `${format}.zip`}`;
}

async function refusal(response: Response): Promise<string> {
  try {
    const body = await response.json();
    const messages = (body.errors ?? []).map((e: { message: string }) => e.message);
    if (messages.length) return messages.join("; ");
  } catch {
    // Not JSON: the status says enough.
  }
  return `the server answered ${response.status}`;
}

export function ExportMenu({ runId, version, confidence, iou }: { runId: string; version: number | null; confidence: number | null; iou: number | null }) {
  const { key } = useSession();
  const [state, setState] = useState<State>({ kind: "idle" });
  const start = async (format: string) => {
    setState({ kind: "busy", format });
    try {
      const response = await fetch(exportHref(runId, format, version, confidence, iou), { headers: { Authorization: authorization(key) } });
      if (!response.ok) {
        setState({ kind: "failed", message: await refusal(response) });
        return;
      }
      save(await response.blob(), fileName(response, runId, format));
      setState({ kind: "idle" });
    } catch (error) {
      setState({ kind: "failed", message: `Network error: ${(error as Error).message}` });
    }
  };
  return (
    <span className="export-menu">
      <select
        className="compact"
        data-testid="export-run"
        value=""
        disabled={state.kind === "busy"}
        title="Download this run, at the version and grid point shown"
        onChange={(e) => e.target.value && void start(e.target.value)}
      >
        <option value="">{state.kind === "busy" ? `Exporting ${state.format}…` : "Export…"}</option>
        {FORMATS.map(([format, label, holds]) => (
          <option key={format} value={format} title={holds}>
            {label}
          </option>
        ))}
      </select>
      {state.kind === "failed" && (
        <span className="error-inline small" data-testid="export-error" role="alert">
          Export failed: {state.message}
        </span>
      )}
    </span>
  );
}
