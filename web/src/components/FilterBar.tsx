import { useState } from "react";
import type { Feature, MetadataField, SliceCount } from "../api/gallery";
import {
  AUTOMATIC_METRICS, type ClauseForm, type ClauseKind, clauseFromForm, type DataRowFilter, describeClause,
  emptyForm, kindOf, SPLITS, type SplitName, withClause, withoutClause,
} from "../lib/filters";
import { FeatureSelect } from "./FeatureSelect";

const KIND_LABELS: Partial<Record<ClauseKind, string>> = {
  annotation: "Label present / absent / count",
  prediction: "Prediction present / absent",
  metric: "Metric range",
  confidence: "Confidence range",
  metadata: "Metadata",
  split: "Split",
  dataRows: "Global keys or ids",
  slice: "Saved slice",
  autoSlice: "Automatic slice",
  confusionCell: "Confusion matrix cell",
  evaluated: "Evaluated or not",
};
const METRIC_KINDS: ClauseKind[] = ["metric", "autoSlice", "confusionCell"];
export const AUTO_SLICE_NAMES = [
  "True positive", "False positive", "False negative", "True negative", "Low precision", "Low recall", "Low F1",
  "Low confidence", "Candidate mislabels",
];

interface Props {
  filter: DataRowFilter | null;
  onChange: (filter: DataRowFilter | null) => void;
  features: Feature[];
  metadataFields: MetadataField[];
  customMetrics: string[];
  savedSlices: SliceCount[];
  metricsInSync: boolean;
  split: SplitName | null;
  onSplit: (split: SplitName | null) => void;
}

function FeaturePicker({ features, chosen, onChange }: { features: Feature[]; chosen: string[]; onChange: (f: string[]) => void }) {
  return (
    <select
      multiple
      data-testid="filter-features"
      size={Math.min(6, Math.max(3, features.length))}
      value={chosen}
      onChange={(e) => onChange(Array.from(e.target.selectedOptions).map((o) => o.value))}
    >
      {features.map((f) => (
        <option key={f.name} value={f.name}>
          {f.name}
        </option>
      ))}
    </select>
  );
}

function Range({ form, set, step = "any", placeholder = ["min", "max"] }: { form: ClauseForm; set: (c: Partial<ClauseForm>) => void; step?: string; placeholder?: [string, string] }) {
  return (
    <div className="row-2">
      <label className="field">
        <span>Min</span>
        <input data-testid="filter-min" inputMode="decimal" step={step} placeholder={placeholder[0]} value={form.min} onChange={(e) => set({ min: e.target.value })} />
      </label>
      <label className="field">
        <span>Max</span>
        <input data-testid="filter-max" inputMode="decimal" step={step} placeholder={placeholder[1]} value={form.max} onChange={(e) => set({ max: e.target.value })} />
      </label>
    </div>
  );
}

function ClauseEditor({ props, onDone }: { props: Props; onDone: () => void }) {
  const [form, setForm] = useState<ClauseForm>(emptyForm("annotation"));
  const [problem, setProblem] = useState<string | null>(null);
  const set = (change: Partial<ClauseForm>) => {
    setProblem(null);
    setForm((f) => ({ ...f, ...change }));
  };
  const field = props.metadataFields.find((f) => f.key === form.key);
  const metricNames = [...AUTOMATIC_METRICS, ...props.customMetrics.filter((n) => !(AUTOMATIC_METRICS as readonly string[]).includes(n))];
  const objectFeatures = props.features;
  const apply = () => {
    try {
      props.onChange(withClause(props.filter, clauseFromForm(form)));
      onDone();
    } catch (e) {
      setProblem((e as Error).message);
    }
  };
  const inputType = field?.kind === "DATETIME" ? "datetime-local" : "text";
  return (
    <div className="popover" data-testid="filter-editor" onKeyDown={(e) => e.key === "Escape" && onDone()}>
      <label className="field">
        <span>Condition</span>
        <select data-testid="filter-kind" value={form.kind} onChange={(e) => setForm(emptyForm(e.target.value as ClauseKind))}>
          {Object.entries(KIND_LABELS).map(([kind, label]) => {
            const off = METRIC_KINDS.includes(kind as ClauseKind) && !props.metricsInSync;
            return (
              <option key={kind} value={kind} disabled={off}>
                {label}
                {off ? " (metrics computing)" : ""}
              </option>
            );
          })}
        </select>
      </label>

      {(form.kind === "annotation" || form.kind === "prediction") && (
        <>
          <div className="segmented">
            <button className={form.present ? "active" : ""} onClick={() => set({ present: true })} data-testid="filter-present">
              has
            </button>
            <button className={!form.present ? "active" : ""} onClick={() => set({ present: false })} data-testid="filter-absent">
              has not
            </button>
          </div>
          <label className="field">
            <span>Any of the features</span>
            <FeaturePicker features={objectFeatures} chosen={form.features} onChange={(features) => set({ features })} />
          </label>
          {form.kind === "annotation" && form.present && <Range form={form} set={set} step="1" placeholder={["min count", "max count"]} />}
        </>
      )}

      {(form.kind === "metric" || form.kind === "confidence") && (
        <>
          {form.kind === "metric" && (
            <label className="field">
              <span>Metric</span>
              <select data-testid="filter-metric" value={form.metric} onChange={(e) => set({ metric: e.target.value })}>
                {metricNames.map((m) => (
                  <option key={m} value={m}>
                    {m}
                  </option>
                ))}
              </select>
            </label>
          )}
          <label className="field">
            <span>Feature</span>
            <FeatureSelect testId="filter-feature" features={objectFeatures} value={form.feature} onChange={(feature) => set({ feature })} empty="any feature" />
          </label>
          <Range form={form} set={set} placeholder={["0", "1"]} />
        </>
      )}

      {form.kind === "metadata" && (
        <>
          <label className="field">
            <span>Field</span>
            <select
              data-testid="filter-metadata-key"
              value={form.key}
              onChange={(e) => {
                const chosen = props.metadataFields.find((f) => f.key === e.target.value);
                const kind = chosen?.kind ?? "STRING";
                set({ key: e.target.value, metadataKind: kind, op: kind === "ENUM" ? "in" : kind === "STRING" ? "equals" : "range", value: "", values: [], min: "", max: "" });
              }}
            >
              <option value="">choose…</option>
              {props.metadataFields.map((f) => (
                <option key={f.key} value={f.key}>
                  {f.key} ({f.kind.toLowerCase()})
                </option>
              ))}
            </select>
          </label>
          {field && (
            <>
              <div className="segmented">
                {(field.kind === "ENUM" ? (["in"] as const) : field.kind === "STRING" ? (["equals", "contains"] as const) : (["range", "equals"] as const)).map((op) => (
                  <button key={op} className={form.op === op ? "active" : ""} onClick={() => set({ op })} data-testid={`filter-op-${op}`}>
                    {op === "range" ? "between" : op === "in" ? "one of" : op}
                  </button>
                ))}
              </div>
              {form.op === "in" && (
                <select multiple data-testid="filter-values" value={form.values} onChange={(e) => set({ values: Array.from(e.target.selectedOptions).map((o) => o.value) })}>
                  {field.options.map((o) => (
                    <option key={o} value={o}>
                      {o}
                    </option>
                  ))}
                </select>
              )}
              {(form.op === "equals" || form.op === "contains") && (
                <label className="field">
                  <span>Value</span>
                  <input
                    data-testid="filter-value"
                    type={inputType}
                    inputMode={field.kind === "NUMBER" ? "decimal" : undefined}
                    value={form.value}
                    onChange={(e) => set({ value: e.target.value })}
                  />
                </label>
              )}
              {form.op === "range" && (
                <div className="row-2">
                  <label className="field">
                    <span>From</span>
                    <input data-testid="filter-min" type={inputType} value={form.min} onChange={(e) => set({ min: e.target.value })} />
                  </label>
                  <label className="field">
                    <span>To</span>
                    <input data-testid="filter-max" type={inputType} value={form.max} onChange={(e) => set({ max: e.target.value })} />
                  </label>
                </div>
              )}
            </>
          )}
        </>
      )}

      {form.kind === "split" && (
        <div className="checks">
          {SPLITS.map((s) => (
            <label key={s}>
              <input
                type="checkbox"
                data-testid="filter-split"
                value={s}
                checked={form.splits.includes(s)}
                onChange={(e) => set({ splits: e.target.checked ? [...form.splits, s] : form.splits.filter((x) => x !== s) })}
              />
              {s.toLowerCase()}
            </label>
          ))}
        </div>
      )}

      {form.kind === "dataRows" && (
        <>
          <div className="segmented">
            {(["globalKeys", "ids"] as const).map((which) => (
              <button key={which} className={form.keysAre === which ? "active" : ""} onClick={() => set({ keysAre: which })} data-testid={`filter-keys-${which}`}>
                {which === "ids" ? "data row ids" : "global keys"}
              </button>
            ))}
          </div>
          <label className="field">
            <span>{form.keysAre === "ids" ? "Data row ids" : "Global keys"} (one a line, or comma-separated)</span>
            <textarea data-testid="filter-keys" rows={3} value={form.keys} onChange={(e) => set({ keys: e.target.value })} />
          </label>
        </>
      )}

      {form.kind === "confusionCell" && (
        <div className="row-2">
          {(
            [
              ["groundTruth", "Ground truth"],
              ["predicted", "Predicted"],
            ] as const
          ).map(([side, label]) => (
            <label key={side} className="field">
              <span>{label}</span>
              <FeatureSelect testId={`filter-cell-${side}`} features={objectFeatures} value={form[side]} onChange={(name) => set({ [side]: name })} empty="None" />
            </label>
          ))}
        </div>
      )}

      {form.kind === "evaluated" && (
        <div className="segmented">
          <button className={form.evaluated ? "active" : ""} onClick={() => set({ evaluated: true })} data-testid="filter-evaluated">
            evaluated
          </button>
          <button className={!form.evaluated ? "active" : ""} onClick={() => set({ evaluated: false })} data-testid="filter-not-evaluated">
            not evaluated
          </button>
        </div>
      )}

      {form.kind === "slice" && (
        <select data-testid="filter-slice" value={form.slice} onChange={(e) => set({ slice: e.target.value })}>
          <option value="">choose…</option>
          {props.savedSlices.map((s) => (
            <option key={s.id!} value={s.id!}>
              {s.name}
            </option>
          ))}
        </select>
      )}

      {form.kind === "autoSlice" && (
        <select data-testid="filter-auto-slice" value={form.autoSlice} onChange={(e) => set({ autoSlice: e.target.value })}>
          <option value="">choose…</option>
          {AUTO_SLICE_NAMES.map((name) => (
            <option key={name} value={name}>
              {name}
            </option>
          ))}
        </select>
      )}

      {problem && <div className="error small" data-testid="filter-problem">{problem}</div>}
      <div className="actions">
        <button className="ghost" onClick={onDone}>
          Cancel
        </button>
        <button className="primary" data-testid="filter-apply" onClick={apply}>
          Add condition
        </button>
      </div>
    </div>
  );
}

export function FilterBar(props: Props) {
  const [editing, setEditing] = useState(false);
  const clauses = props.filter?.all ?? [];
  const sliceNames = Object.fromEntries(props.savedSlices.filter((s) => s.id).map((s) => [s.id!, s.name]));
  return (
    <div className="filter-bar" data-testid="filter-bar">
      <select
        className="compact"
        data-testid="split-select"
        aria-label="Split"
        value={props.split ?? ""}
        onChange={(e) => props.onSplit((e.target.value || null) as SplitName | null)}
      >
        <option value="">All splits</option>
        {SPLITS.map((s) => (
          <option key={s} value={s}>
            {s.charAt(0) + s.slice(1).toLowerCase()}
          </option>
        ))}
      </select>
      {clauses.map((clause, i) => {
        const blocked = ["metric", "autoSlice", "confusionCell"].includes(kindOf(clause)) && !props.metricsInSync;
        return (
          <span key={i} className={`clause${blocked ? " clause-blocked" : ""}`} data-testid="filter-clause" title={blocked ? "Unavailable while metrics are computed" : JSON.stringify(clause)}>
            {describeClause(clause, sliceNames)}
            <button aria-label="Remove condition" data-testid="filter-clause-remove" onClick={() => props.onChange(withoutClause(props.filter, i))}>
              ×
            </button>
          </span>
        );
      })}
      <div className="popover-anchor">
        <button className="ghost" data-testid="filter-add" onClick={() => setEditing((e) => !e)}>
          + Filter
        </button>
        {editing && <ClauseEditor props={props} onDone={() => setEditing(false)} />}
      </div>
      {clauses.length > 0 && (
        <button className="link" data-testid="filter-clear" onClick={() => props.onChange(null)}>
          Clear
        </button>
      )}
    </div>
  );
}
