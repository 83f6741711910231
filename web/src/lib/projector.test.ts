import { describe, expect, it } from "vitest";
import { colouring, membership, normalisedXY, packIndexes, palette, uint32s } from "./projector";

function b64(buffer: ArrayBuffer): string {
  return btoa(String.fromCharCode(...new Uint8Array(buffer)));
}

describe("the projector's columns", () => {
  it("scales the points into [-1, 1] keeping their proportions", () => {
    const { x, y } = normalisedXY(b64(new Float32Array([0, 0, 10, 5, 20, 10]).buffer));
    expect(Array.from(x).map((v) => +v.toFixed(3))).toEqual([-0.95, 0, 0.95]);
    expect(Array.from(y).map((v) => +v.toFixed(3))).toEqual([-0.475, 0, 0.475]);
  });

  it("round-trips point indexes as the API takes them", () => {
    expect(Array.from(uint32s(packIndexes([0, 7, 70000])))).toEqual([0, 7, 70000]);
  });

  it("bins numbers into ten ranges and puts points without one in 'none'", () => {
    const values = new Float32Array([0, 0.55, 1, NaN]);
    const c = colouring({ kind: "NUMBER", legend: null, codes: null, bytesPerCode: null, values: b64(values.buffer) }, 4);
    expect(Array.from(c.codes)).toEqual([0, 5, 9, 10]);
    expect(c.legend).toHaveLength(11);
    expect(c.legend[10]).toBe("none");
    expect(c.legend[0]).toBe("0 – 0.1");
  });

  it("keeps a category column's codes and legend, null as 'none'", () => {
    const c = colouring({ kind: "CATEGORY", legend: ["TRAINING", null], codes: b64(new Uint8Array([1, 0, 0]).buffer), bytesPerCode: 1, values: null }, 3);
    expect(Array.from(c.codes)).toEqual([1, 0, 0]);
    expect(c.legend).toEqual(["TRAINING", "none"]);
    expect(palette(c.legend)[1]).toBe("#4a5263");
  });

  it("splits the points by a feature's point set", () => {
    const c = membership(4, packIndexes([1, 3]), "car");
    expect(Array.from(c.codes)).toEqual([1, 0, 1, 0]);
    expect(c.legend).toEqual(["has car", "no car"]);
  });
});
