// What the metrics view computes from the API's answers: the filter it asks with, links into
// the gallery, row-normalised shading and CSV downloads.
import type { DataRowFilter, DataRowSort, SplitName } from "./filters";
import { formatParams, type ViewParams } from "./viewParams";

/** The view's filter with its split folded in (the metric queries take the split as a clause). */
export function withSplit(filter: DataRowFilter | null, split: SplitName | null): DataRowFilter | null {
  if (!split) return filter;
  return { all: [...(filter?.all ?? []), { split: [split] }] };
}

/** The gallery showing exactly `filter` and `sort` (as the API handed them out) at the
 *  view's grid point and version. */
export function galleryHref(
  runId: string,
  at: Pick<ViewParams, "confidence" | "iou" | "version">,
  filter: DataRowFilter | null,
  sort: DataRowSort[] | null = null,
): string {
  const params: ViewParams = { confidence: at.confidence, iou: at.iou, version: at.version, filter, sort, split: null };
  return `/runs/${encodeURIComponent(runId)}/gallery${formatParams(params)}`;
}

/** Each cell's share of its row's total (0 for an empty row): the matrix's shading. */
export function rowShares(counts: number[][]): number[][] {
  return counts.map((row) => {
    const total = row.reduce((a, b) => a + b, 0);
    return row.map((c) => (total ? c / total : 0));
  });
}

function csvField(value: unknown): string {
  if (value === null || value === undefined) return "";
  const text = typeof value === "object" ? JSON.stringify(value) : String(value);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** A CSV table: a header of `columns`, then one line per row (null is an empty field). */
export function toCsv(rows: Record<string, unknown>[], columns: string[]): string {
  return [columns.join(","), ...rows.map((row) => columns.map((c) => csvField(row[c])).join(","))].join("\n") + "\n";
}

/** A number as the charts and tables show it: 3 decimals, "—" for null. */
export function figure(value: number | null | undefined): string {
  return value === null || value === undefined ? "—" : Number.isInteger(value) ? String(value) : value.toFixed(3);
}

/** Thresholds typed as a list ("0.5, 0.55") or a range with a step ("0.50:0.60:0.01", both
 *  ends included), each in [0, 1]; an error a user can read otherwise. */
export function parseThresholds(text: string, what: string): number[] {
  const trimmed = text.trim();
  if (!trimmed) throw new Error(`give at least one ${what} threshold`);
  const range = trimmed.match(/^([\d.]+)\s*:\s*([\d.]+)\s*:\s*([\d.]+)$/);
  let values: number[];
  if (range) {
    const [from, to, step] = range.slice(1).map(Number);
    if (!(step > 0) || to < from) throw new Error(`${what} range "${trimmed}" needs from ≤ to and a step above 0`);
    const count = Math.round((to - from) / step);
    if (count > 1000) throw new Error(`${what} range "${trimmed}" makes more than 1,000 thresholds`);
    values = Array.from({ length: count + 1 }, (_, i) => Number((from + i * step).toFixed(10)));
  } else {
    values = trimmed.split(/[\s,]+/).filter(Boolean).map((part) => {
      const value = Number(part);
      if (!Number.isFinite(value)) throw new Error(`${what} threshold "${part}" is not a number`);
      return value;
    });
  }
  const outside = values.find((v) => v < 0 || v > 1);
  if (outside !== undefined) throw new Error(`${what} threshold ${outside} is outside [0, 1]`);
  return [...new Set(values)].sort((a, b) => a - b);
}
