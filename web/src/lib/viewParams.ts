// The query parameters every view takes: confidence, iou, filter, sort, split, version (and
// the comparison's versionB, the version its run B is read at).
// They are parsed strictly (an unknown or invalid one is reported, never silently dropped)
// and written back in a fixed order, so a link reproduces what is on screen.
import { CLAUSE_KINDS, type DataRowFilter, type DataRowSort, SORT_FIELDS, SPLITS, type SplitName } from "./filters";

export interface ViewParams {
  confidence: number | null;
  iou: number | null;
  filter: DataRowFilter | null;
  sort: DataRowSort[] | null;
  split: SplitName | null;
  version: number | null;
  /** Only in the views that take it (the comparison): the version of run B. */
  versionB?: number | null;
}

/** Parameters only some views take. */
export type ExtraParam = "versionB";

export const NO_PARAMS: ViewParams = { confidence: null, iou: null, filter: null, sort: null, split: null, version: null };
const NAMES = ["confidence", "iou", "filter", "sort", "split", "version"] as const;

export interface ParsedParams {
  params: ViewParams;
  /** One message per unknown or invalid parameter; those parameters are left unset. */
  errors: string[];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Why `value` is not a DataRowFilter, or null if it is one (the server checks the details). */
export function filterProblem(value: unknown): string | null {
  if (!isObject(value)) return "must be a JSON object like {\"all\": [...]}";
  const extra = Object.keys(value).filter((k) => k !== "all");
  if (extra.length) return `has unknown field ${JSON.stringify(extra[0])}; a filter has only "all"`;
  if (!Array.isArray(value.all)) return "needs \"all\": a list of clauses";
  for (const [i, clause] of value.all.entries()) {
    if (!isObject(clause) || Object.keys(clause).length !== 1) return `clause ${i + 1} must be an object with exactly one condition`;
    const kind = Object.keys(clause)[0];
    if (!(CLAUSE_KINDS as readonly string[]).includes(kind)) return `clause ${i + 1} has unknown condition ${JSON.stringify(kind)}`;
  }
  return null;
}

export function sortProblem(value: unknown): string | null {
  if (!Array.isArray(value)) return "must be a JSON list of sort keys like [{\"field\": \"GLOBAL_KEY\"}]";
  for (const [i, key] of value.entries()) {
    if (!isObject(key)) return `key ${i + 1} must be an object`;
    if (!(SORT_FIELDS as readonly unknown[]).includes(key.field)) return `key ${i + 1} has field ${JSON.stringify(key.field)}; expected one of ${SORT_FIELDS.join(", ")}`;
    if (key.field === "METRIC" && typeof key.metric !== "string") return `key ${i + 1} sorts by METRIC and needs "metric"`;
    if (key.field === "METADATA" && typeof key.key !== "string") return `key ${i + 1} sorts by METADATA and needs "key"`;
    const extra = Object.keys(key).filter((k) => !["field", "descending", "metric", "feature", "key"].includes(k));
    if (extra.length) return `key ${i + 1} has unknown field ${JSON.stringify(extra[0])}`;
  }
  return null;
}

function version(name: string, raw: string, errors: string[]): number | null {
  const value = number(raw);
  if (value !== null && Number.isInteger(value) && value >= 1) return value;
  errors.push(`Parameter ${name}="${raw}" is not a version (1, 2, …).`);
  return null;
}

function number(raw: string): number | null {
  if (!/^-?\d+(\.\d+)?$/.test(raw.trim())) return null;
  return Number(raw);
}

export function parseParams(search: string, extra: readonly ExtraParam[] = []): ParsedParams {
  const query = new URLSearchParams(search);
  const params: ViewParams = { ...NO_PARAMS };
  for (const name of extra) params[name] = null;
  const names: readonly string[] = [...NAMES, ...extra];
  const errors: string[] = [];
  const seen = new Set<string>();
  for (const [name, raw] of query) {
    if (!names.includes(name)) {
      errors.push(`Unknown parameter "${name}"; this view takes ${names.join(", ")}.`);
      continue;
    }
    if (seen.has(name)) {
      errors.push(`Parameter "${name}" is given more than once.`);
      continue;
    }
    seen.add(name);
    if (name === "confidence" || name === "iou") {
      const value = number(raw);
      if (value === null || value < 0 || value > 1) errors.push(`Parameter ${name}="${raw}" is not a threshold between 0 and 1.`);
      else params[name] = value;
    } else if (name === "version" || name === "versionB") {
      params[name] = version(name, raw, errors);
    } else if (name === "split") {
      if ((SPLITS as readonly string[]).includes(raw)) params.split = raw as SplitName;
      else errors.push(`Parameter split="${raw}" is not one of ${SPLITS.join(", ")}.`);
    } else {
      let value: unknown;
      try {
        value = JSON.parse(raw);
      } catch {
        errors.push(`Parameter ${name} is not valid JSON.`);
        continue;
      }
      const problem = name === "filter" ? filterProblem(value) : sortProblem(value);
      if (problem) errors.push(`Parameter ${name} ${problem}.`);
      else if (name === "filter") params.filter = (value as DataRowFilter).all.length ? (value as DataRowFilter) : null;
      else params.sort = (value as DataRowSort[]).length ? (value as DataRowSort[]) : null;
    }
  }
  return { params, errors };
}

/** The query string for `params` ("" when none is set), parameters in a fixed order. */
export function formatParams(params: ViewParams): string {
  const query = new URLSearchParams();
  if (params.confidence !== null) query.set("confidence", String(params.confidence));
  if (params.iou !== null) query.set("iou", String(params.iou));
  if (params.filter && params.filter.all.length) query.set("filter", JSON.stringify(params.filter));
  if (params.sort && params.sort.length) query.set("sort", JSON.stringify(params.sort));
  if (params.split) query.set("split", params.split);
  if (params.version !== null) query.set("version", String(params.version));
  if (params.versionB !== null && params.versionB !== undefined) query.set("versionB", String(params.versionB));
  const text = query.toString();
  return text ? `?${text}` : "";
}

/** The threshold of `grid` nearest to `value`. */
export function nearest(grid: readonly number[], value: number): number {
  return grid.reduce((best, t) => (Math.abs(t - value) < Math.abs(best - value) ? t : best), grid[0]);
}

export function onGrid(grid: readonly number[], value: number): boolean {
  return grid.some((t) => Math.abs(t - value) < 1e-9);
}

/** The grid point a view uses: the one asked for if it is on the run's grid; otherwise the
 * nearest threshold (with an error saying so) or, when none was asked, the one nearest 0.5. */
export function gridPoint(
  asked: number | null, grid: readonly number[], name: string,
): { value: number | null; error: string | null } {
  if (!grid.length) return { value: null, error: null };
  if (asked === null) return { value: nearest(grid, 0.5), error: null };
  if (onGrid(grid, asked)) return { value: grid.find((t) => Math.abs(t - asked) < 1e-9)!, error: null };
  const value = nearest(grid, asked);
  return { value, error: `Parameter ${name}=${asked} is not one of the run's thresholds (${grid.join(", ")}); showing ${value}.` };
}
