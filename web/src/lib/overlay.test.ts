import { describe, expect, it } from "vitest";
import { colourOf, featureColour, isVisible, objectsOf, pathOf, PALETTE, SOURCE_COLOURS, textRuns } from "./overlay";

describe("objects of a row", () => {
  it("reads every geometry kind in order, with the server's indexes", () => {
    const labels = [
      { name: "car", bbox: { top: 10, left: 20, height: 30, width: 40 } },
      { name: "road", polygon: [{ x: 0, y: 0 }, { x: 10, y: 0 }, { x: 10, y: 10 }] },
      { name: "tags", answer: [{ name: "night" }, { name: "rain" }] },
      { name: "weather", answer: { name: "sunny" } },
      { name: "note", answer: "blurry" },
      { name: "wheel", point: { x: 5, y: 6 } },
      { name: "lane", line: [{ x: 0, y: 0 }, { x: 5, y: 5 }] },
      { name: "blob", mask: { rle: { size: [4, 5], counts: "5220003" } } },
    ];
    const objects = objectsOf(labels, "label");
    expect(objects.map((o) => [o.index, o.feature, o.geometry.kind])).toEqual([
      [0, "car", "bbox"], [1, "road", "polygon"], [2, "tags/night", "answer"], [3, "tags/rain", "answer"],
      [4, "weather/sunny", "answer"], [5, "note", "text"], [6, "wheel", "point"], [7, "lane", "line"], [8, "blob", "mask"],
    ]);
    expect(objects.every((o) => o.confidence === null)).toBe(true);
  });

  it("gives predictions without a confidence a confidence of 1", () => {
    const [a, b] = objectsOf([
      { name: "car", bbox: { top: 0, left: 0, height: 1, width: 1 } },
      { name: "car", bbox: { top: 0, left: 0, height: 1, width: 1 }, confidence: 0.25 },
    ], "prediction");
    expect([a.confidence, b.confidence]).toEqual([1, 0.25]);
  });

  it("keeps an unreadable object listed, with its error, instead of failing the row", () => {
    const [bad] = objectsOf([{ name: "blob", mask: { rle: { size: [2, 2], counts: "9" } } }], "label");
    expect(bad.error).toMatch(/covers/);
  });

  it("lists nested classifications by their full names", () => {
    const [car] = objectsOf([{
      name: "car", bbox: { top: 0, left: 0, height: 1, width: 1 },
      classifications: [{ name: "colour", answer: { name: "red" } }, { name: "plate", answer: "AB12" }],
    }], "label");
    expect(car.classifications).toEqual(["car/colour/red", "car/plate: AB12"]);
  });
});

describe("paths", () => {
  it("draws a box as a closed rectangle", () => {
    expect(pathOf({ kind: "bbox", left: 20, top: 10, width: 40, height: 30 })).toBe("M20 10h40v30h-40z");
  });

  it("draws every ring of a polygon", () => {
    const d = pathOf({ kind: "polygon", rings: [
      [{ x: 0, y: 0 }, { x: 10, y: 0 }, { x: 10, y: 10 }],
      [{ x: 2, y: 2 }, { x: 3, y: 2 }, { x: 3, y: 3 }],
    ] });
    expect(d).toBe("M0 0L10 0L10 10zM2 2L3 2L3 3z");
  });

  it("reads polygons given as a list of rings", () => {
    const [p] = objectsOf([{ name: "road", polygon: [[{ x: 0, y: 0 }, { x: 1, y: 0 }, { x: 1, y: 1 }], [{ x: 5, y: 5 }, { x: 6, y: 5 }, { x: 6, y: 6 }]] }], "label");
    expect(p.geometry.kind === "polygon" && p.geometry.rings.length).toBe(2);
  });

  it("draws an open polyline and a point as a circle of the given radius", () => {
    expect(pathOf({ kind: "line", points: [{ x: 0, y: 0 }, { x: 5, y: 5.123 }] })).toBe("M0 0L5 5.12");
    expect(pathOf({ kind: "point", x: 10, y: 10 }, 2)).toBe("M8 10a2 2 0 1 0 4 0a2 2 0 1 0 -4 0z");
  });
});

describe("visibility and colour", () => {
  const [label] = objectsOf([{ name: "car", bbox: { top: 0, left: 0, height: 1, width: 1 } }], "label");
  const [low, high] = objectsOf([
    { name: "car", bbox: { top: 0, left: 0, height: 1, width: 1 }, confidence: 0.3 },
    { name: "person", bbox: { top: 0, left: 0, height: 1, width: 1 }, confidence: 0.9 },
  ], "prediction");
  const all = { labels: true, predictions: true, hiddenFeatures: new Set<string>(), confidence: 0.5 };

  it("hides predictions below the confidence threshold, never labels", () => {
    expect([isVisible(label, all), isVisible(low, all), isVisible(high, all)]).toEqual([true, false, true]);
    expect(isVisible(low, { ...all, confidence: 0.3 })).toBe(true);
  });

  it("hides a source or a feature on request", () => {
    expect(isVisible(label, { ...all, labels: false })).toBe(false);
    expect(isVisible(high, { ...all, predictions: false })).toBe(false);
    expect(isVisible(high, { ...all, hiddenFeatures: new Set(["person"]) })).toBe(false);
  });

  it("colours by feature (ontology order) or by source", () => {
    expect(colourOf(high, "feature", ["car", "person"])).toBe(PALETTE[1]);
    expect(colourOf(label, "source", [])).toBe(SOURCE_COLOURS.label);
    expect(featureColour("unknown", [])).toBe(featureColour("unknown", ["car"]));
  });
});

describe("NER spans", () => {
  it("cuts the text where spans start and end", () => {
    const spans = objectsOf([
      { name: "person", location: { start: 0, end: 5 } },
      { name: "place", location: { start: 3, end: 8 } },
    ], "label");
    const runs = textRuns(10, spans);
    expect(runs.map((r) => [r.start, r.end, r.objects.map((o) => o.feature)])).toEqual([
      [0, 3, ["person"]], [3, 5, ["person", "place"]], [5, 8, ["place"]], [8, 10, []],
    ]);
  });
});
