import { useState } from "react";
import { useMutation } from "urql";
import { errorText } from "../api/client";
import { userError } from "../api/gallery";
import { parseThresholds } from "../lib/metricsView";
import { useSession } from "../session";

const SET_SETTINGS = `mutation SetThresholds($input: SetMetricSettingsInput!) {
  setMetricSettings(input: $input) { __typename ... on SetMetricSettingsPayload { modelRun { id metricSettings { confidenceThresholds iouThresholds } } } ... on UserError { code message } }
}`;

/** The run's lists of confidence and IoU thresholds, edited as text ("0.5, 0.55, 0.6" or
 *  "0.50:0.60:0.01"); saving records new settings and the metrics are computed again for
 *  them (the sync banner follows). A read-only key sees the lists only. */
export function ThresholdEditor({ runId, confidences, ious, onSaved }: { runId: string; confidences: number[]; ious: number[]; onSaved: () => void }) {
  const { viewer } = useSession();
  const [open, setOpen] = useState(false);
  const [confidenceText, setConfidenceText] = useState(confidences.join(", "));
  const [iouText, setIouText] = useState(ious.join(", "));
  const [problem, setProblem] = useState<string | null>(null);
  const [state, save] = useMutation(SET_SETTINGS);
  if (viewer.readOnly) return null;
  if (!open) {
    return (
      <button className="ghost small" data-testid="thresholds-edit" onClick={() => { setConfidenceText(confidences.join(", ")); setIouText(ious.join(", ")); setOpen(true); }}>
        Thresholds…
      </button>
    );
  }
  const submit = async () => {
    try {
      const input = { runId, confidenceThresholds: parseThresholds(confidenceText, "confidence"), iouThresholds: parseThresholds(iouText, "IoU") };
      const answer = await save({ input });
      const refused = answer.error ? errorText(answer.error) : userError(answer.data?.setMetricSettings);
      if (refused) return setProblem(refused);
      setProblem(null);
      setOpen(false);
      onSaved();
    } catch (e) {
      setProblem((e as Error).message);
    }
  };
  return (
    <div className="popover-anchor">
      <div className="popover popover-right threshold-editor" data-testid="thresholds-editor">
        <label className="field">
          <span>Confidence thresholds (a list, or from:to:step)</span>
          <input data-testid="thresholds-confidence" value={confidenceText} onChange={(e) => setConfidenceText(e.target.value)} />
        </label>
        <label className="field">
          <span>IoU thresholds</span>
          <input data-testid="thresholds-iou" value={iouText} onChange={(e) => setIouText(e.target.value)} />
        </label>
        <p className="muted small">Saving computes the run's metrics again for these thresholds.</p>
        {problem && <div className="error small" data-testid="thresholds-problem">{problem}</div>}
        <div className="actions">
          <button className="ghost" onClick={() => setOpen(false)}>Cancel</button>
          <button className="primary" data-testid="thresholds-save" disabled={state.fetching} onClick={() => void submit()}>Save</button>
        </div>
      </div>
    </div>
  );
}
