// DataRowFilter clauses (schema.graphql: FilterClause) and gallery sorts (DataRowSort): the
// shapes, how the filter bar builds them, and how they read to a user.

export type SplitName = "TRAINING" | "VALIDATION" | "TEST" | "UNASSIGNED";
export const SPLITS: readonly SplitName[] = ["TRAINING", "VALIDATION", "TEST", "UNASSIGNED"];
export const AUTOMATIC_METRICS = ["precision", "recall", "f1", "iou", "tp", "fp", "fn", "tn"] as const;
export type MetadataKind = "STRING" | "NUMBER" | "DATETIME" | "ENUM";
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export type Clause =
  | { annotation: { features: string[]; present?: boolean; min?: number | null; max?: number | null } }
  | { prediction: { features: string[]; present?: boolean } }
  | { metric: { name: string; feature?: string | null; min?: number | null; max?: number | null; maxExclusive?: boolean } }
  | { confidence: { feature?: string | null; min?: number | null; max?: number | null } }
  | { metadata: { key: string; equals?: Json; in?: Json[] | null; contains?: string | null; min?: Json; max?: Json } }
  | { split: SplitName[] }
  | { dataRows: { ids?: string[] | null; globalKeys?: string[] | null } }
  | { selection: { ids: string[] } }
  | { slice: string }
  | { autoSlice: string }
  | { confusionCell: { groundTruth?: string | null; prediction?: string | null } }
  | { evaluated: boolean };

export type ClauseKind =
  | "annotation" | "prediction" | "metric" | "confidence" | "metadata" | "split" | "dataRows"
  | "selection" | "slice" | "autoSlice" | "confusionCell" | "evaluated";
export const CLAUSE_KINDS: readonly ClauseKind[] = [
  "annotation", "prediction", "metric", "confidence", "metadata", "split", "dataRows", "selection",
  "slice", "autoSlice", "confusionCell", "evaluated",
];

export interface DataRowFilter {
  all: Clause[];
}

export type SortField = "ID" | "GLOBAL_KEY" | "METRIC" | "CONFIDENCE_MAX" | "CONFIDENCE_MIN" | "METADATA";
export const SORT_FIELDS: readonly SortField[] = ["ID", "GLOBAL_KEY", "METRIC", "CONFIDENCE_MAX", "CONFIDENCE_MIN", "METADATA"];

/** The gallery's order when none is chosen: by global key, which a person recognises (the
 *  API's own default, the row id, looks random). */
export const DEFAULT_SORT: DataRowSort[] = [{ field: "GLOBAL_KEY", descending: false }];

export interface DataRowSort {
  field: SortField;
  descending?: boolean;
  metric?: string | null;
  feature?: string | null;
  key?: string | null;
}

export function kindOf(clause: Clause): ClauseKind {
  return Object.keys(clause)[0] as ClauseKind;
}

/** Clauses answered from metric results: unavailable while the run's metrics are computing. */
export function dependsOnMetrics(filter: DataRowFilter | null, sort: DataRowSort[] | null): boolean {
  const clauses = filter?.all ?? [];
  return (
    clauses.some((c) => ["metric", "autoSlice", "confusionCell"].includes(kindOf(c))) ||
    (sort ?? []).some((s) => s.field === "METRIC")
  );
}

export function withClause(filter: DataRowFilter | null, clause: Clause): DataRowFilter {
  return { all: [...(filter?.all ?? []), clause] };
}

/** The filter without clause `index`; null once no clause is left. */
export function withoutClause(filter: DataRowFilter | null, index: number): DataRowFilter | null {
  const all = (filter?.all ?? []).filter((_, i) => i !== index);
  return all.length ? { all } : null;
}

function range(min: Json | undefined, max: Json | undefined, exclusive = false): string {
  const has = (v: Json | undefined) => v !== null && v !== undefined;
  if (has(min) && has(max)) return `${min} – ${max}${exclusive ? " (excl.)" : ""}`;
  if (has(min)) return `≥ ${min}`;
  if (has(max)) return `${exclusive ? "<" : "≤"} ${max}`;
  return "any";
}

const pretty = (s: string) => s.charAt(0) + s.slice(1).toLowerCase();

/** How a clause reads in the filter bar. `sliceNames` names saved slices by id. */
export function describeClause(clause: Clause, sliceNames: Record<string, string> = {}): string {
  if ("annotation" in clause) {
    const a = clause.annotation;
    const count = a.min != null || a.max != null ? ` (count ${range(a.min, a.max)})` : "";
    return `${a.present === false ? "no label" : "label"}: ${a.features.join(" or ")}${count}`;
  }
  if ("prediction" in clause) {
    const p = clause.prediction;
    return `${p.present === false ? "no prediction" : "prediction"}: ${p.features.join(" or ")}`;
  }
  if ("metric" in clause) {
    const m = clause.metric;
    return `${m.name}${m.feature ? ` of ${m.feature}` : ""} ${range(m.min, m.max, m.maxExclusive)}`;
  }
  if ("confidence" in clause) {
    const c = clause.confidence;
    return `confidence${c.feature ? ` of ${c.feature}` : ""} ${range(c.min, c.max)}`;
  }
  if ("metadata" in clause) {
    const m = clause.metadata;
    if (m.equals !== undefined && m.equals !== null) return `${m.key} = ${JSON.stringify(m.equals)}`;
    if (m.in) return `${m.key} in ${m.in.map((v) => JSON.stringify(v)).join(", ")}`;
    if (m.contains) return `${m.key} contains "${m.contains}"`;
    return `${m.key} ${range(m.min, m.max)}`;
  }
  if ("split" in clause) return `split: ${clause.split.map(pretty).join(" or ")}`;
  if ("dataRows" in clause) {
    const keys = clause.dataRows.globalKeys ?? [];
    const ids = clause.dataRows.ids ?? [];
    const named = [...keys, ...ids];
    return `data rows: ${named.slice(0, 3).join(", ")}${named.length > 3 ? ` +${named.length - 3}` : ""}`;
  }
  if ("selection" in clause) return `selection of ${clause.selection.ids.length} rows`;
  if ("slice" in clause) return `slice: ${sliceNames[clause.slice] ?? clause.slice}`;
  if ("autoSlice" in clause) return `auto slice: ${clause.autoSlice}`;
  if ("confusionCell" in clause) {
    const c = clause.confusionCell;
    return `confusion: ${c.groundTruth ?? "None"} → ${c.prediction ?? "None"}`;
  }
  return clause.evaluated ? "evaluated" : "not evaluated";
}

export function describeSort(sort: DataRowSort): string {
  const dir = sort.descending ? "↓" : "↑";
  switch (sort.field) {
    case "METRIC":
      return `${sort.metric}${sort.feature ? ` of ${sort.feature}` : ""} ${dir}`;
    case "CONFIDENCE_MAX":
      return `highest confidence${sort.feature ? ` of ${sort.feature}` : ""} ${dir}`;
    case "CONFIDENCE_MIN":
      return `lowest confidence${sort.feature ? ` of ${sort.feature}` : ""} ${dir}`;
    case "METADATA":
      return `${sort.key} ${dir}`;
    case "GLOBAL_KEY":
      return `global key ${dir}`;
    default:
      return `id ${dir}`;
  }
}

/** A number typed into a field: null when empty, an error when not a number. */
export function parseOptionalNumber(raw: string, what: string): number | null {
  const text = raw.trim();
  if (!text) return null;
  const value = Number(text);
  if (!Number.isFinite(value)) throw new Error(`${what} must be a number, not "${text}"`);
  return value;
}

/** A metadata value typed for a field of `kind`, as the API wants it (DATETIME: ISO 8601 in UTC). */
export function metadataValue(kind: MetadataKind, raw: string, what: string): Json {
  const text = raw.trim();
  if (!text) throw new Error(`${what} is empty`);
  if (kind === "NUMBER") {
    const value = Number(text);
    if (!Number.isFinite(value)) throw new Error(`${what} must be a number, not "${text}"`);
    return value;
  }
  if (kind === "DATETIME") {
    // datetime-local inputs give "2024-05-01T12:30" (local time), without a zone.
    const date = new Date(text);
    if (Number.isNaN(date.getTime())) throw new Error(`${what} must be a date and time, not "${text}"`);
    return date.toISOString();
  }
  return text;
}

/** A list typed one item per line or comma-separated, trimmed, without empties. */
export function listOf(raw: string): string[] {
  return raw.split(/[\n,]/).map((s) => s.trim()).filter(Boolean);
}

export interface ClauseForm {
  kind: ClauseKind;
  features: string[];
  present: boolean;
  feature: string;
  metric: string;
  min: string;
  max: string;
  key: string;
  metadataKind: MetadataKind;
  op: "equals" | "contains" | "in" | "range";
  value: string;
  values: string[];
  splits: SplitName[];
  keys: string;
  keysAre: "globalKeys" | "ids";
  slice: string;
  autoSlice: string;
  /** Confusion cell: a feature name, or "" for the None class. */
  groundTruth: string;
  predicted: string;
  evaluated: boolean;
}

export function emptyForm(kind: ClauseKind): ClauseForm {
  return {
    kind, features: [], present: true, feature: "", metric: "precision", min: "", max: "", key: "",
    metadataKind: "STRING", op: "equals", value: "", values: [], splits: [], keys: "", keysAre: "globalKeys",
    slice: "", autoSlice: "", groundTruth: "", predicted: "", evaluated: true,
  };
}

/** The clause a filter-bar form describes; throws an error a user can read if it is incomplete. */
export function clauseFromForm(form: ClauseForm): Clause {
  const min = () => parseOptionalNumber(form.min, "min");
  const max = () => parseOptionalNumber(form.max, "max");
  const bounded = () => {
    const [lo, hi] = [min(), max()];
    if (lo === null && hi === null) throw new Error("give a min, a max or both");
    if (lo !== null && hi !== null && lo > hi) throw new Error("min is above max");
    return [lo, hi] as const;
  };
  switch (form.kind) {
    case "annotation": {
      if (!form.features.length) throw new Error("choose at least one feature");
      const [lo, hi] = [min(), max()];
      if ((lo !== null && !Number.isInteger(lo)) || (hi !== null && !Number.isInteger(hi))) throw new Error("counts are whole numbers");
      return { annotation: { features: form.features, present: form.present, min: lo, max: hi } };
    }
    case "prediction":
      if (!form.features.length) throw new Error("choose at least one feature");
      return { prediction: { features: form.features, present: form.present } };
    case "metric": {
      const [lo, hi] = bounded();
      return { metric: { name: form.metric, feature: form.feature || null, min: lo, max: hi } };
    }
    case "confidence": {
      const [lo, hi] = bounded();
      if ((lo ?? 0) < 0 || (hi ?? 1) > 1) throw new Error("confidence is between 0 and 1");
      return { confidence: { feature: form.feature || null, min: lo, max: hi } };
    }
    case "metadata": {
      if (!form.key) throw new Error("choose a metadata field");
      if (form.op === "in") {
        if (!form.values.length) throw new Error("choose at least one value");
        return { metadata: { key: form.key, in: form.values } };
      }
      if (form.op === "contains") return { metadata: { key: form.key, contains: String(metadataValue("STRING", form.value, "the text")) } };
      if (form.op === "range") {
        const lo = form.min.trim() ? metadataValue(form.metadataKind, form.min, "min") : null;
        const hi = form.max.trim() ? metadataValue(form.metadataKind, form.max, "max") : null;
        if (lo === null && hi === null) throw new Error("give a min, a max or both");
        return { metadata: { key: form.key, min: lo, max: hi } };
      }
      return { metadata: { key: form.key, equals: metadataValue(form.metadataKind, form.value, "the value") } };
    }
    case "split":
      if (!form.splits.length) throw new Error("choose at least one split");
      return { split: form.splits };
    case "dataRows": {
      const keys = listOf(form.keys);
      if (form.keysAre === "ids") {
        if (!keys.length) throw new Error("give at least one data row id");
        return { dataRows: { ids: keys } };
      }
      if (!keys.length) throw new Error("give at least one global key");
      return { dataRows: { globalKeys: keys } };
    }
    case "selection": {
      const ids = listOf(form.keys);
      if (!ids.length) throw new Error("select at least one data row");
      return { selection: { ids } };
    }
    case "confusionCell":
      if (!form.groundTruth && !form.predicted) throw new Error("None → None is not a cell: choose a feature on one side");
      return { confusionCell: { groundTruth: form.groundTruth || null, prediction: form.predicted || null } };
    case "evaluated":
      return { evaluated: form.evaluated };
    case "slice":
      if (!form.slice) throw new Error("choose a slice");
      return { slice: form.slice };
    case "autoSlice":
      if (!form.autoSlice) throw new Error("choose an automatic slice");
      return { autoSlice: form.autoSlice };
  }
}

/** The gallery's selected cards as a clause (replacing an earlier selection clause). */
export function withSelection(filter: DataRowFilter | null, ids: string[]): DataRowFilter {
  const others = (filter?.all ?? []).filter((c) => kindOf(c) !== "selection");
  return { all: [...others, { selection: { ids } }] };
}
