import type { RunView } from "../views/useRunView";

/** One threshold of the grid point, chosen among the run's thresholds. */
export function ThresholdSelect({ testId, label, value, grid, onChange }: { testId: string; label: string; value: number | null; grid: number[]; onChange: (v: number) => void }) {
  return (
    <label className="field">
      <span>{label}</span>
      <select data-testid={testId} value={value === null ? "" : String(value)} onChange={(e) => onChange(Number(e.target.value))}>
        {grid.map((t) => (
          <option key={t} value={String(t)}>
            {t}
          </option>
        ))}
      </select>
    </label>
  );
}

/** The grid point of a run's view, written back to the address. */
export function GridControls({ view }: { view: RunView }) {
  const { confidence, iou, confidenceGrid, iouGrid, update } = view;
  return (
    <div className="grid-controls">
      <ThresholdSelect testId="confidence-threshold" label="Confidence ≥" value={confidence.value} grid={confidenceGrid} onChange={(v) => update({ confidence: v, iou: iou.value })} />
      <ThresholdSelect testId="iou-threshold" label="IoU >" value={iou.value} grid={iouGrid} onChange={(v) => update({ confidence: confidence.value, iou: v })} />
    </div>
  );
}
