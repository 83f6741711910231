import { describe, expect, it } from "vitest";
import { configFileName, formatConfig, parseConfig, sameConfig } from "./config";

describe("parseConfig", () => {
  it("takes a flat object of booleans, strings, numbers and null", () => {
    const parsed = parseConfig('{"learning_rate": 0.001, "optimizer": "adam", "pretrained": true, "seed": null}');
    expect(parsed).toEqual({ ok: true, config: { learning_rate: 0.001, optimizer: "adam", pretrained: true, seed: null } });
    expect(parseConfig("{}")).toEqual({ ok: true, config: {} });
  });

  it("says why text is not JSON", () => {
    const parsed = parseConfig('{"epochs": 3,}');
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.error).toMatch(/^Not valid JSON: /);
    expect(parseConfig("   ")).toEqual({ ok: false, error: "The config is empty: write a JSON object, e.g. {}." });
  });

  it("refuses anything but an object", () => {
    expect(parseConfig("[1, 2]")).toEqual({ ok: false, error: "The config must be a JSON object, not an array." });
    expect(parseConfig("null")).toEqual({ ok: false, error: "The config must be a JSON object, not null." });
    expect(parseConfig("3")).toEqual({ ok: false, error: "The config must be a JSON object, not a number." });
  });

  it("refuses nested values and empty keys, naming the key", () => {
    expect(parseConfig('{"layers": [64, 32]}')).toEqual({
      ok: false,
      error: 'The value of "layers" must be a boolean, string, number or null, not an array.',
    });
    expect(parseConfig('{"opt": {"name": "sgd"}}')).toEqual({
      ok: false,
      error: 'The value of "opt" must be a boolean, string, number or null, not an object.',
    });
    expect(parseConfig('{"": 1}')).toEqual({ ok: false, error: 'The key "" must be 1 to 200 characters long.' });
  });

  it("refuses numbers JSON.parse makes infinite", () => {
    expect(parseConfig('{"lr": 1e400}')).toEqual({ ok: false, error: 'The value of "lr" is not a finite number.' });
  });
});

describe("formatConfig", () => {
  it("indents by two spaces and keeps key order", () => {
    expect(formatConfig({ b: 1, a: null })).toBe('{\n  "b": 1,\n  "a": null\n}');
    expect(parseConfig(formatConfig({ x: "y" }))).toEqual({ ok: true, config: { x: "y" } });
  });
});

describe("sameConfig", () => {
  it("compares keys and values, not key order", () => {
    expect(sameConfig({ a: 1, b: "x" }, { b: "x", a: 1 })).toBe(true);
    expect(sameConfig({ a: 1 }, { a: 2 })).toBe(false);
    expect(sameConfig({ a: null }, {})).toBe(false);
    expect(sameConfig({ a: 1 }, { a: 1, b: null })).toBe(false);
  });
});

describe("configFileName", () => {
  it("makes the run name safe for a file", () => {
    expect(configFileName("baseline")).toBe("baseline-config.json");
    expect(configFileName("night / augmented v2")).toBe("night-augmented-v2-config.json");
    expect(configFileName("   ")).toBe("run-config.json");
  });
});
