// The projector's columns: the API packs per-point data as base64 little-endian arrays
// (float32 coordinates and numbers, uint8/uint16 category codes, uint32 point indexes).
// Everything here turns them into what the scatter plot draws: positions in [-1, 1] and one
// colour category per point, with a legend.

export interface PointColumn {
  kind: string;
  legend: (string | null)[] | null;
  codes: string | null;
  bytesPerCode: number | null;
  values: string | null;
}

function bytesOf(base64: string): ArrayBuffer {
  const text = atob(base64);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes.buffer;
}

export function float32s(base64: string): Float32Array {
  return new Float32Array(bytesOf(base64));
}

export function uint32s(base64: string): Uint32Array {
  return new Uint32Array(bytesOf(base64));
}

/** The data row ids of some points, from the packed ids (16 bytes, a UUID, per point). */
export function idsAt(packed: Uint8Array, points: number[]): string[] {
  return points.map((i) => {
    let hex = "";
    for (let b = 16 * i; b < 16 * i + 16; b++) hex += packed[b].toString(16).padStart(2, "0");
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  });
}

export function bytes(base64: string): Uint8Array {
  return new Uint8Array(bytesOf(base64));
}

/** Point indexes as the API takes them back (base64 of little-endian uint32). */
export function packIndexes(indexes: number[]): string {
  const bytes = new Uint8Array(new Uint32Array(indexes).buffer);
  let text = "";
  for (let i = 0; i < bytes.length; i++) text += String.fromCharCode(bytes[i]);
  return btoa(text);
}

/** x0, y0, x1, y1 … scaled into [-1, 1] on both axes (one scale, so shapes keep their proportions). */
export function normalisedXY(base64: string): { x: Float32Array; y: Float32Array } {
  const xy = float32s(base64);
  const n = xy.length / 2;
  const x = new Float32Array(n);
  const y = new Float32Array(n);
  let minX = Infinity, maxX = -Infinity, minY = Infinity, maxY = -Infinity;
  for (let i = 0; i < n; i++) {
    x[i] = xy[2 * i];
    y[i] = xy[2 * i + 1];
    minX = Math.min(minX, x[i]); maxX = Math.max(maxX, x[i]);
    minY = Math.min(minY, y[i]); maxY = Math.max(maxY, y[i]);
  }
  const half = Math.max(maxX - minX, maxY - minY, 1e-12) / 2;
  const cx = (minX + maxX) / 2, cy = (minY + maxY) / 2;
  for (let i = 0; i < n; i++) {
    x[i] = (x[i] - cx) / half * 0.95;
    y[i] = (y[i] - cy) / half * 0.95;
  }
  return { x, y };
}

export interface Colouring {
  codes: Float32Array; // a category per point
  legend: string[]; // its label per category
}

const BINS = 10;

/** One category per point: a category column's own codes, or a number column in ten equal
 *  bins between its least and greatest value (points without a number last, "none"). */
export function colouring(column: PointColumn, points: number): Colouring {
  if (column.kind === "NUMBER" && column.values) {
    const values = float32s(column.values);
    let lo = Infinity, hi = -Infinity;
    for (const v of values) if (!Number.isNaN(v)) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
    const codes = new Float32Array(points);
    if (lo === Infinity) return { codes: codes.fill(0), legend: ["none"] };
    const width = hi > lo ? (hi - lo) / BINS : 1;
    const bins = hi > lo ? BINS : 1;
    for (let i = 0; i < points; i++) {
      const v = values[i];
      codes[i] = Number.isNaN(v) ? bins : Math.min(bins - 1, Math.floor((v - lo) / width));
    }
    const legend = Array.from({ length: bins }, (_, b) => (bins === 1 ? `${round(lo)}` : `${round(lo + b * width)} – ${round(lo + (b + 1) * width)}`));
    return { codes, legend: [...legend, "none"] };
  }
  const raw = column.codes ? (column.bytesPerCode === 2 ? new Uint16Array(bytesOf(column.codes)) : new Uint8Array(bytesOf(column.codes))) : new Uint8Array(points);
  return { codes: Float32Array.from(raw), legend: (column.legend ?? []).map((l) => l ?? "none") };
}

/** Points with a feature (the API's point set) against the others. */
export function membership(points: number, members: string, feature: string): Colouring {
  const codes = new Float32Array(points).fill(1);
  for (const i of uint32s(members)) codes[i] = 0;
  return { codes, legend: [`has ${feature}`, `no ${feature}`] };
}

function round(v: number): string {
  return Number(v.toPrecision(3)).toString();
}

/** A palette of `n` distinct colours (categories), the last one grey when it is "none". */
export function palette(legend: string[]): string[] {
  const base = ["#5b9dff", "#f5b94c", "#3fb68b", "#ff6b6b", "#b48cff", "#4cd3e0", "#ff9f5b", "#e070c0", "#9ccc65", "#8d99ae",
    "#2f6fd6", "#c98f1f", "#23875f", "#c94040", "#7d55d1", "#1f9aa6", "#d2702a", "#a84690", "#6b9b3a", "#5d6779"];
  return legend.map((label, i) => (label === "none" ? "#4a5263" : base[i % base.length]));
}
