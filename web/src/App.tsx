import { type FormEvent, lazy, Suspense, useEffect, useMemo, useState } from "react";
import { Provider } from "urql";
import { checkKey, makeClient, type ViewerInfo } from "./api/client";
import { forgetKey, storedKey, storeKey } from "./lib/auth";
import { Link, matchRoute, useLocation } from "./lib/router";
import { SessionContext } from "./session";
import { Directory } from "./views/Directory";
import { Gallery } from "./views/Gallery";
import { ModelPage } from "./views/ModelPage";
import { NotFound } from "./views/NotFound";

// The views with chart and WebGL libraries load when first opened: the gallery, the view
// most visits start at, does not wait for them.
const Metrics = lazy(() => import("./views/Metrics").then((m) => ({ default: m.Metrics })));
const Projector = lazy(() => import("./views/Projector").then((m) => ({ default: m.Projector })));
const Compare = lazy(() => import("./views/Compare").then((m) => ({ default: m.Compare })));
const History = lazy(() => import("./views/History").then((m) => ({ default: m.History })));

export function App() {
  const [key, setKey] = useState<string | null>(storedKey);
  const [viewer, setViewer] = useState<ViewerInfo | null>(null);
  const [problem, setProblem] = useState<string | null>(null);

  // A stored key is checked again on load: it may have been revoked since.
  useEffect(() => {
    if (!key || viewer) return;
    let live = true;
    checkKey(key)
      .then((found) => {
        if (!live) return;
        if (found) setViewer(found);
        else {
          forgetKey();
          setKey(null);
          setProblem("The stored API key is no longer accepted. Sign in again.");
        }
      })
      .catch((e: Error) => live && setProblem(`Cannot reach the server: ${e.message}`));
    return () => {
      live = false;
    };
  }, [key, viewer]);

  if (!key || !viewer) {
    return (
      <SignIn
        checking={!!key && !problem}
        problem={problem}
        onSignedIn={(k, v) => {
          storeKey(k);
          setProblem(null);
          setKey(k);
          setViewer(v);
        }}
        onProblem={setProblem}
      />
    );
  }
  return (
    <SignedIn
      apiKey={key}
      viewer={viewer}
      onSignOut={() => {
        forgetKey();
        setViewer(null);
        setKey(null);
      }}
    />
  );
}

function SignIn(props: {
  checking: boolean;
  problem: string | null;
  onSignedIn: (key: string, viewer: ViewerInfo) => void;
  onProblem: (message: string | null) => void;
}) {
  const [value, setValue] = useState("");
  const [busy, setBusy] = useState(false);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const key = value.trim();
    if (!key) {
      props.onProblem("Enter an API key.");
      return;
    }
    setBusy(true);
    try {
      const viewer = await checkKey(key);
      if (viewer) props.onSignedIn(key, viewer);
      else props.onProblem("This API key was not accepted. Check it and try again.");
    } catch (e) {
      props.onProblem(`Cannot reach the server: ${(e as Error).message}`);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="sign-in">
      <form className="sign-in-card" onSubmit={submit}>
        <div className="brand brand-large">
          <span className="brand-mark" aria-hidden="true" />
          ModelLedger
        </div>
        <p className="muted">Sign in with an API key. It stays in this browser until you sign out.</p>
        <label className="field">
          <span>API key</span>
          <input
            data-testid="api-key-input"
            type="password"
            autoComplete="off"
            autoFocus
            placeholder="mlk_…"
            value={value}
            onChange={(e) => setValue(e.target.value)}
          />
        </label>
        {props.problem && (
          <div className="error" role="alert" data-testid="api-key-error">
            {props.problem}
          </div>
        )}
        <button className="primary" data-testid="api-key-submit" type="submit" disabled={busy || props.checking}>
          {busy || props.checking ? "Checking…" : "Sign in"}
        </button>
        <p className="muted small">
          <code>modelledger api-key create --name NAME</code> prints a new key.
        </p>
      </form>
    </div>
  );
}

function SignedIn({ apiKey, viewer, onSignOut }: { apiKey: string; viewer: ViewerInfo; onSignOut: () => void }) {
  const connection = useMemo(() => makeClient(apiKey), [apiKey]);
  useEffect(() => () => connection.close(), [connection]);
  const location = useLocation();
  const route = matchRoute(location.pathname);
  const session = useMemo(() => ({ viewer, key: apiKey, signOut: onSignOut }), [viewer, apiKey, onSignOut]);
  return (
    <SessionContext.Provider value={session}>
      <Provider value={connection.client}>
        <div className="app">
          <header className="topbar">
            <Link href="/" className="brand">
              <span className="brand-mark" aria-hidden="true" />
              ModelLedger
            </Link>
            <nav className="topnav">
              <Link href="/">Models</Link>
              <a href="/graphql" target="_blank" rel="noreferrer">
                GraphiQL
              </a>
            </nav>
            <div className="spacer" />
            <span className="viewer" data-testid="viewer-name">
              {viewer.name}
              {viewer.readOnly && <span className="badge">read-only</span>}
            </span>
            <button className="ghost" data-testid="sign-out" onClick={onSignOut}>
              Sign out
            </button>
          </header>
          <main className="content">
            {route.view === "directory" && <Directory />}
            {route.view === "model" && <ModelPage modelId={route.modelId} />}
            {route.view === "gallery" && <Gallery key={route.runId} runId={route.runId} />}
            <Suspense fallback={<div className="loading">Loading the view…</div>}>
              {route.view === "metrics" && <Metrics key={route.runId} runId={route.runId} />}
              {route.view === "projector" && <Projector key={route.runId} runId={route.runId} />}
              {route.view === "history" && <History key={route.runId} runId={route.runId} />}
              {route.view === "compare" && <Compare key={`${route.runA}/${route.runB}`} runA={route.runA} runB={route.runB} />}
            </Suspense>
            {route.view === "notFound" && <NotFound path={location.pathname} />}
          </main>
        </div>
      </Provider>
    </SessionContext.Provider>
  );
}
