// What a data row's labels and predictions look like drawn over its asset.
//
// Labels and predictions arrive in the NDJSON line format (docs/uploads.md). Each line becomes one or
// more objects in the order the server lists them (a checklist answer is one object per
// checked answer), so an object's `index` is the index `dataRowDetail` reports for it.
import { decodeRle, maskBounds, maskFillPath, maskOutlinePath } from "./rle";

export type Source = "label" | "prediction";
export type ColourMode = "feature" | "source";

interface XY {
  x: number;
  y: number;
}

export type Geometry =
  | { kind: "bbox"; left: number; top: number; width: number; height: number }
  | { kind: "polygon"; rings: XY[][] }
  | { kind: "point"; x: number; y: number }
  | { kind: "line"; points: XY[] }
  | { kind: "mask"; fill: string; outline: string; bounds: Bounds | null }
  | { kind: "span"; start: number; end: number }
  | { kind: "answer"; question: string; answer: string }
  | { kind: "text"; question: string; text: string };

export interface Bounds {
  left: number;
  top: number;
  width: number;
  height: number;
}

export interface OverlayObject {
  source: Source;
  index: number;
  feature: string;
  /** Predictions without a confidence count as 1. Null for labels. */
  confidence: number | null;
  geometry: Geometry;
  /** Nested classifications, as "question/answer" or "question: text". */
  classifications: string[];
  /** Set when the object could not be read; it is listed but not drawn. */
  error?: string;
}

type Line = Record<string, unknown>;

function num(value: unknown): number {
  if (typeof value !== "number" || !Number.isFinite(value)) throw new Error(`not a number: ${JSON.stringify(value)}`);
  return value;
}

function xy(value: unknown): XY {
  const v = value as Record<string, unknown>;
  return { x: num(v?.x), y: num(v?.y) };
}

function ringsOf(value: unknown): XY[][] {
  if (!Array.isArray(value) || value.length === 0) throw new Error("a polygon needs points");
  // One ring as [{x, y}, …], or several (outer ring and holes) as [[{x, y}, …], …].
  return Array.isArray(value[0]) ? (value as unknown[][]).map((ring) => ring.map(xy)) : [value.map(xy)];
}

function answerFeature(question: string, answer: string): string {
  return answer.startsWith(question + "/") ? answer : `${question}/${answer}`;
}

function nested(items: unknown, parent: string): string[] {
  if (!Array.isArray(items)) return [];
  const out: string[] = [];
  for (const item of items as Line[]) {
    const question = String(item.name ?? "");
    const full = question.startsWith(parent + "/") ? question : `${parent}/${question}`;
    const answer = item.answer;
    const answers = Array.isArray(answer) ? answer : [answer];
    for (const a of answers) {
      if (typeof a === "string") out.push(`${full}: ${a}`);
      else if (a && typeof a === "object") {
        const name = String((a as Line).name ?? "");
        out.push(answerFeature(full, name));
        out.push(...nested((a as Line).classifications, answerFeature(full, name)));
      }
    }
    out.push(...nested(item.classifications, full));
  }
  return out;
}

function geometryOf(line: Line): Geometry {
  if ("bbox" in line) {
    const b = line.bbox as Record<string, unknown>;
    return { kind: "bbox", left: num(b.left), top: num(b.top), width: num(b.width), height: num(b.height) };
  }
  if ("polygon" in line) return { kind: "polygon", rings: ringsOf(line.polygon) };
  if ("point" in line) return { kind: "point", ...xy(line.point) };
  if ("line" in line) {
    if (!Array.isArray(line.line)) throw new Error("a line needs points");
    return { kind: "line", points: line.line.map(xy) };
  }
  if ("mask" in line) {
    const rle = (line.mask as Record<string, unknown>)?.rle as { size: [number, number]; counts: string | number[] };
    if (!rle) throw new Error("only RLE masks can be drawn");
    const mask = decodeRle(rle.size, rle.counts);
    return { kind: "mask", fill: maskFillPath(mask), outline: maskOutlinePath(mask), bounds: maskBounds(mask) };
  }
  if ("location" in line) {
    const l = line.location as Record<string, unknown>;
    return { kind: "span", start: num(l.start), end: num(l.end) };
  }
  throw new Error("no geometry");
}

/** The objects of a row's labels or predictions, in the server's order. */
export function objectsOf(lines: unknown, source: Source): OverlayObject[] {
  if (!Array.isArray(lines)) return [];
  const out: OverlayObject[] = [];
  for (const line of lines as Line[]) {
    const name = String(line.name ?? "");
    const lineConfidence = typeof line.confidence === "number" ? line.confidence : null;
    const confidenceOf = (own: unknown) =>
      source === "label" ? null : typeof own === "number" ? own : (lineConfidence ?? 1);
    if ("answer" in line) {
      const answer = line.answer;
      if (typeof answer === "string") {
        out.push({
          source, index: out.length, feature: name, confidence: confidenceOf(undefined),
          geometry: { kind: "text", question: name, text: answer }, classifications: [],
        });
        continue;
      }
      for (const a of (Array.isArray(answer) ? answer : [answer]) as Line[]) {
        const feature = answerFeature(name, String(a?.name ?? ""));
        out.push({
          source, index: out.length, feature, confidence: confidenceOf(a?.confidence),
          geometry: { kind: "answer", question: name, answer: feature.slice(name.length + 1) },
          classifications: nested(a?.classifications ?? line.classifications, feature),
        });
      }
      continue;
    }
    if (!["bbox", "polygon", "point", "line", "mask", "location"].some((k) => k in line)) continue;
    const base = { source, index: out.length, feature: name, confidence: confidenceOf(undefined), classifications: nested(line.classifications, name) };
    try {
      out.push({ ...base, geometry: geometryOf(line) });
    } catch (e) {
      out.push({ ...base, geometry: { kind: "answer", question: name, answer: "?" }, error: (e as Error).message });
    }
  }
  return out;
}

export function isDrawnOnImage(object: OverlayObject): boolean {
  return !object.error && ["bbox", "polygon", "point", "line", "mask"].includes(object.geometry.kind);
}

export function isClassification(object: OverlayObject): boolean {
  return object.geometry.kind === "answer" || object.geometry.kind === "text";
}

function pts(points: XY[]): string {
  return points.map((p) => `${round(p.x)} ${round(p.y)}`).join("L");
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

/** The SVG path of a drawable object, in the asset's pixel units ("" if it has none). */
export function pathOf(geometry: Geometry, pointRadius = 4): string {
  switch (geometry.kind) {
    case "bbox": {
      const { left, top, width, height } = geometry;
      return `M${round(left)} ${round(top)}h${round(width)}v${round(height)}h${round(-width)}z`;
    }
    case "polygon":
      return geometry.rings.filter((r) => r.length > 0).map((ring) => `M${pts(ring)}z`).join("");
    case "line":
      return geometry.points.length ? `M${pts(geometry.points)}` : "";
    case "point": {
      const r = round(pointRadius);
      return `M${round(geometry.x - r)} ${round(geometry.y)}a${r} ${r} 0 1 0 ${2 * r} 0a${r} ${r} 0 1 0 ${-2 * r} 0z`;
    }
    case "mask":
      return geometry.outline;
    default:
      return "";
  }
}

/** Which objects to show: the chosen sources and features, and predictions at or above the
 * confidence threshold. */
export interface Visibility {
  labels: boolean;
  predictions: boolean;
  /** Features hidden by the user (all others are shown). */
  hiddenFeatures: ReadonlySet<string>;
  confidence: number;
}

export function isVisible(object: OverlayObject, v: Visibility): boolean {
  if (object.source === "label" ? !v.labels : !v.predictions) return false;
  if (v.hiddenFeatures.has(object.feature)) return false;
  if (object.source === "prediction" && (object.confidence ?? 1) < v.confidence) return false;
  return true;
}

// Colour-blind friendly, distinct on both dark and light assets.
export const PALETTE = [
  "#4e9bff", "#ff9f1c", "#2ec4b6", "#e71d36", "#b388ff", "#ffd23f", "#06d6a0", "#f15bb5",
  "#9bde7e", "#ff6b6b", "#00bbf9", "#c77dff",
];
export const SOURCE_COLOURS: Record<Source, string> = { label: "#22c55e", prediction: "#f97316" };

/** A feature's colour: by its place in the ontology, or (unknown features) by a hash. */
export function featureColour(feature: string, features: readonly string[]): string {
  let at = features.indexOf(feature);
  if (at < 0) {
    at = 0;
    for (let i = 0; i < feature.length; i++) at = (at * 31 + feature.charCodeAt(i)) >>> 0;
  }
  return PALETTE[at % PALETTE.length];
}

export function colourOf(object: OverlayObject, mode: ColourMode, features: readonly string[]): string {
  return mode === "source" ? SOURCE_COLOURS[object.source] : featureColour(object.feature, features);
}

/** Text split into runs, each with the NER spans covering it (for inline highlighting). */
export interface TextRun {
  start: number;
  end: number;
  objects: OverlayObject[];
}

export function textRuns(length: number, spans: OverlayObject[]): TextRun[] {
  const cuts = new Set<number>([0, length]);
  for (const s of spans) {
    if (s.geometry.kind !== "span") continue;
    cuts.add(Math.max(0, Math.min(length, s.geometry.start)));
    cuts.add(Math.max(0, Math.min(length, s.geometry.end)));
  }
  const sorted = [...cuts].sort((a, b) => a - b);
  const runs: TextRun[] = [];
  for (let i = 0; i + 1 < sorted.length; i++) {
    const [start, end] = [sorted[i], sorted[i + 1]];
    if (start === end) continue;
    const objects = spans.filter(
      (s) => s.geometry.kind === "span" && s.geometry.start <= start && s.geometry.end >= end,
    );
    runs.push({ start, end, objects });
  }
  return runs;
}
