import { useState } from "react";
import type { Feature, MetadataField } from "../api/gallery";
import { AUTOMATIC_METRICS, type DataRowSort, DEFAULT_SORT, describeSort, type SortField } from "../lib/filters";
import { FeatureSelect } from "./FeatureSelect";

const FIELD_LABELS: Record<SortField, string> = {
  ID: "Id",
  GLOBAL_KEY: "Global key",
  METRIC: "Metric",
  CONFIDENCE_MAX: "Highest confidence",
  CONFIDENCE_MIN: "Lowest confidence",
  METADATA: "Metadata field",
};

interface Props {
  sort: DataRowSort[] | null;
  onChange: (sort: DataRowSort[] | null) => void;
  features: Feature[];
  metadataFields: MetadataField[];
  customMetrics: string[];
  metricsInSync: boolean;
}

export function SortMenu({ sort, onChange, features, metadataFields, customMetrics, metricsInSync }: Props) {
  const [open, setOpen] = useState(false);
  const [draft, setDraft] = useState<DataRowSort>({ field: "GLOBAL_KEY", descending: false });
  const [problem, setProblem] = useState<string | null>(null);
  const metricNames = [...AUTOMATIC_METRICS, ...customMetrics.filter((n) => !(AUTOMATIC_METRICS as readonly string[]).includes(n))];
  const keys = sort ?? [];
  // "Sort" starts over with this key; "Then by" adds it after the keys already there (ties
  // of the earlier keys go to it, as the API orders them).
  const apply = (then: boolean) => {
    if (draft.field === "METADATA" && !draft.key) return setProblem("choose a metadata field");
    const key: DataRowSort = { field: draft.field, descending: !!draft.descending };
    if (draft.field === "METRIC") key.metric = draft.metric ?? "precision";
    if (["METRIC", "CONFIDENCE_MAX", "CONFIDENCE_MIN"].includes(draft.field) && draft.feature) key.feature = draft.feature;
    if (draft.field === "METADATA") key.key = draft.key;
    onChange(then ? [...keys, key] : [key]);
    setOpen(false);
  };
  return (
    <div className="sort-menu popover-anchor">
      <button className="ghost" data-testid="sort-button" onClick={() => setOpen((o) => !o)}>
        Sort: {(sort?.length ? sort : DEFAULT_SORT).map(describeSort).join(", ")}
      </button>
      {sort?.length ? (
        <button className="link" data-testid="sort-clear" onClick={() => onChange(null)}>
          Reset
        </button>
      ) : null}
      {open && (
        <div className="popover popover-right" data-testid="sort-editor">
          <label className="field">
            <span>Sort by</span>
            <select data-testid="sort-field" value={draft.field} onChange={(e) => { setProblem(null); setDraft({ ...draft, field: e.target.value as SortField }); }}>
              {(Object.keys(FIELD_LABELS) as SortField[]).map((f) => (
                <option key={f} value={f} disabled={f === "METRIC" && !metricsInSync}>
                  {FIELD_LABELS[f]}
                  {f === "METRIC" && !metricsInSync ? " (metrics computing)" : ""}
                </option>
              ))}
            </select>
          </label>
          {draft.field === "METRIC" && (
            <label className="field">
              <span>Metric</span>
              <select data-testid="sort-metric" value={draft.metric ?? "precision"} onChange={(e) => setDraft({ ...draft, metric: e.target.value })}>
                {metricNames.map((m) => (
                  <option key={m} value={m}>
                    {m}
                  </option>
                ))}
              </select>
            </label>
          )}
          {["METRIC", "CONFIDENCE_MAX", "CONFIDENCE_MIN"].includes(draft.field) && (
            <label className="field">
              <span>Feature</span>
              <FeatureSelect testId="sort-feature" features={features} value={draft.feature ?? ""} onChange={(name) => setDraft({ ...draft, feature: name || null })} empty="any feature" />
            </label>
          )}
          {draft.field === "METADATA" && (
            <label className="field">
              <span>Field</span>
              <select data-testid="sort-key" value={draft.key ?? ""} onChange={(e) => { setProblem(null); setDraft({ ...draft, key: e.target.value || null }); }}>
                <option value="">choose…</option>
                {metadataFields.map((f) => (
                  <option key={f.key} value={f.key}>
                    {f.key}
                  </option>
                ))}
              </select>
            </label>
          )}
          <div className="segmented">
            <button className={!draft.descending ? "active" : ""} data-testid="sort-ascending" onClick={() => setDraft({ ...draft, descending: false })}>
              ascending
            </button>
            <button className={draft.descending ? "active" : ""} data-testid="sort-descending" onClick={() => setDraft({ ...draft, descending: true })}>
              descending
            </button>
          </div>
          {keys.length > 0 && (
            <ol className="sort-keys" data-testid="sort-keys">
              {keys.map((k, i) => (
                <li key={i}>
                  {describeSort(k)}
                  <button aria-label="Remove sort key" data-testid="sort-key-remove" onClick={() => onChange(keys.length > 1 ? keys.filter((_, j) => j !== i) : null)}>
                    ×
                  </button>
                </li>
              ))}
            </ol>
          )}
          <p className="muted small">Rows without a value come last either way.</p>
          {problem && <div className="error small">{problem}</div>}
          <div className="actions">
            <button className="ghost" onClick={() => setOpen(false)}>
              Cancel
            </button>
            {keys.length > 0 && (
              <button className="ghost" data-testid="sort-then" onClick={() => apply(true)}>
                Then by
              </button>
            )}
            <button className="primary" data-testid="sort-apply" onClick={() => apply(false)}>
              Sort
            </button>
          </div>
        </div>
      )}
    </div>
  );
}
