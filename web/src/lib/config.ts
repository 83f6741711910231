// A model run's config (schema.graphql, ModelRun.config): a flat JSON object whose values are
// booleans, strings, finite numbers or null. The server checks it again and has the last word;
// this check only lets the editor say what is wrong before anything is sent.

export type ConfigValue = boolean | string | number | null;
export type RunConfig = Record<string, ConfigValue>;

export type ParsedConfig = { ok: true; config: RunConfig } | { ok: false; error: string };

const MAX_KEYS = 1000;
const MAX_KEY_LENGTH = 200;
const MAX_STRING_LENGTH = 10_000;

function kindOf(value: unknown): string {
  if (Array.isArray(value)) return "an array";
  if (value === null) return "null";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}

/** The editor's text as a config, or what is wrong with it. */
export function parseConfig(text: string): ParsedConfig {
  if (!text.trim()) return { ok: false, error: "The config is empty: write a JSON object, e.g. {}." };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return { ok: false, error: `Not valid JSON: ${(e as Error).message}` };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { ok: false, error: `The config must be a JSON object, not ${kindOf(value)}.` };
  }
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > MAX_KEYS) return { ok: false, error: `The config has ${entries.length} keys; at most ${MAX_KEYS} are allowed.` };
  for (const [key, item] of entries) {
    if (key.length < 1 || key.length > MAX_KEY_LENGTH) {
      return { ok: false, error: `The key "${key}" must be 1 to ${MAX_KEY_LENGTH} characters long.` };
    }
    if (item === null || typeof item === "boolean") continue;
    if (typeof item === "number") {
      if (!Number.isFinite(item)) return { ok: false, error: `The value of "${key}" is not a finite number.` };
      continue;
    }
    if (typeof item === "string") {
      if (item.length > MAX_STRING_LENGTH) return { ok: false, error: `The value of "${key}" is longer than ${MAX_STRING_LENGTH} characters.` };
      continue;
    }
    return { ok: false, error: `The value of "${key}" must be a boolean, string, number or null, not ${kindOf(item)}.` };
  }
  return { ok: true, config: value as RunConfig };
}

/** A config as the editor shows it: two-space indented, keys in their order. */
export function formatConfig(config: unknown): string {
  return JSON.stringify(config, null, 2);
}

/** Whether two configs are the same object (key order aside). */
export function sameConfig(a: RunConfig, b: RunConfig): boolean {
  const keysA = Object.keys(a);
  if (keysA.length !== Object.keys(b).length) return false;
  return keysA.every((k) => Object.prototype.hasOwnProperty.call(b, k) && Object.is(a[k], b[k]));
}

/** The download's file name: the run's name made safe for a file system. */
export function configFileName(runName: string): string {
  const base = runName.trim().replace(/[^A-Za-z0-9._-]+/g, "-").replace(/^[-.]+|-+$/g, "");
  return `${base || "run"}-config.json`;
}
