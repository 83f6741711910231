import { useEffect, useMemo, useState } from "react";
import { useQuery } from "urql";
import { errorText } from "../api/client";
import { DETAIL, type FeatureMetricRow, type ObjectOutcome, ROW_METRICS, type RowDetailData } from "../api/gallery";
import type { DisplaySettings } from "../lib/display";
import { metric } from "../lib/format";
import { colourOf, isVisible, objectsOf, type OverlayObject } from "../lib/overlay";
import { AssetView, objectKey } from "./AssetView";

interface Props {
  runId: string;
  version: number | null;
  rowId: string;
  globalKey: string;
  confidence: number;
  iou: number;
  metricsInSync: boolean;
  display: DisplaySettings;
  features: string[];
  position: string;
  onStep: (delta: 1 | -1) => void;
  onClose: () => void;
}

function describeObject(o: OverlayObject): string {
  const g = o.geometry;
  switch (g.kind) {
    case "bbox":
      return `box ${Math.round(g.width)}×${Math.round(g.height)} at (${Math.round(g.left)}, ${Math.round(g.top)})`;
    case "polygon":
      return `polygon, ${g.rings.reduce((n, r) => n + r.length, 0)} points${g.rings.length > 1 ? `, ${g.rings.length} rings` : ""}`;
    case "point":
      return `point (${Math.round(g.x)}, ${Math.round(g.y)})`;
    case "line":
      return `polyline, ${g.points.length} points`;
    case "mask":
      return g.bounds ? `mask ${g.bounds.width}×${g.bounds.height}` : "empty mask";
    case "span":
      return `characters ${g.start}–${g.end}`;
    case "answer":
      return "answer";
    case "text":
      return `“${g.text}”`;
  }
}

function OutcomeTable({ title, objects, outcomes, otherSource, colour, onHover }: {
  title: string;
  objects: OverlayObject[];
  outcomes: ObjectOutcome[];
  otherSource: string;
  colour: (o: OverlayObject) => string;
  onHover: (key: string | null) => void;
}) {
  const byIndex = new Map(outcomes.map((o) => [o.index, o]));
  return (
    <section>
      <h3>
        {title} <span className="muted small">{objects.length}</span>
      </h3>
      {objects.length ? (
        <table className="table compact-table" data-testid={`detail-${title.toLowerCase()}`}>
          <thead>
            <tr>
              <th>#</th>
              <th>Feature</th>
              <th>Object</th>
              <th className="num">Conf.</th>
              <th>Outcome</th>
              <th>Partner</th>
              <th className="num">IoU</th>
            </tr>
          </thead>
          <tbody>
            {objects.map((o) => {
              const outcome = byIndex.get(o.index);
              return (
                <tr
                  key={o.index}
                  data-testid="object-outcome"
                  data-source={o.source}
                  data-feature={o.feature}
                  data-outcome={outcome?.outcome ?? ""}
                  onMouseEnter={() => onHover(objectKey(o))}
                  onMouseLeave={() => onHover(null)}
                >
                  <td className="muted">{o.index}</td>
                  <td className="feature-cell">
                    <i className="swatch" style={{ background: colour(o) }} /> {o.feature}
                    {o.classifications.length > 0 && <div className="muted small">{o.classifications.join(", ")}</div>}
                  </td>
                  <td className="muted">{describeObject(o)}</td>
                  <td className="num">{o.confidence === null ? "" : metric(o.confidence, 2)}</td>
                  <td>{outcome ? <span className={`outcome outcome-${outcome.outcome.toLowerCase()}`}>{outcome.outcome}</span> : "–"}</td>
                  <td className="muted">{outcome?.partner != null ? `${otherSource} #${outcome.partner} (${outcome.partnerFeature})` : ""}</td>
                  <td className="num">{outcome?.iou != null ? metric(outcome.iou, 3) : ""}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      ) : (
        <p className="muted small">None.</p>
      )}
    </section>
  );
}

function RowMetrics({ runId, version, rowId, confidence, iou }: { runId: string; version: number | null; rowId: string; confidence: number; iou: number }) {
  const filter = useMemo(() => ({ all: [{ dataRows: { ids: [rowId] } }] }), [rowId]);
  const [{ data, error, fetching }] = useQuery<{ modelRun: { metrics: { features: FeatureMetricRow[]; all: FeatureMetricRow } } | null }>({
    query: ROW_METRICS,
    variables: { id: runId, version, confidence, iou, filter },
  });
  if (error) return <p className="error small">{errorText(error)}</p>;
  if (fetching || !data?.modelRun) return <p className="muted small">Loading…</p>;
  const { features, all } = data.modelRun.metrics;
  const rows = [...features.filter((f) => f.tp + f.fp + f.fn > 0), { ...all, feature: null }];
  return (
    <table className="table compact-table" data-testid="row-metrics">
      <thead>
        <tr>
          <th>Feature</th>
          <th className="num">TP</th>
          <th className="num">FP</th>
          <th className="num">FN</th>
          <th className="num">Precision</th>
          <th className="num">Recall</th>
          <th className="num">F1</th>
          <th className="num">IoU</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((m) => (
          <tr key={m.feature ?? "(all)"} className={m.feature === null ? "total" : ""}>
            <td>{m.feature ?? "all features"}</td>
            <td className="num">{m.tp}</td>
            <td className="num">{m.fp}</td>
            <td className="num">{m.fn}</td>
            <td className="num">{metric(m.precision)}</td>
            <td className="num">{metric(m.recall)}</td>
            <td className="num">{metric(m.f1)}</td>
            <td className="num">{metric(m.iou)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function RowDetail(props: Props) {
  const [{ data, error, fetching }] = useQuery<{ modelRun: { dataRowDetail: RowDetailData } | null }>({
    query: DETAIL,
    variables: { id: props.runId, version: props.version, row: props.rowId, confidence: props.confidence, iou: props.iou },
  });
  const [highlight, setHighlight] = useState<string | null>(null);
  const { onStep, onClose } = props;
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      const target = event.target as HTMLElement | null;
      if (target && ["INPUT", "SELECT", "TEXTAREA"].includes(target.tagName)) return;
      if (event.key === "ArrowRight" || event.key === "ArrowDown") {
        event.preventDefault();
        onStep(1);
      } else if (event.key === "ArrowLeft" || event.key === "ArrowUp") {
        event.preventDefault();
        onStep(-1);
      } else if (event.key === "Escape") onClose();
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [onStep, onClose]);

  const detail = data?.modelRun?.dataRowDetail;
  const labels = useMemo(() => objectsOf(detail?.dataRow.labels, "label"), [detail]);
  const predictions = useMemo(() => objectsOf(detail?.dataRow.predictions, "prediction"), [detail]);
  const colour = (o: OverlayObject) => colourOf(o, props.display.colourMode, props.features);
  // The large view shows every object of the row (only the confidence threshold applies).
  const visibility = { labels: true, predictions: true, hiddenFeatures: new Set<string>(), confidence: props.confidence };
  const shown = [...labels, ...predictions].filter((o) => isVisible(o, visibility));
  const row = detail?.dataRow;
  return (
    <div className="detail-backdrop" onClick={onClose}>
      <aside
        className="detail"
        data-testid="row-detail"
        data-global-key={props.globalKey}
        onClick={(e) => e.stopPropagation()}
        role="dialog"
        aria-label={`Data row ${props.globalKey}`}
      >
        <header className="detail-head">
          <div>
            <h2>{props.globalKey}</h2>
            <span className="muted small">
              {props.position} · confidence ≥ {props.confidence} · IoU &gt; {props.iou} · ← → to step, Esc to close
            </span>
          </div>
          <div className="spacer" />
          <button className="ghost" data-testid="detail-previous" onClick={() => onStep(-1)} aria-label="Previous row">
            ←
          </button>
          <button className="ghost" data-testid="detail-next" onClick={() => onStep(1)} aria-label="Next row">
            →
          </button>
          <button className="ghost" data-testid="detail-close" onClick={onClose} aria-label="Close">
            ✕
          </button>
        </header>
        {error && <div className="error">{errorText(error)}</div>}
        {fetching && !detail && <div className="loading">Loading…</div>}
        {row && (
          <div className="detail-body">
            <div className="detail-asset">
              <AssetView row={row} objects={shown} options={{ colourMode: props.display.colourMode, features: props.features, highlight }} large />
            </div>
            <div className="detail-info">
              <dl className="facts">
                <dt>Split</dt>
                <dd data-testid="detail-split">{row.split ? row.split.toLowerCase() : "–"}</dd>
                <dt>Media</dt>
                <dd>
                  {(row.mediaType ?? "").toLowerCase()}
                  {row.width && row.height ? ` · ${row.width}×${row.height}` : ""}
                </dd>
                <dt>Id</dt>
                <dd className="mono small">{row.id}</dd>
              </dl>
              <OutcomeTable title="Labels" objects={labels} outcomes={detail.annotations} otherSource="prediction" colour={colour} onHover={setHighlight} />
              <OutcomeTable title="Predictions" objects={predictions} outcomes={detail.predictions} otherSource="label" colour={colour} onHover={setHighlight} />
              <section>
                <h3>Metrics of this row</h3>
                {props.metricsInSync ? (
                  <RowMetrics runId={props.runId} version={props.version} rowId={props.rowId} confidence={props.confidence} iou={props.iou} />
                ) : (
                  <p className="muted small">Metrics are being computed.</p>
                )}
              </section>
              <section>
                <h3>Custom metrics</h3>
                {detail.customMetrics.length ? (
                  <table className="table compact-table" data-testid="custom-metrics">
                    <tbody>
                      {detail.customMetrics.map((m) => (
                        <tr key={`${m.name}/${m.feature ?? ""}`}>
                          <td>{m.name}</td>
                          <td className="muted">{m.feature ?? "row"}</td>
                          <td className="num">{metric(m.value)}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                ) : (
                  <p className="muted small">None uploaded.</p>
                )}
              </section>
              <section>
                <h3>Metadata</h3>
                {row.metadata && Object.keys(row.metadata).length ? (
                  <table className="table compact-table" data-testid="detail-metadata">
                    <tbody>
                      {Object.entries(row.metadata).map(([k, v]) => (
                        <tr key={k}>
                          <td>{k}</td>
                          <td className="mono">{typeof v === "string" ? v : JSON.stringify(v)}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                ) : (
                  <p className="muted small">None.</p>
                )}
              </section>
            </div>
          </div>
        )}
      </aside>
    </div>
  );
}
