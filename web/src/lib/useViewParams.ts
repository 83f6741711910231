import { useCallback, useMemo } from "react";
import { navigate, useLocation } from "./router";
import { type ExtraParam, formatParams, type ParsedParams, parseParams, type ViewParams } from "./viewParams";

const NONE: readonly ExtraParam[] = [];

/** The view's query parameters (the common ones and the `extra` ones it takes), and a setter
 *  that writes changes back to the address. */
export function useViewParams(extra: readonly ExtraParam[] = NONE): ParsedParams & { update: (change: Partial<ViewParams>) => void } {
  const location = useLocation();
  const parsed = useMemo(() => parseParams(location.search, extra), [location.search, extra]);
  const update = useCallback(
    (change: Partial<ViewParams>) => {
      // Invalid parameters were reported and left unset; writing back drops them.
      const next = { ...parseParams(window.location.search, extra).params, ...change };
      navigate(window.location.pathname + formatParams(next));
    },
    [extra],
  );
  return { ...parsed, update };
}
