import { createContext, useContext } from "react";
import type { ViewerInfo } from "./api/client";

export interface Session {
  viewer: ViewerInfo;
  /** The key as sent on every request (for asset fetches that need it). */
  key: string;
  signOut: () => void;
}

export const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error("useSession outside a signed-in view");
  return session;
}
