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
  const params: ViewParams = { ...at, filter, sort, split: null };
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
