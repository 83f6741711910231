import type { Feature } from "../api/gallery";
import type { DisplaySettings } from "../lib/display";
import { featureColour, SOURCE_COLOURS } from "../lib/overlay";
import { ThresholdSelect } from "./GridControls";

interface Props {
  settings: DisplaySettings;
  onChange: (settings: DisplaySettings) => void;
  features: Feature[];
  confidence: number | null;
  iou: number | null;
  confidenceGrid: number[];
  iouGrid: number[];
  onGrid: (change: { confidence?: number; iou?: number }) => void;
}

export function DisplayPanel({ settings, onChange, features, confidence, iou, confidenceGrid, iouGrid, onGrid }: Props) {
  const names = features.map((f) => f.name);
  const set = (change: Partial<DisplaySettings>) => onChange({ ...settings, ...change });
  const hidden = new Set(settings.hiddenFeatures);
  const toggle = (name: string) => {
    const next = new Set(hidden);
    if (next.has(name)) next.delete(name);
    else next.add(name);
    set({ hiddenFeatures: [...next] });
  };
  const shown = settings.labels && settings.predictions ? "both" : settings.labels ? "labels" : settings.predictions ? "predictions" : "none";
  return (
    <div className="display-panel" data-testid="display-panel">
      <h3>Grid point</h3>
      <div className="row-2">
        <ThresholdSelect testId="confidence-threshold" label="Confidence ≥" value={confidence} grid={confidenceGrid} onChange={(v) => onGrid({ confidence: v })} />
        <ThresholdSelect testId="iou-threshold" label="IoU >" value={iou} grid={iouGrid} onChange={(v) => onGrid({ iou: v })} />
      </div>
      <p className="muted small">Predictions below the confidence threshold are hidden.</p>

      <h3>Show</h3>
      <div className="segmented" role="radiogroup" aria-label="Objects shown">
        {(["both", "labels", "predictions"] as const).map((choice) => (
          <button
            key={choice}
            role="radio"
            aria-checked={shown === choice}
            className={shown === choice ? "active" : ""}
            data-testid={`show-${choice}`}
            onClick={() => set({ labels: choice !== "predictions", predictions: choice !== "labels" })}
          >
            {choice}
          </button>
        ))}
      </div>

      <h3>Colour by</h3>
      <div className="segmented" role="radiogroup" aria-label="Colour by">
        {(["feature", "source"] as const).map((mode) => (
          <button
            key={mode}
            role="radio"
            aria-checked={settings.colourMode === mode}
            className={settings.colourMode === mode ? "active" : ""}
            data-testid={`colour-${mode}`}
            onClick={() => set({ colourMode: mode })}
          >
            {mode}
          </button>
        ))}
      </div>
      {settings.colourMode === "source" && (
        <div className="legend">
          <span><i style={{ background: SOURCE_COLOURS.label }} /> label (solid)</span>
          <span><i style={{ background: SOURCE_COLOURS.prediction }} /> prediction (dashed)</span>
        </div>
      )}

      <h3>Card size</h3>
      <input
        type="range"
        min={120}
        max={480}
        step={20}
        value={settings.cardSize}
        data-testid="card-size"
        aria-label="Card size"
        onChange={(e) => set({ cardSize: Number(e.target.value) })}
      />

      <h3>
        Features
        {hidden.size > 0 && (
          <button className="link small" onClick={() => set({ hiddenFeatures: [] })}>
            show all
          </button>
        )}
      </h3>
      <ul className="feature-list">
        {features.map((f) => (
          <li key={f.name}>
            <label>
              <input type="checkbox" checked={!hidden.has(f.name)} onChange={() => toggle(f.name)} data-testid="feature-toggle" data-feature={f.name} />
              <i className="swatch" style={{ background: featureColour(f.name, names) }} />
              <span>{f.name}</span>
              <span className="muted small">{f.kind.toLowerCase()}</span>
            </label>
          </li>
        ))}
      </ul>
    </div>
  );
}
