import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { useClient, useQuery } from "urql";
import { errorText } from "../api/client";
import { AUTO_SLICES, CUSTOM_METRICS, type GalleryRow, ROWS, type RowsVariables, type SliceCount, SLICES } from "../api/gallery";
import { AssetView } from "../components/AssetView";
import { DisplayPanel } from "../components/DisplayPanel";
import { FilterBar } from "../components/FilterBar";
import { ErrorBox } from "../components/ParamErrors";
import { RowDetail } from "../components/RowDetail";
import { SliceList } from "../components/SliceList";
import { SortMenu } from "../components/SortMenu";
import { type DisplaySettings, loadDisplay, saveDisplay } from "../lib/display";
import { type DataRowFilter, DEFAULT_SORT, dependsOnMetrics, withSelection } from "../lib/filters";
import { count } from "../lib/format";
import { isVisible, objectsOf } from "../lib/overlay";
import { RunHeader, runViewProblem } from "../components/RunHeader";
import { useRunView } from "./useRunView";

const PAGE_SIZE = 40;

interface Pages {
  key: string;
  rows: GalleryRow[];
  total: number | null;
  cursor: string | null;
  hasNext: boolean;
  loading: boolean;
  error: string | null;
}

export function Gallery({ runId }: { runId: string }) {
  const client = useClient();
  const view = useRunView(runId);
  const { params, update, run, metadataFields, features, confidenceGrid, iouGrid, confidence, iou, inSync, refresh } = view;
  const featureNames = useMemo(() => features.map((f) => f.name), [features]);

  // Display settings (this browser's).
  const [display, setDisplayState] = useState<DisplaySettings>(loadDisplay);
  const setDisplay = (settings: DisplaySettings) => {
    setDisplayState(settings);
    saveDisplay(settings);
  };

  // The gallery's pages, by keyset.
  // The grid point matters to the rows only through metric clauses and sorts: changing the
  // thresholds reloads the gallery only then (the overlays follow the threshold either way).
  // Without them the first page is asked for at once, beside the run itself.
  const usesGrid = dependsOnMetrics(params.filter, params.sort);
  const variables: Omit<RowsVariables, "after"> | null = run || !usesGrid
    ? {
        id: runId, version: params.version, filter: params.filter, sort: params.sort ?? DEFAULT_SORT,
        confidence: usesGrid ? confidence.value : null, iou: usesGrid ? iou.value : null, first: PAGE_SIZE, split: params.split,
      }
    : null;
  const queryKey = JSON.stringify([variables, refresh]);
  const [pages, setPages] = useState<Pages>({ key: "", rows: [], total: null, cursor: null, hasNext: false, loading: false, error: null });
  const loading = useRef<string | null>(null);

  const loadPage = useCallback(
    async (key: string, after: string | null) => {
      if (!variables || loading.current === key + (after ?? "")) return;
      loading.current = key + (after ?? "");
      setPages((p) => ({ ...p, loading: true }));
      const answer = await client.query(ROWS, { ...variables, after }).toPromise();
      loading.current = null;
      setPages((p) => {
        if (p.key !== key) return p;
        if (answer.error) return { ...p, loading: false, error: errorText(answer.error), hasNext: false };
        const connection = answer.data?.modelRun?.dataRows;
        if (!connection) return { ...p, loading: false, error: "The run was not found.", hasNext: false };
        return {
          key,
          rows: after ? [...p.rows, ...connection.nodes] : connection.nodes,
          total: connection.totalCount,
          cursor: connection.pageInfo.endCursor,
          hasNext: connection.pageInfo.hasNextPage,
          loading: false,
          error: null,
        };
      });
    },
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [client, queryKey],
  );

  useEffect(() => {
    if (!variables) return;
    setPages({ key: queryKey, rows: [], total: null, cursor: null, hasNext: false, loading: true, error: null });
    void loadPage(queryKey, null);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [queryKey]);

  const sentinel = useRef<HTMLDivElement | null>(null);
  useEffect(() => {
    const node = sentinel.current;
    if (!node || !pages.hasNext || pages.loading) return;
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) void loadPage(pages.key, pages.cursor);
    }, { rootMargin: "600px" });
    observer.observe(node);
    return () => observer.disconnect();
  }, [pages.hasNext, pages.loading, pages.key, pages.cursor, loadPage]);

  // Slices: saved ones (counted at the grid point) and automatic ones. What needs the run's
  // metric results is asked for once the first page is shown, so that on a server that is
  // still loading the run the cards do not wait behind the results.
  const firstPageShown = useRef(false);
  if (pages.total !== null || pages.error !== null) firstPageShown.current = true;
  const metricsWait = !run || !inSync || confidence.value === null || iou.value === null || !firstPageShown.current;
  const sliceVars = { id: runId, version: params.version, confidence: confidence.value, iou: iou.value };
  const [savedResult, refetchSaved] = useQuery<{ modelRun: { slices: SliceCount[] } | null }>({
    query: SLICES, variables: { ...sliceVars, refresh }, pause: !run || !firstPageShown.current,
  });
  const [autoResult] = useQuery<{ modelRun: { autoSlices: SliceCount[] } | null }>({
    query: AUTO_SLICES, variables: { ...sliceVars, refresh }, pause: metricsWait,
  });
  const [customResult] = useQuery<{ modelRun: { metrics: { custom: { name: string }[] } } | null }>({
    query: CUSTOM_METRICS, variables: sliceVars, pause: metricsWait,
  });
  const customMetrics = useMemo(
    () => [...new Set((customResult.data?.modelRun?.metrics.custom ?? []).map((c) => c.name))],
    [customResult.data],
  );
  const savedSlices = savedResult.data?.modelRun?.slices ?? [];

  // The open row.
  const [openIndex, setOpenIndex] = useState<number | null>(null);
  useEffect(() => setOpenIndex(null), [queryKey]);
  const step = useCallback(
    (delta: 1 | -1) => {
      setOpenIndex((i) => {
        if (i === null) return i;
        const next = i + delta;
        if (next < 0) return i;
        if (next >= pages.rows.length) {
          if (pages.hasNext) void loadPage(pages.key, pages.cursor);
          return i;
        }
        document.querySelector(`[data-testid="gallery-item"][data-index="${next}"]`)?.scrollIntoView({ block: "nearest" });
        return next;
      });
    },
    [pages, loadPage],
  );
  const closeDetail = useCallback(() => setOpenIndex(null), []);

  const setFilter = (filter: DataRowFilter | null) => update({ filter });
  // Cards picked with their check box (or ctrl/shift-click); "Show only these" filters to them.
  const [picked, setPicked] = useState<string[]>([]);
  const togglePicked = useCallback((id: string) => setPicked((p) => (p.includes(id) ? p.filter((x) => x !== id) : [...p, id])), []);
  const visibility = useMemo(
    () => ({ labels: display.labels, predictions: display.predictions, hiddenFeatures: new Set(display.hiddenFeatures), confidence: confidence.value ?? 0 }),
    [display, confidence.value],
  );
  const blockedByMetrics = !inSync && dependsOnMetrics(params.filter, params.sort);

  const problem = runViewProblem(runId, view);
  if (problem || !run) return problem;

  const open = openIndex !== null ? pages.rows[openIndex] : null;
  return (
    <div className="gallery-page" style={{ ["--card-size" as string]: `${display.cardSize}px` }}>
      <RunHeader runId={runId} current="gallery" view={view}>
        <span className="row-count-box">
          <span data-testid="row-count" className="row-count">{pages.total ?? ""}</span>
          <span className="muted small"> of {count(run.rowCount)} data rows</span>
        </span>
      </RunHeader>
      <div className="toolbar">
        <FilterBar
          filter={params.filter}
          onChange={setFilter}
          features={features}
          metadataFields={metadataFields}
          customMetrics={customMetrics}
          savedSlices={savedSlices}
          metricsInSync={inSync}
          split={params.split}
          onSplit={(split) => update({ split })}
        />
        {picked.length > 0 && (
          <span className="picked" data-testid="selection-bar">
            <span>{picked.length} selected</span>
            <button
              className="ghost small"
              data-testid="selection-filter"
              onClick={() => {
                setFilter(withSelection(params.filter, picked));
                setPicked([]);
              }}
            >
              Show only these
            </button>
            <button className="link" data-testid="selection-clear" onClick={() => setPicked([])}>
              Clear selection
            </button>
          </span>
        )}
        <SortMenu sort={params.sort} onChange={(sort) => update({ sort })} features={features} metadataFields={metadataFields} customMetrics={customMetrics} metricsInSync={inSync} />
      </div>
      <div className="gallery-body">
        <aside className="side side-left">
          <SliceList
            runId={runId}
            modelId={run.modelId}
            saved={savedSlices}
            savedProblem={savedResult.error ? errorText(savedResult.error) : null}
            auto={inSync ? autoResult.data?.modelRun?.autoSlices ?? [] : []}
            autoProblem={!inSync ? "Counted once the metrics are computed." : autoResult.error ? errorText(autoResult.error) : null}
            confidence={confidence.value}
            iou={iou.value}
            live={params.version === null}
            filter={params.filter}
            activeFilter={JSON.stringify(params.filter)}
            onApply={setFilter}
            onChanged={() => refetchSaved({ requestPolicy: "network-only" })}
          />
        </aside>
        <section className="grid-area">
          {pages.error && (
            <ErrorBox
              testId="gallery-error"
              message={blockedByMetrics ? `${pages.error} (this filter or sort needs the metrics, which are being computed)` : pages.error}
            />
          )}
          {!pages.error && pages.total === 0 && !pages.loading && (
            <div className="empty-state small" data-testid="gallery-empty">No data rows match this filter.</div>
          )}
          <div className="grid" data-testid="gallery-grid">
            {pages.rows.map((row, index) => (
              <Card
                key={row.id}
                row={row}
                index={index}
                visibility={visibility}
                display={display}
                features={featureNames}
                active={openIndex === index}
                picked={picked.includes(row.id)}
                onPick={togglePicked}
                onOpen={() => setOpenIndex(index)}
              />
            ))}
          </div>
          <div ref={sentinel} className="sentinel">
            {pages.loading && <span className="muted small">Loading…</span>}
            {!pages.loading && pages.hasNext && (
              <button className="ghost small" onClick={() => void loadPage(pages.key, pages.cursor)}>
                Load more
              </button>
            )}
          </div>
        </section>
        <aside className="side side-right">
          <DisplayPanel
            settings={display}
            onChange={setDisplay}
            features={features}
            confidence={confidence.value}
            iou={iou.value}
            confidenceGrid={confidenceGrid}
            iouGrid={iouGrid}
            onGrid={(change) => update({ confidence: change.confidence ?? confidence.value, iou: change.iou ?? iou.value })}
          />
        </aside>
      </div>
      {open && confidence.value !== null && iou.value !== null && (
        <RowDetail
          key={open.id}
          runId={runId}
          version={params.version}
          rowId={open.id}
          globalKey={open.globalKey}
          confidence={confidence.value}
          iou={iou.value}
          metricsInSync={inSync}
          display={display}
          features={featureNames}
          position={`${openIndex! + 1} of ${pages.total ?? pages.rows.length}`}
          onStep={step}
          onClose={closeDetail}
        />
      )}
    </div>
  );
}

function Card({ row, index, visibility, display, features, active, picked, onPick, onOpen }: {
  row: GalleryRow;
  index: number;
  visibility: Parameters<typeof isVisible>[1];
  display: DisplaySettings;
  features: string[];
  active: boolean;
  picked: boolean;
  onPick: (id: string) => void;
  onOpen: () => void;
}) {
  const objects = useMemo(() => [...objectsOf(row.labels, "label"), ...objectsOf(row.predictions, "prediction")], [row]);
  const shown = objects.filter((o) => isVisible(o, visibility));
  const labelCount = objects.filter((o) => o.source === "label").length;
  const predictionCount = objects.length - labelCount;
  return (
    <article
      className={`card${active ? " active" : ""}${picked ? " picked" : ""}`}
      data-testid="gallery-item"
      data-global-key={row.globalKey}
      data-index={index}
      tabIndex={0}
      onClick={(e) => (e.ctrlKey || e.metaKey || e.shiftKey ? onPick(row.id) : onOpen())}
      onKeyDown={(e) => e.key === "Enter" && onOpen()}
    >
      <AssetView row={row} objects={shown} options={{ colourMode: display.colourMode, features }} />
      <footer>
        <input
          type="checkbox"
          aria-label={`Select ${row.globalKey}`}
          data-testid="gallery-item-select"
          checked={picked}
          onClick={(e) => e.stopPropagation()}
          onChange={() => onPick(row.id)}
        />
        <span className="card-key" title={row.globalKey}>{row.globalKey}</span>
        <span className="muted small">
          {row.split ? row.split.charAt(0) + row.split.slice(1).toLowerCase() : ""} · {labelCount} L · {predictionCount} P
        </span>
      </footer>
    </article>
  );
}
