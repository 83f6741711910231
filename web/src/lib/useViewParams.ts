import { useCallback, useMemo } from "react";
import { navigate, useLocation } from "./router";
import { formatParams, type ParsedParams, parseParams, type ViewParams } from "./viewParams";

/** The view's query parameters, and a setter that writes changes back to the address. */
export function useViewParams(): ParsedParams & { update: (change: Partial<ViewParams>) => void } {
  const location = useLocation();
  const parsed = useMemo(() => parseParams(location.search), [location.search]);
  const update = useCallback(
    (change: Partial<ViewParams>) => {
      // Invalid parameters were reported and left unset; writing back drops them.
      const next = { ...parseParams(window.location.search).params, ...change };
      navigate(window.location.pathname + formatParams(next));
    },
    [],
  );
  return { ...parsed, update };
}
