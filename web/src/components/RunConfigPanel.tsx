import { useState } from "react";
import { useClient, useMutation, useQuery } from "urql";
import { errorText } from "../api/client";
import { userError } from "../api/gallery";
import { COPY_CONFIG, RESET_CONFIG, RUN_CONFIG, type RunConfigData, SOURCE_CONFIG, UPDATE_CONFIG } from "../api/runConfig";
import { configFileName, parseConfig, type RunConfig, sameConfig } from "../lib/config";
import { useSession } from "../session";

interface Source {
  id: string;
  name: string;
  config: RunConfig;
}

type Answer = { error?: Parameters<typeof errorText>[0]; data?: any };

/** The failure of a mutation answer for the user (transport error or typed error), or null. */
function failureOf(answer: Answer, field: string): string | null {
  return answer.error ? errorText(answer.error) : userError(answer.data?.[field]);
}

function download(name: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: "application/json" }));
  const link = document.createElement("a");
  link.href = url;
  link.download = configFileName(name);
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** A run's config, read-only; with a read-write key also edit, reset, and copy from another run of the model. */
export function RunConfigPanel({ runId, onChanged }: { runId: string; onChanged: () => void }) {
  const { viewer } = useSession();
  const client = useClient();
  const [{ data, fetching, error }, refetch] = useQuery<{ modelRun: RunConfigData | null }>({ query: RUN_CONFIG, variables: { id: runId } });
  const [, update] = useMutation(UPDATE_CONFIG);
  const [, reset] = useMutation(RESET_CONFIG);
  const [, copy] = useMutation(COPY_CONFIG);
  const [text, setText] = useState<string | null>(null);
  const [source, setSource] = useState<Source | null>(null);
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);

  const run = data?.modelRun;
  if (error) return <div className="error small">{errorText(error)}</div>;
  if (!run) return <div className="muted small run-config">{fetching ? "Loading the config…" : "This run no longer exists."}</div>;

  const editing = text !== null;
  const parsed = editing ? parseConfig(text) : null;
  const others = (run.model?.modelRuns.nodes ?? []).filter((r) => r.id !== run.id);

  // Read the run again after any answer: a refused write (a conflict, say) was based on an old version.
  const done = (failed: string | null) => {
    setProblem(failed);
    refetch({ requestPolicy: "network-only" });
    if (!failed) {
      setText(null);
      setSource(null);
      onChanged();
    }
  };
  const startEdit = () => {
    setProblem(null);
    setSource(null);
    setText(run.configJson);
  };
  const loadSource = async (sourceId: string) => {
    if (!sourceId) return;
    setProblem(null);
    setBusy(true);
    const answer = await client.query<{ modelRun: { id: string; name: string; config: RunConfig } | null }>(SOURCE_CONFIG, { id: sourceId }).toPromise();
    setBusy(false);
    if (answer.error) return setProblem(errorText(answer.error));
    const found = answer.data?.modelRun;
    if (!found) return setProblem("That run no longer exists.");
    setSource(found);
    setText(JSON.stringify(found.config, null, 2));
  };
  const save = async () => {
    if (!parsed?.ok) return;
    setBusy(true);
    // Unchanged text loaded from another run is a copy (recorded as such); anything else an edit.
    const answer =
      source && sameConfig(parsed.config, source.config)
        ? failureOf(await copy({ input: { runId: run.id, sourceRunId: source.id, expectedVersion: run.version } }), "copyModelRunConfig")
        : failureOf(await update({ input: { runId: run.id, config: parsed.config, expectedVersion: run.version } }), "updateModelRunConfig");
    setBusy(false);
    done(answer);
  };
  const onReset = async () => {
    if (!window.confirm(`Reset the config of "${run.name}" to the template (common hyperparameters, all unset)?`)) return;
    setBusy(true);
    const answer = failureOf(await reset({ input: { runId: run.id, expectedVersion: run.version } }), "resetModelRunConfig");
    setBusy(false);
    done(answer);
  };

  return (
    <div className="run-config" data-testid="run-config" data-run-id={run.id} data-version={run.version}>
      <div className="run-config-head">
        <span className="strong">Config</span>
        <span className="muted small">version {run.version}</span>
        <div className="spacer" />
        {!viewer.readOnly && !editing && (
          <>
            <button className="small" data-testid="run-config-edit" onClick={startEdit} disabled={busy}>
              Edit
            </button>
            <button className="small" data-testid="run-config-reset" onClick={onReset} disabled={busy} title="Set the config to the template: common hyperparameters, all unset">
              Reset
            </button>
            {others.length > 0 && (
              <select
                className="compact"
                data-testid="run-config-copy-source"
                aria-label="Copy the config of another run"
                value=""
                disabled={busy}
                onChange={(e) => void loadSource(e.target.value)}
              >
                <option value="">Copy from…</option>
                {others.map((r) => (
                  <option key={r.id} value={r.id}>
                    {r.name}
                  </option>
                ))}
              </select>
            )}
          </>
        )}
        <button className="small ghost" data-testid="run-config-download" onClick={() => download(run.name, run.configJson)} title="Download the config as a .json file">
          Download
        </button>
      </div>
      {editing ? (
        <>
          {source && (
            <p className="muted small" data-testid="run-config-source">
              Loaded the config of <span className="strong">{source.name}</span>.{" "}
              {parsed?.ok && sameConfig(parsed.config, source.config)
                ? "Saving copies it into this run."
                : "Edited: saving replaces this run's config with the text."}
            </p>
          )}
          <textarea
            className="mono run-config-editor"
            data-testid="run-config-editor"
            aria-label="Config (JSON)"
            spellCheck={false}
            autoFocus
            rows={Math.min(24, Math.max(6, text.split("\n").length + 1))}
            value={text}
            onChange={(e) => setText(e.target.value)}
          />
          {parsed && !parsed.ok && (
            <div className="error small" data-testid="run-config-invalid">
              {parsed.error}
            </div>
          )}
          <div className="actions">
            <button
              type="button"
              className="ghost small"
              data-testid="run-config-cancel"
              onClick={() => {
                setText(null);
                setSource(null);
                setProblem(null);
                refetch({ requestPolicy: "network-only" });
              }}
            >
              Cancel
            </button>
            <button type="button" className="primary small" data-testid="run-config-save" onClick={save} disabled={busy || !parsed?.ok}>
              {busy ? "Saving…" : "Save"}
            </button>
          </div>
        </>
      ) : (
        <pre className="mono run-config-json" data-testid="run-config-json">
          {run.configJson}
        </pre>
      )}
      {problem && (
        <div className="error small" role="alert" data-testid="run-config-error">
          {problem}
        </div>
      )}
    </div>
  );
}
