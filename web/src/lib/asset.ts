// Where a data row's asset comes from. rowData is an http(s) URL (loaded directly), a path
// under the server's /assets/ route (which needs the API key, so it is fetched with the
// Authorization header and shown through a blob: URL), a data: URL, or, for text rows,
// the text itself.
import { useEffect, useState } from "react";
import { authorization } from "./auth";

export type AssetSource =
  | { kind: "url"; url: string }
  | { kind: "server"; path: string }
  | { kind: "inline"; text: string };

export function assetSource(rowData: string | null | undefined): AssetSource | null {
  if (!rowData) return null;
  if (/^https?:\/\//i.test(rowData) || /^data:/i.test(rowData)) return { kind: "url", url: rowData };
  if (rowData.startsWith("/assets/")) return { kind: "server", path: rowData };
  return { kind: "inline", text: rowData };
}

// Blob URLs of server assets, shared by every card and the detail view of a session.
const blobs = new Map<string, Promise<string>>();

function serverBlob(path: string, key: string): Promise<string> {
  const cacheKey = `${key}\u0000${path}`;
  let found = blobs.get(cacheKey);
  if (!found) {
    found = fetch(path, { headers: { Authorization: authorization(key) } }).then(async (response) => {
      if (!response.ok) throw new Error(`${path}: the server answered ${response.status}`);
      return URL.createObjectURL(await response.blob());
    });
    found.catch(() => blobs.delete(cacheKey));
    blobs.set(cacheKey, found);
  }
  return found;
}

export interface LoadedAsset {
  /** For images: a URL an <img> can show. */
  url: string | null;
  /** For text rows: the text. */
  text: string | null;
  error: string | null;
}

/** The asset of a row, loaded as an image URL or as text. */
export function useAsset(rowData: string | null | undefined, asText: boolean, key: string): LoadedAsset {
  const source = assetSource(rowData);
  const immediate: LoadedAsset | null =
    source === null
      ? { url: null, text: null, error: "this data row has no asset" }
      : source.kind === "inline"
        ? asText
          ? { url: null, text: source.text, error: null }
          : { url: null, text: null, error: `cannot load the asset "${source.text.slice(0, 60)}"` }
        : source.kind === "url" && !asText
          ? { url: source.url, text: null, error: null }
          : null;
  const [loaded, setLoaded] = useState<LoadedAsset>({ url: null, text: null, error: null });
  useEffect(() => {
    if (immediate || !source) return;
    let live = true;
    const done = (value: LoadedAsset) => live && setLoaded(value);
    const fail = (e: Error) => done({ url: null, text: null, error: e.message });
    if (source.kind === "server") {
      serverBlob(source.path, key)
        .then(async (url) => done(asText ? { url: null, text: await (await fetch(url)).text(), error: null } : { url, text: null, error: null }))
        .catch(fail);
    } else if (source.kind === "url") {
      fetch(source.url)
        .then(async (r) => {
          if (!r.ok) throw new Error(`${source.url}: ${r.status}`);
          done({ url: null, text: await r.text(), error: null });
        })
        .catch(fail);
    }
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [rowData, asText, key]);
  return immediate ?? loaded;
}
