import { describe, expect, it } from "vitest";
import { clauseFromForm, dependsOnMetrics, describeClause, describeSort, emptyForm, metadataValue, withClause, withoutClause, withSelection } from "./filters";

describe("building clauses from the filter bar", () => {
  it("builds presence and count clauses", () => {
    const form = { ...emptyForm("annotation"), features: ["car", "person"], min: "2", max: "" };
    expect(clauseFromForm(form)).toEqual({ annotation: { features: ["car", "person"], present: true, min: 2, max: null } });
    expect(clauseFromForm({ ...emptyForm("prediction"), features: ["car"], present: false })).toEqual({ prediction: { features: ["car"], present: false } });
  });

  it("refuses incomplete or inconsistent forms with a readable reason", () => {
    expect(() => clauseFromForm(emptyForm("annotation"))).toThrow("choose at least one feature");
    expect(() => clauseFromForm({ ...emptyForm("metric"), min: "0.8", max: "0.2" })).toThrow("min is above max");
    expect(() => clauseFromForm({ ...emptyForm("metric"), min: "abc" })).toThrow('min must be a number, not "abc"');
    expect(() => clauseFromForm({ ...emptyForm("confidence"), max: "2" })).toThrow("between 0 and 1");
    expect(() => clauseFromForm({ ...emptyForm("annotation"), features: ["car"], min: "1.5" })).toThrow("whole numbers");
  });

  it("builds metric and confidence ranges, optionally per feature", () => {
    expect(clauseFromForm({ ...emptyForm("metric"), metric: "f1", feature: "car", max: "0.5" })).toEqual({ metric: { name: "f1", feature: "car", min: null, max: 0.5 } });
    expect(clauseFromForm({ ...emptyForm("confidence"), min: "0.3" })).toEqual({ confidence: { feature: null, min: 0.3, max: null } });
  });

  it("types metadata values by the field's kind", () => {
    expect(clauseFromForm({ ...emptyForm("metadata"), key: "speed", metadataKind: "NUMBER", op: "range", min: "10" })).toEqual({ metadata: { key: "speed", min: 10, max: null } });
    expect(clauseFromForm({ ...emptyForm("metadata"), key: "speed", metadataKind: "NUMBER", value: "7" })).toEqual({ metadata: { key: "speed", equals: 7 } });
    expect(clauseFromForm({ ...emptyForm("metadata"), key: "camera", op: "contains", value: "fro" })).toEqual({ metadata: { key: "camera", contains: "fro" } });
    expect(clauseFromForm({ ...emptyForm("metadata"), key: "kind", metadataKind: "ENUM", op: "in", values: ["a", "b"] })).toEqual({ metadata: { key: "kind", in: ["a", "b"] } });
    expect(metadataValue("DATETIME", "2024-05-01T12:30:00Z", "min")).toBe("2024-05-01T12:30:00.000Z");
    expect(() => metadataValue("NUMBER", "ten", "the value")).toThrow("must be a number");
    expect(() => metadataValue("DATETIME", "yesterday", "min")).toThrow("date and time");
  });

  it("builds split, data row, slice and automatic slice clauses", () => {
    expect(clauseFromForm({ ...emptyForm("split"), splits: ["TEST"] })).toEqual({ split: ["TEST"] });
    expect(clauseFromForm({ ...emptyForm("dataRows"), keys: "a, b\nc" })).toEqual({ dataRows: { globalKeys: ["a", "b", "c"] } });
    expect(clauseFromForm({ ...emptyForm("slice"), slice: "id-1" })).toEqual({ slice: "id-1" });
    expect(clauseFromForm({ ...emptyForm("autoSlice"), autoSlice: "False positive" })).toEqual({ autoSlice: "False positive" });
    expect(clauseFromForm({ ...emptyForm("dataRows"), keysAre: "ids", keys: "r1\nr2" })).toEqual({ dataRows: { ids: ["r1", "r2"] } });
    expect(() => clauseFromForm({ ...emptyForm("dataRows"), keysAre: "ids", keys: " , " })).toThrow("at least one data row id");
  });

  it("builds confusion cells with None on either side, never on both", () => {
    expect(clauseFromForm({ ...emptyForm("confusionCell"), groundTruth: "car", predicted: "truck" })).toEqual({ confusionCell: { groundTruth: "car", prediction: "truck" } });
    expect(clauseFromForm({ ...emptyForm("confusionCell"), groundTruth: "car" })).toEqual({ confusionCell: { groundTruth: "car", prediction: null } });
    expect(clauseFromForm({ ...emptyForm("confusionCell"), predicted: "car" })).toEqual({ confusionCell: { groundTruth: null, prediction: "car" } });
    expect(() => clauseFromForm(emptyForm("confusionCell"))).toThrow("None → None is not a cell");
  });

  it("builds evaluated and selection clauses", () => {
    expect(clauseFromForm(emptyForm("evaluated"))).toEqual({ evaluated: true });
    expect(clauseFromForm({ ...emptyForm("evaluated"), evaluated: false })).toEqual({ evaluated: false });
    expect(clauseFromForm({ ...emptyForm("selection"), keys: "a,b" })).toEqual({ selection: { ids: ["a", "b"] } });
    expect(() => clauseFromForm(emptyForm("selection"))).toThrow("select at least one data row");
  });

  it("keeps one selection clause: a new selection replaces the old one, other clauses stay", () => {
    const first = withSelection({ all: [{ split: ["TEST"] }] }, ["a"]);
    expect(withSelection(first, ["b", "c"])).toEqual({ all: [{ split: ["TEST"] }, { selection: { ids: ["b", "c"] } }] });
    expect(describeClause({ selection: { ids: ["b", "c"] } })).toBe("selection of 2 rows");
    expect(describeClause({ confusionCell: { groundTruth: "car", prediction: null } })).toBe("confusion: car → None");
  });
});

describe("filters and sorts", () => {
  it("adds and removes clauses; no clause left is no filter", () => {
    const one = withClause(null, { split: ["TEST"] });
    const two = withClause(one, { autoSlice: "True positive" });
    expect(two.all).toHaveLength(2);
    expect(withoutClause(two, 0)).toEqual({ all: [{ autoSlice: "True positive" }] });
    expect(withoutClause(one, 0)).toBeNull();
  });

  it("knows which filters and sorts need computed metrics", () => {
    expect(dependsOnMetrics({ all: [{ split: ["TEST"] }] }, null)).toBe(false);
    expect(dependsOnMetrics({ all: [{ autoSlice: "Low F1" }] }, null)).toBe(true);
    expect(dependsOnMetrics(null, [{ field: "METRIC", metric: "f1" }])).toBe(true);
  });

  it("reads clauses and sorts the way a user says them", () => {
    expect(describeClause({ annotation: { features: ["car"], present: false } })).toBe("no label: car");
    expect(describeClause({ metric: { name: "iou", feature: "car", min: 0.2, max: 0.5 } })).toBe("iou of car 0.2 – 0.5");
    expect(describeClause({ slice: "s1" }, { s1: "Night" })).toBe("slice: Night");
    expect(describeClause({ split: ["TRAINING", "TEST"] })).toBe("split: Training or Test");
    expect(describeSort({ field: "CONFIDENCE_MAX", descending: true })).toBe("highest confidence ↓");
    expect(describeSort({ field: "METADATA", key: "camera" })).toBe("camera ↑");
  });
});
