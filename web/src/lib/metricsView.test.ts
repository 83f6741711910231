import { describe, expect, it } from "vitest";
import { figure, galleryHref, parseThresholds, rowShares, toCsv, withSplit } from "./metricsView";

describe("the metrics view's helpers", () => {
  it("folds the split into the filter the metric queries take", () => {
    expect(withSplit(null, null)).toBeNull();
    expect(withSplit(null, "TEST")).toEqual({ all: [{ split: ["TEST"] }] });
    expect(withSplit({ all: [{ autoSlice: "Low F1" }] }, "TRAINING")).toEqual({ all: [{ autoSlice: "Low F1" }, { split: ["TRAINING"] }] });
  });

  it("links to the gallery with the filter and sort as handed out, at the same grid point and version", () => {
    const href = galleryHref("r1", { confidence: 0.5, iou: 0.7, version: 3 }, { all: [{ confusionCell: { groundTruth: "car", prediction: null } }] }, [{ field: "METRIC", metric: "f1" }]);
    const url = new URL(href, "http://x");
    expect(url.pathname).toBe("/runs/r1/gallery");
    expect(url.searchParams.get("confidence")).toBe("0.5");
    expect(url.searchParams.get("iou")).toBe("0.7");
    expect(url.searchParams.get("version")).toBe("3");
    expect(JSON.parse(url.searchParams.get("filter")!)).toEqual({ all: [{ confusionCell: { groundTruth: "car", prediction: null } }] });
    expect(JSON.parse(url.searchParams.get("sort")!)).toEqual([{ field: "METRIC", metric: "f1" }]);
  });

  it("shades each matrix cell by its share of the ground-truth row", () => {
    expect(rowShares([[3, 1], [0, 0]])).toEqual([[0.75, 0.25], [0, 0]]);
  });

  it("writes CSV with quoting and empty fields for null", () => {
    expect(toCsv([{ a: 1, b: null }, { a: 'say "hi", twice', b: 0.5 }], ["a", "b"])).toBe('a,b\n1,\n"say ""hi"", twice",0.5\n');
  });

  it("shows figures with three decimals and a dash for none", () => {
    expect([figure(null), figure(3), figure(0.66666)]).toEqual(["—", "3", "0.667"]);
  });
});

describe("threshold lists typed by a user", () => {
  it("reads lists and ranges with a step, both ends included, sorted and without repeats", () => {
    expect(parseThresholds("0.5, 0.3 0.5", "IoU")).toEqual([0.3, 0.5]);
    expect(parseThresholds("0.50:0.60:0.01", "IoU")).toEqual([0.5, 0.51, 0.52, 0.53, 0.54, 0.55, 0.56, 0.57, 0.58, 0.59, 0.6]);
  });

  it("refuses what is not a threshold, naming it", () => {
    expect(() => parseThresholds("", "IoU")).toThrow("at least one IoU threshold");
    expect(() => parseThresholds("0.5, high", "confidence")).toThrow('confidence threshold "high" is not a number');
    expect(() => parseThresholds("0.5, 1.5", "IoU")).toThrow("1.5 is outside [0, 1]");
    expect(() => parseThresholds("0.6:0.5:0.1", "IoU")).toThrow("needs from ≤ to");
  });
});
