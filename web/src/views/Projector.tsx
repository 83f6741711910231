import createScatterplot from "regl-scatterplot";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { type CombinedError, useClient, useMutation, useQuery, useSubscription } from "urql";
import { errorText } from "../api/client";
import { type GalleryRow, ROWS, userError } from "../api/gallery";
import {
  type ColumnAnswer, FEATURE_POINTS, METADATA_COLUMN, METRIC_COLUMN, type Points, POINTS, type ProjectionInfo, PROJECTIONS,
  REQUEST, SPACES, SPLITS_COLUMN, STATUS,
} from "../api/projector";
import { AssetView } from "../components/AssetView";
import { ErrorBox } from "../components/ParamErrors";
import { RunHeader, runViewProblem } from "../components/RunHeader";
import { AUTOMATIC_METRICS } from "../lib/filters";
import { galleryHref } from "../lib/metricsView";
import { bytes, type Colouring, colouring, idsAt, membership, normalisedXY, packIndexes, palette } from "../lib/projector";
import { navigate } from "../lib/router";
import { useSession } from "../session";
import { type RunView, useRunView } from "./useRunView";

type ColourBy = "split" | "feature" | "metric" | "metadata";
type ProjectionList = { modelRun: { projections: ProjectionInfo[] } | null; datasets: { nodes: { id: string; name: string }[] } };

/** A run's embeddings in 2-D: pick or request a projection, colour its points, lasso some
 *  (shift + drag) into the gallery or into a projection of their own. */
export function Projector({ runId }: { runId: string }) {
  const view = useRunView(runId);
  const client = useClient();
  const version = view.params.version;
  // The run's projections, read again (past any cache) after a request, when a status says
  // one is done, and every 2 s while one computes: the list may lag the status a moment.
  const [tick, setTick] = useState(0);
  const refetchList = useCallback(() => setTick((t) => t + 1), []);
  const [listResult, setListResult] = useState<{ data?: ProjectionList; error?: CombinedError }>({});
  useEffect(() => {
    let live = true;
    void client.query<ProjectionList>(PROJECTIONS, { id: runId, version }, { requestPolicy: "network-only" }).toPromise().then((answer) => {
      if (live) setListResult({ data: answer.data, error: answer.error });
    });
    return () => {
      live = false;
    };
  }, [client, runId, version, tick]);
  const [chosen, setChosen] = useState<string | null>(null);
  const projections = listResult.data?.modelRun?.projections ?? [];
  const ready = projections.filter((p) => p.state === "READY");
  // The one chosen once it is ready (a new request draws when its points are there), else the newest ready.
  const current = ready.find((p) => p.id === chosen)?.id ?? ready[ready.length - 1]?.id ?? null;
  const computing = projections.some((p) => p.state === "COMPUTING");
  useEffect(() => {
    // The status subscription shows progress; the list itself is read again until every
    // projection has settled, since the list may lag the status by a moment.
    if (!computing) return;
    const timer = setInterval(refetchList, 2000);
    return () => clearInterval(timer);
  }, [computing, refetchList]);
  const problem = runViewProblem(runId, view);
  if (problem || !view.run) return problem;
  return (
    <div className="projector-page">
      <RunHeader runId={runId} current="projector" view={view} />
      <div className="projector-body">
        <aside className="side side-left">
          <h3>Projections</h3>
          {listResult.error && <ErrorBox message={errorText(listResult.error)} />}
          {!projections.length && <p className="muted small">None yet: request one below.</p>}
          <ul className="projection-list">
            {projections.map((p) => (
              <li key={p.id}>
                <button className={`link ${p.id === current ? "active" : ""}`} data-testid="projection-item" data-state={p.state} disabled={p.state !== "READY"} onClick={() => setChosen(p.id)}>
                  {p.method}{p.sphereize ? " (sphereized)" : ""} of {p.space}{p.selected ? ", a selection" : ""} · {p.pointCount} points
                </button>
                {p.state !== "READY" && <ProjectionProgress runId={runId} projection={p} onDone={() => refetchList()} />}
              </li>
            ))}
          </ul>
          <RequestForm runId={runId} datasets={listResult.data?.datasets.nodes ?? []} onRequested={(id) => { setChosen(id); refetchList(); }} />
        </aside>
        <section className="projector-main">
          {current ? <Scatter key={current} runId={runId} projectionId={current} view={view} onProjected={(id) => { setChosen(id); refetchList(); }} /> : <div className="empty-state small">No projection is ready.</div>}
        </section>
      </div>
    </div>
  );
}

function ProjectionProgress({ runId, projection, onDone }: { runId: string; projection: ProjectionInfo; onDone: () => void }) {
  const [result] = useSubscription<{ projectionStatus: { state: string; progress: number; stage: string; error: string | null } }>({
    query: STATUS, variables: { runId, projectionId: projection.id },
  });
  const status = result.data?.projectionStatus ?? projection;
  useEffect(() => {
    if (status.state === "READY") onDone();
  }, [status.state, onDone]);
  if (status.state === "FAILED") return <div className="error small">Failed: {status.error}</div>;
  return (
    <div className="muted small" data-testid="projection-progress">
      {status.stage} <progress max={1} value={status.progress} />
    </div>
  );
}

function RequestForm({ runId, datasets, onRequested }: { runId: string; datasets: { id: string; name: string }[]; onRequested: (id: string) => void }) {
  const { viewer } = useSession();
  const [dataset, setDataset] = useState<string>("");
  const chosenDataset = dataset || datasets[0]?.id || "";
  const [spacesResult] = useQuery<{ embeddingSpaces: { id: string; name: string; dimension: number; vectorCount: number }[] }>({
    query: SPACES, variables: { dataset: chosenDataset }, pause: !chosenDataset,
  });
  const spaces = spacesResult.data?.embeddingSpaces ?? [];
  const [space, setSpace] = useState("");
  const [method, setMethod] = useState<"PCA" | "UMAP">("PCA");
  const [sphereize, setSphereize] = useState(false);
  const [state, request] = useMutation(REQUEST);
  const [problem, setProblem] = useState<string | null>(null);
  if (viewer.readOnly) return null;
  const submit = async () => {
    const name = space || spaces[0]?.name;
    if (!name) return setProblem("this dataset has no embedding space");
    const answer = await request({ input: { runId, space: name, method, sphereize } });
    if (answer.error) return setProblem(errorText(answer.error));
    const refused = userError(answer.data?.requestProjection);
    if (refused) return setProblem(refused);
    setProblem(null);
    onRequested(answer.data.requestProjection.projection.id);
  };
  return (
    <div className="request-form">
      <h3>New projection</h3>
      {datasets.length > 1 && (
        <select className="compact" value={chosenDataset} onChange={(e) => setDataset(e.target.value)}>
          {datasets.map((d) => <option key={d.id} value={d.id}>{d.name}</option>)}
        </select>
      )}
      <select className="compact" data-testid="projection-space" value={space || spaces[0]?.name || ""} onChange={(e) => setSpace(e.target.value)}>
        {spaces.map((s) => <option key={s.id} value={s.name}>{s.name} ({s.dimension}-d, {s.vectorCount} vectors)</option>)}
      </select>
      <div className="segmented">
        {(["PCA", "UMAP"] as const).map((m) => (
          <button key={m} className={method === m ? "active" : ""} onClick={() => setMethod(m)} data-testid={`projection-method-${m}`}>{m}</button>
        ))}
      </div>
      <label className="small"><input type="checkbox" checked={sphereize} onChange={(e) => setSphereize(e.target.checked)} /> sphereize</label>
      <button className="primary small" data-testid="projection-request" disabled={state.fetching} onClick={() => void submit()}>Project</button>
      {problem && <div className="error small">{problem}</div>}
    </div>
  );
}

function Scatter({ runId, projectionId, view, onProjected }: { runId: string; projectionId: string; view: RunView; onProjected: (id: string) => void }) {
  const client = useClient();
  const version = view.params.version;
  const [pointsResult] = useQuery<{ modelRun: { projection: Points | null } | null }>({ query: POINTS, variables: { id: runId, version, projection: projectionId } });
  const points = pointsResult.data?.modelRun?.projection ?? null;
  const [by, setBy] = useState<ColourBy>("split");
  const [detail, setDetail] = useState<string>("");
  const [colours, setColours] = useState<Colouring | null>(null);
  const [selected, setSelected] = useState<number[]>([]);
  const [hovered, setHovered] = useState<number | null>(null);
  const canvas = useRef<HTMLCanvasElement | null>(null);
  const plot = useRef<ReturnType<typeof createScatterplot> | null>(null);
  const positions = useMemo(() => (points?.xy ? normalisedXY(points.xy) : null), [points]);
  const packedIds = useMemo(() => (points?.dataRowIdsPacked ? bytes(points.dataRowIdsPacked) : null), [points]);
  const { confidence, iou } = view;

  // The colour column of the points, asked for when the choice changes.
  useEffect(() => {
    if (!points) return;
    let live = true;
    const base = { id: runId, version, projection: projectionId };
    const ask = async (): Promise<Colouring | null> => {
      if (by === "split") {
        const a = await client.query(SPLITS_COLUMN, base).toPromise();
        const column = (a.data?.modelRun?.projection as ColumnAnswer | undefined)?.splits;
        return column ? colouring(column, points.pointCount) : null;
      }
      if (by === "metadata" && detail) {
        const a = await client.query(METADATA_COLUMN, { ...base, key: detail }).toPromise();
        const column = (a.data?.modelRun?.projection as ColumnAnswer | undefined)?.metadata;
        return column ? colouring(column, points.pointCount) : null;
      }
      if (by === "metric" && confidence.value !== null && iou.value !== null) {
        const a = await client.query(METRIC_COLUMN, { ...base, metric: detail || "f1", confidence: confidence.value, iou: iou.value }).toPromise();
        const column = (a.data?.modelRun?.projection as ColumnAnswer | undefined)?.metric;
        return column ? colouring(column, points.pointCount) : null;
      }
      if (by === "feature") {
        const a = await client.query(FEATURE_POINTS, base).toPromise();
        const sets = (a.data?.modelRun?.projection as ColumnAnswer | undefined)?.features ?? [];
        const set = sets.find((s) => s.feature === detail) ?? sets[0];
        return set ? membership(points.pointCount, set.points, set.feature) : null;
      }
      return null;
    };
    void ask().then((c) => live && setColours(c));
    return () => {
      live = false;
    };
  }, [client, runId, version, projectionId, points, by, detail, confidence.value, iou.value]);

  // The WebGL scatter plot: made once per projection, redrawn when the colours change.
  useEffect(() => {
    const node = canvas.current;
    if (!node || !positions) return;
    const many = positions.x.length > 20000;
    // Past 20,000 points (2 px each) they are drawn as squares without alpha blending: the
    // same picture at that size, and frames that keep up with panning in software WebGL.
    const scatter = createScatterplot({
      canvas: node, width: "auto", height: "auto", pointSize: many ? 2 : positions.x.length > 2000 ? 4 : 8,
      performanceMode: many, backgroundColor: "#0f1115", lassoColor: "#f5b94c",
    });
    plot.current = scatter;
    scatter.subscribe("select", ({ points: chosen }) => setSelected(chosen));
    scatter.subscribe("deselect", () => setSelected([]));
    scatter.subscribe("pointOver", (i) => setHovered(i));
    scatter.subscribe("pointOut", () => setHovered(null));
    return () => {
      scatter.destroy();
      plot.current = null;
    };
  }, [positions]);
  useEffect(() => {
    const scatter = plot.current;
    if (!scatter || !positions) return;
    const codes = colours?.codes ?? new Float32Array(positions.x.length);
    scatter.set({ colorBy: "valueA", pointColor: palette(colours?.legend ?? ["points"]) });
    void scatter.draw({ x: positions.x, y: positions.y, valueA: codes }, { zDataType: "categorical" }).then(() => {
      if (canvas.current) canvas.current.dataset.pointCount = String(positions.x.length);
    });
  }, [positions, colours]);

  const open = useCallback(() => {
    if (!packedIds || !selected.length) return;
    navigate(galleryHref(runId, { confidence: confidence.value, iou: iou.value, version }, { all: [{ selection: { ids: idsAt(packedIds, selected) } }] }));
  }, [packedIds, selected, runId, confidence.value, iou.value, version]);
  const [, request] = useMutation(REQUEST);
  const projectAgain = async () => {
    if (!points) return;
    const answer = await request({ input: { runId, space: points.space, method: points.method, sphereize: points.sphereize, points: { projectionId, indexes: packIndexes(selected) } } });
    const made = answer.data?.requestProjection?.projection?.id;
    if (made) onProjected(made);
  };

  if (pointsResult.error) return <ErrorBox message={errorText(pointsResult.error)} />;
  if (!points || !positions) return <div className="loading">Loading the points…</div>;
  const detailChoices = by === "metric" ? [...AUTOMATIC_METRICS] : by === "metadata" ? view.metadataFields.map((f) => f.key) : by === "feature" ? view.features.map((f) => f.name) : [];
  const legendColours = palette(colours?.legend ?? []);
  return (
    <div className="scatter-wrap">
      <div className="toolbar">
        <span className="muted small">Colour by</span>
        <div className="segmented">
          {(["split", "feature", "metric", "metadata"] as const).map((b) => (
            <button key={b} className={by === b ? "active" : ""} data-testid={`colour-by-${b}`} onClick={() => { setBy(b); setDetail(""); }}>{b}</button>
          ))}
        </div>
        {detailChoices.length > 0 && (
          <select className="compact" data-testid="colour-detail" value={detail} onChange={(e) => setDetail(e.target.value)}>
            {by !== "metadata" && <option value="">{by === "metric" ? "f1" : "first feature"}</option>}
            {by === "metadata" && <option value="">choose…</option>}
            {detailChoices.map((c) => <option key={c} value={c}>{c}</option>)}
          </select>
        )}
        <div className="spacer" />
        <span className="muted small">Shift + drag to lasso points</span>
        {selected.length > 0 && (
          <>
            <span data-testid="projector-selected">{selected.length} selected</span>
            <button className="ghost small" data-testid="projector-open-selection" onClick={open}>Show in gallery</button>
            <button className="ghost small" data-testid="projector-project-selection" onClick={() => void projectAgain()}>Project these again</button>
          </>
        )}
      </div>
      <div className="scatter-area">
        <canvas ref={canvas} className="scatter-canvas" data-testid="projector-canvas" data-point-count="0" />
        {colours && (
          <ul className="legend" data-testid="projector-legend">
            {colours.legend.map((label, i) => (
              <li key={label + i}><span className="swatch" style={{ background: legendColours[i] }} />{label}</li>
            ))}
          </ul>
        )}
        {hovered !== null && packedIds && <HoverCard runId={runId} version={version} id={idsAt(packedIds, [hovered])[0]} />}
      </div>
    </div>
  );
}

/** The hovered point's row: its key and a thumbnail of its asset. */
function HoverCard({ runId, version, id }: { runId: string; version: number | null; id: string }) {
  const [result] = useQuery<{ modelRun: { dataRows: { nodes: GalleryRow[] } } | null }>({
    query: ROWS,
    variables: { id: runId, version, filter: { all: [{ dataRows: { ids: [id] } }] }, sort: null, confidence: null, iou: null, first: 1, after: null, split: null },
  });
  const row = result.data?.modelRun?.dataRows.nodes[0];
  return (
    <div className="hover-card" data-testid="projector-hover">
      <div className="card-key">{row?.globalKey ?? "…"}</div>
      {row && <div className="hover-thumb"><AssetView row={row} objects={[]} options={{ colourMode: "feature", features: [] }} /></div>}
    </div>
  );
}
