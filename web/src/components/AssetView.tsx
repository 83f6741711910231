// A data row's asset with its objects drawn over it: SVG over images (scaled with the asset),
// highlighted spans over text, chips for classifications.
import { useMemo, useState } from "react";
import type { GalleryRow } from "../api/gallery";
import { useAsset } from "../lib/asset";
import {
  type ColourMode, colourOf, isClassification, isDrawnOnImage, type OverlayObject, pathOf, textRuns,
} from "../lib/overlay";
import { useSession } from "../session";

export interface DrawOptions {
  colourMode: ColourMode;
  features: readonly string[];
  /** Object ("label:3" / "prediction:0") to emphasise. */
  highlight?: string | null;
}

export function objectKey(o: OverlayObject): string {
  return `${o.source}:${o.index}`;
}

function Shape({ object, colour, pointRadius, emphasised }: { object: OverlayObject; colour: string; pointRadius: number; emphasised: boolean }) {
  const dashed = object.source === "prediction" ? "6 4" : undefined;
  const width = emphasised ? 3.5 : 2;
  const common = {
    stroke: colour,
    strokeWidth: width,
    strokeDasharray: dashed,
    vectorEffect: "non-scaling-stroke" as const,
    strokeLinejoin: "round" as const,
  };
  const g = object.geometry;
  const title = `${object.source === "label" ? "Label" : "Prediction"} · ${object.feature}${object.confidence !== null ? ` · ${object.confidence}` : ""}`;
  return (
    <g data-testid="overlay-object" data-source={object.source} data-feature={object.feature} data-kind={g.kind}>
      <title>{title}</title>
      {g.kind === "mask" && <path d={g.fill} fill={colour} fillOpacity={object.source === "label" ? 0.35 : 0.2} stroke="none" />}
      {g.kind === "line" ? (
        <path d={pathOf(g)} fill="none" {...common} />
      ) : g.kind === "point" ? (
        <path d={pathOf(g, pointRadius)} fill={colour} fillOpacity={0.5} {...common} />
      ) : (
        <path d={pathOf(g)} fill={g.kind === "mask" ? "none" : colour} fillOpacity={emphasised ? 0.2 : 0.06} fillRule="evenodd" {...common} />
      )}
    </g>
  );
}

function Chips({ objects, options }: { objects: OverlayObject[]; options: DrawOptions }) {
  if (!objects.length) return null;
  return (
    <div className="chips">
      {objects.map((o) => {
        const colour = colourOf(o, options.colourMode, options.features);
        const text = o.geometry.kind === "text" ? `${o.feature}: “${o.geometry.text}”` : o.feature;
        return (
          <span
            key={objectKey(o)}
            className={`chip chip-${o.source}`}
            style={{ borderColor: colour, color: colour }}
            data-testid="overlay-object"
            data-source={o.source}
            data-feature={o.feature}
            title={`${o.source}${o.confidence !== null ? ` · confidence ${o.confidence}` : ""}`}
          >
            {text}
            {o.confidence !== null && o.confidence < 1 && <span className="chip-confidence">{o.confidence.toFixed(2)}</span>}
          </span>
        );
      })}
    </div>
  );
}

function TextAsset({ text, spans, options, clamp }: { text: string; spans: OverlayObject[]; options: DrawOptions; clamp: boolean }) {
  const runs = useMemo(() => textRuns(text.length, spans), [text, spans]);
  return (
    <div className={`text-asset${clamp ? " clamp" : ""}`}>
      <p>
        {runs.map((run) => {
          const content = text.slice(run.start, run.end);
          if (!run.objects.length) return <span key={run.start}>{content}</span>;
          const label = run.objects.find((o) => o.source === "label");
          const prediction = run.objects.find((o) => o.source === "prediction");
          const style: React.CSSProperties = {};
          if (label) style.backgroundColor = colourOf(label, options.colourMode, options.features) + "44";
          if (prediction) {
            style.textDecoration = "underline dashed";
            style.textDecorationColor = colourOf(prediction, options.colourMode, options.features);
            style.textUnderlineOffset = "3px";
            style.textDecorationThickness = "2px";
          }
          return (
            <mark key={run.start} className="ner" style={style} title={run.objects.map((o) => `${o.source}: ${o.feature}`).join("\n")}>
              {content}
            </mark>
          );
        })}
      </p>
      <div className="chips">
        {spans.map((o) => (
          <span
            key={objectKey(o)}
            className={`chip chip-${o.source}`}
            style={{ borderColor: colourOf(o, options.colourMode, options.features), color: colourOf(o, options.colourMode, options.features) }}
            data-testid="overlay-object"
            data-source={o.source}
            data-feature={o.feature}
          >
            {o.feature}: “{o.geometry.kind === "span" ? text.slice(o.geometry.start, o.geometry.end) : ""}”
          </span>
        ))}
      </div>
    </div>
  );
}

export function AssetView({
  row, objects, options, large = false,
}: { row: GalleryRow; objects: OverlayObject[]; options: DrawOptions; large?: boolean }) {
  const { key } = useSession();
  const isText = row.mediaType !== null && row.mediaType !== "IMAGE" && objects.every((o) => !isDrawnOnImage(o));
  const asText = isText || (row.mediaType === "TEXT");
  const asset = useAsset(row.rowData, asText, key);
  const [natural, setNatural] = useState<{ w: number; h: number } | null>(null);
  const width = row.width ?? natural?.w ?? null;
  const height = row.height ?? natural?.h ?? null;
  const drawn = objects.filter(isDrawnOnImage);
  const chips = objects.filter(isClassification);
  const spans = objects.filter((o) => o.geometry.kind === "span");
  const broken = objects.filter((o) => o.error);
  const pointRadius = width && height ? Math.max(width, height) / (large ? 150 : 80) : 4;

  return (
    <div className={`asset${large ? " asset-large" : ""}`}>
      {asText ? (
        asset.text !== null ? (
          <TextAsset text={asset.text} spans={spans} options={options} clamp={!large} />
        ) : (
          <div className="asset-missing">{asset.error ?? "Loading…"}</div>
        )
      ) : (
        <div className="image-frame">
          {asset.url ? (
            <img
              src={asset.url}
              alt={row.globalKey}
              draggable={false}
              onLoad={(e) => setNatural({ w: e.currentTarget.naturalWidth, h: e.currentTarget.naturalHeight })}
            />
          ) : (
            <div className="asset-missing">{asset.error ?? "Loading…"}</div>
          )}
          {width && height ? (
            <svg className="overlay" viewBox={`0 0 ${width} ${height}`} preserveAspectRatio="xMidYMid meet">
              {drawn.map((o) => (
                <Shape
                  key={objectKey(o)}
                  object={o}
                  colour={colourOf(o, options.colourMode, options.features)}
                  pointRadius={pointRadius}
                  emphasised={options.highlight === objectKey(o)}
                />
              ))}
            </svg>
          ) : null}
        </div>
      )}
      <Chips objects={chips} options={options} />
      {broken.length > 0 && (
        <div className="error small">{broken.map((o) => `${o.feature}: ${o.error}`).join("; ")}</div>
      )}
    </div>
  );
}
