import * as Plot from "@observablehq/plot";
import { useEffect, useRef } from "react";
import { toCsv } from "../../lib/metricsView";

/** The mark whose elements carry test hooks and clicks: give it `className: HOOKED`. */
export const HOOKED = "hooked";

export interface ChartHook<T> {
  testId: string;
  attributes: (datum: T) => Record<string, string>;
  onClick?: (datum: T) => void;
}

interface Props<T> {
  /** Names the chart for its downloads and its hooks' `data-chart`. */
  name: string;
  data: T[];
  csvColumns: string[];
  /** Plot options for a chart of `width` pixels; the hooked mark draws `data` in order. */
  options: (width: number) => Plot.PlotOptions;
  hook?: ChartHook<T>;
  height?: number;
}

/** A chart drawn by Observable Plot, with its elements hooked for tests and clicks, and
 *  downloads of the picture (SVG, PNG) and of the numbers behind it (CSV). */
export function Chart<T>({ name, data, csvColumns, options, hook }: Props<T>) {
  const box = useRef<HTMLDivElement | null>(null);
  useEffect(() => {
    const node = box.current;
    if (!node) return;
    const drawn = Plot.plot({ ...options(Math.max(280, node.clientWidth)), className: "plot" });
    node.replaceChildren(drawn);
    if (hook) {
      for (const element of drawn.querySelectorAll<SVGElement>(`g.${HOOKED} > *`)) {
        const datum = data[(element as unknown as { __data__: number }).__data__];
        if (datum === undefined) continue;
        element.dataset.testid = hook.testId;
        element.dataset.chart = name;
        for (const [k, v] of Object.entries(hook.attributes(datum))) element.setAttribute(`data-${k}`, v);
        if (hook.onClick) {
          element.style.cursor = "pointer";
          element.addEventListener("click", () => hook.onClick!(datum));
        }
      }
    }
    return () => drawn.remove();
  }, [name, data, options, hook]);
  return (
    <figure className="chart" data-chart-name={name}>
      <div ref={box} className="chart-box" />
      <figcaption className="chart-downloads">
        <button className="link small" onClick={() => downloadSvg(box.current, name)}>SVG</button>
        <button className="link small" onClick={() => void downloadPng(box.current, name)}>PNG</button>
        <button className="link small" data-testid="chart-csv" onClick={() => save(new Blob([toCsv(data as Record<string, unknown>[], csvColumns)], { type: "text/csv" }), `${name}.csv`)}>
          CSV
        </button>
      </figcaption>
    </figure>
  );
}

function svgOf(node: HTMLElement | null): SVGSVGElement | null {
  return node?.querySelector("svg") ?? null;
}

function serialised(svg: SVGSVGElement): string {
  const copy = svg.cloneNode(true) as SVGSVGElement;
  copy.setAttribute("xmlns", "http://www.w3.org/2000/svg");
  // The page's text colour, so the picture reads the same outside the app.
  copy.style.color = getComputedStyle(svg).color;
  copy.style.background = getComputedStyle(document.body).backgroundColor;
  return new XMLSerializer().serializeToString(copy);
}

/** Hands a file to the browser as a download. */
export function save(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

function downloadSvg(node: HTMLElement | null, name: string): void {
  const svg = svgOf(node);
  if (svg) save(new Blob([serialised(svg)], { type: "image/svg+xml" }), `${name}.svg`);
}

async function downloadPng(node: HTMLElement | null, name: string): Promise<void> {
  const svg = svgOf(node);
  if (!svg) return;
  const { width, height } = svg.getBoundingClientRect();
  const image = new Image();
  const url = URL.createObjectURL(new Blob([serialised(svg)], { type: "image/svg+xml" }));
  await new Promise<void>((resolve, reject) => {
    image.onload = () => resolve();
    image.onerror = () => reject(new Error("the chart could not be drawn as an image"));
    image.src = url;
  });
  const scale = 2;
  const canvas = document.createElement("canvas");
  canvas.width = Math.ceil(width * scale);
  canvas.height = Math.ceil(height * scale);
  const context = canvas.getContext("2d")!;
  context.scale(scale, scale);
  context.drawImage(image, 0, 0, width, height);
  URL.revokeObjectURL(url);
  canvas.toBlob((blob) => blob && save(blob, `${name}.png`), "image/png");
}
