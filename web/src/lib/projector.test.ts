import { describe, expect, it } from "vitest";
import { bytes, colouring, idsAt, membership, normalisedXY, packIndexes, palette, uint32s } from "./projector";

function b64(buffer: ArrayBuffer): string {
  return btoa(String.fromCharCode(...new Uint8Array(buffer)));
}

describe("the projector's columns", () => {
  it("scales the points into [-1, 1] keeping their proportions", () => {
    const { x, y } = normalisedXY(b64(new Float32Array([0, 0, 10, 5, 20, 10]).buffer));
    expect(Array.from(x).map((v) => +v.toFixed(3))).toEqual([-0.95, 0, 0.95]);
    expect(Array.from(y).map((v) => +v.toFixed(3))).toEqual([-0.475, 0, 0.475]);
  });

  it("reads data row ids from the packed ones (16 bytes a point)", () => {
    const raw = new Uint8Array(32);
    raw.set([0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef], 16);
    expect(idsAt(bytes(b64(raw.buffer)), [1, 0])).toEqual(["12345678-9abc-def0-0123-456789abcdef", "00000000-0000-0000-0000-000000000000"]);
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
