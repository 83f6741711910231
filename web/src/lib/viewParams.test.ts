import { describe, expect, it } from "vitest";
import { formatParams, gridPoint, NO_PARAMS, parseParams } from "./viewParams";

describe("view parameters in the address", () => {
  it("round-trips every parameter in a fixed order", () => {
    const params = {
      confidence: 0.5, iou: 0.3, filter: { all: [{ split: ["TEST" as const] }] },
      sort: [{ field: "GLOBAL_KEY" as const, descending: true }], split: "TRAINING" as const, version: 4,
    };
    const text = formatParams(params);
    expect(text.startsWith("?confidence=0.5&iou=0.3&filter=")).toBe(true);
    expect(text.endsWith("&split=TRAINING&version=4")).toBe(true);
    expect(parseParams(text)).toEqual({ params, errors: [] });
  });

  it("writes nothing for a view with no parameters", () => {
    expect(formatParams(NO_PARAMS)).toBe("");
    expect(formatParams({ ...NO_PARAMS, filter: { all: [] }, sort: [] })).toBe("");
  });

  it("reports unknown and invalid parameters, keeping the valid ones", () => {
    const { params, errors } = parseParams("?confidence=2&iou=abc&split=train&version=0&foo=1&sort=%5B%5D");
    expect(params).toEqual(NO_PARAMS);
    expect(errors).toEqual([
      'Parameter confidence="2" is not a threshold between 0 and 1.',
      'Parameter iou="abc" is not a threshold between 0 and 1.',
      'Parameter split="train" is not one of TRAINING, VALIDATION, TEST, UNASSIGNED.',
      'Parameter version="0" is not a version (1, 2, …).',
      'Unknown parameter "foo"; this view takes confidence, iou, filter, sort, split, version.',
    ]);
  });

  it("explains a malformed filter or sort", () => {
    const bad = (name: string, value: string) => parseParams(`?${name}=${encodeURIComponent(value)}`).errors[0];
    expect(bad("filter", "{")).toBe("Parameter filter is not valid JSON.");
    expect(bad("filter", "[]")).toMatch(/must be a JSON object/);
    expect(bad("filter", '{"all": [{"colour": 1}]}')).toBe('Parameter filter clause 1 has unknown condition "colour".');
    expect(bad("filter", '{"all": [{"split": ["TEST"], "slice": "x"}]}')).toMatch(/exactly one condition/);
    expect(bad("sort", '[{"field": "SIZE"}]')).toMatch(/has field "SIZE"/);
    expect(bad("sort", '[{"field": "METRIC"}]')).toMatch(/needs "metric"/);
    expect(parseParams("?filter=1&filter=2").errors).toContain('Parameter "filter" is given more than once.');
  });
});

describe("the comparison's versionB", () => {
  it("is taken only by a view that asks for it, and written after version", () => {
    expect(parseParams("?versionB=2").errors).toEqual(['Unknown parameter "versionB"; this view takes confidence, iou, filter, sort, split, version.']);
    const parsed = parseParams("?version=3&versionB=2", ["versionB"]);
    expect(parsed).toEqual({ params: { ...NO_PARAMS, version: 3, versionB: 2 }, errors: [] });
    expect(formatParams(parsed.params)).toBe("?version=3&versionB=2");
  });

  it("reports an invalid versionB", () => {
    const { params, errors } = parseParams("?versionB=x", ["versionB"]);
    expect(params.versionB).toBeNull();
    expect(errors).toEqual(['Parameter versionB="x" is not a version (1, 2, …).']);
  });
});

describe("grid points", () => {
  const grid = [0, 0.25, 0.5, 0.75, 1];

  it("defaults to the threshold nearest 0.5", () => {
    expect(gridPoint(null, [0, 0.4, 0.9], "confidence")).toEqual({ value: 0.4, error: null });
  });

  it("takes a threshold of the grid as it is", () => {
    expect(gridPoint(0.75, grid, "iou")).toEqual({ value: 0.75, error: null });
  });

  it("snaps a value off the grid to the nearest threshold and says so", () => {
    const { value, error } = gridPoint(0.3, grid, "confidence");
    expect(value).toBe(0.25);
    expect(error).toBe("Parameter confidence=0.3 is not one of the run's thresholds (0, 0.25, 0.5, 0.75, 1); showing 0.25.");
  });
});
