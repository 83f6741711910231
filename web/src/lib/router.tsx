// A small router over the History API: the app has few addresses and keeps its state
// in the query string, so it needs little more than the current location and a way to move.
import { type AnchorHTMLAttributes, type MouseEvent, useEffect, useState } from "react";

export interface Location {
  pathname: string;
  search: string;
}

const listeners = new Set<() => void>();

function current(): Location {
  return { pathname: window.location.pathname, search: window.location.search };
}

export function navigate(to: string, options: { replace?: boolean } = {}): void {
  if (to === window.location.pathname + window.location.search) return;
  if (options.replace) window.history.replaceState(null, "", to);
  else window.history.pushState(null, "", to);
  listeners.forEach((listener) => listener());
}

export function useLocation(): Location {
  const [location, setLocation] = useState(current);
  useEffect(() => {
    const update = () => setLocation(current());
    listeners.add(update);
    window.addEventListener("popstate", update);
    return () => {
      listeners.delete(update);
      window.removeEventListener("popstate", update);
    };
  }, []);
  return location;
}

export type Route =
  | { view: "directory" }
  | { view: "model"; modelId: string }
  | { view: "gallery"; runId: string }
  | { view: "metrics"; runId: string }
  | { view: "compare"; runA: string; runB: string }
  | { view: "history"; runId: string }
  | { view: "projector"; runId: string }
  | { view: "notFound" };

export function matchRoute(pathname: string): Route {
  const parts = pathname.split("/").filter(Boolean).map(decodeURIComponent);
  if (parts.length === 0) return { view: "directory" };
  if (parts.length === 2 && parts[0] === "models") return { view: "model", modelId: parts[1] };
  if (parts.length === 3 && parts[0] === "runs" && parts[2] === "gallery") return { view: "gallery", runId: parts[1] };
  if (parts.length === 3 && parts[0] === "runs" && parts[2] === "metrics") return { view: "metrics", runId: parts[1] };
  if (parts.length === 3 && parts[0] === "runs" && parts[2] === "projector") return { view: "projector", runId: parts[1] };
  if (parts.length === 3 && parts[0] === "runs" && parts[2] === "history") return { view: "history", runId: parts[1] };
  if (parts.length === 3 && parts[0] === "compare") return { view: "compare", runA: parts[1], runB: parts[2] };
  return { view: "notFound" };
}

export function Link({ href, onClick, ...rest }: AnchorHTMLAttributes<HTMLAnchorElement> & { href: string }) {
  const follow = (event: MouseEvent<HTMLAnchorElement>) => {
    onClick?.(event);
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
    event.preventDefault();
    navigate(href);
  };
  return <a href={href} onClick={follow} {...rest} />;
}
