import { describe, expect, it } from "vitest";
import { decodeCounts, decodeRle, maskAt, maskBounds, maskFillPath, maskOutlinePath } from "./rle";

// Expected strings are what pycocotools' mask.encode gives for the same arrays.
function rows(mask: ReturnType<typeof decodeRle>): string[] {
  const out: string[] = [];
  for (let y = 0; y < mask.height; y++) {
    let line = "";
    for (let x = 0; x < mask.width; x++) line += maskAt(mask, x, y) ? "#" : ".";
    out.push(line);
  }
  return out;
}

describe("COCO RLE", () => {
  it("decodes a compressed string to the pixels pycocotools encoded", () => {
    const mask = decodeRle([4, 5], "5220003");
    expect(rows(mask)).toEqual([".....", ".###.", ".###.", "....."]);
  });

  it("decodes runs stored as differences to the run two before", () => {
    const expected = [1, 0, 0, 0, 0, 1, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 0, 0, 1, 0, 0, 1, 0, 1, 0, 0, 1, 1, 1, 0, 0, 1, 1, 1, 1, 0, 1, 0, 1, 1, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 1, 0, 1, 1, 1, 1, 1];
    const mask = decodeRle([7, 9], "0140M11001O01N00O01201OM032N0ON4");
    expect(Array.from(mask.data)).toEqual(expected);
  });

  it("decodes long runs spread over several characters", () => {
    const counts = "`k5j7b1" + "0".repeat(317) + "`k5";
    const mask = decodeRle([300, 200], counts);
    expect(maskBounds(mask)).toEqual({ left: 20, top: 0, width: 160, height: 250 });
  });

  it("takes uncompressed counts too", () => {
    const mask = decodeRle([2, 2], [1, 2, 1]);
    expect(rows(mask)).toEqual([".#", "#."]);
  });

  it("a full mask starts with an empty run", () => {
    expect(decodeCounts("09")).toEqual([0, 9]);
    expect(rows(decodeRle([3, 3], "09"))).toEqual(["###", "###", "###"]);
  });

  it("refuses counts that do not cover the size, or are malformed", () => {
    expect(() => decodeRle([4, 5], "522")).toThrow(/covers/);
    expect(() => decodeCounts("5 2")).toThrow(/invalid character/);
    expect(() => decodeCounts("`")).toThrow(/inside a run/);
  });

  it("draws vertical runs and a merged outline", () => {
    const mask = decodeRle([4, 5], "5220003");
    expect(maskFillPath(mask)).toBe("M1 1h1v2h-1zM2 1h1v2h-1zM3 1h1v2h-1z");
    expect(maskOutlinePath(mask)).toBe("M1 1V3M4 1V3M1 1H4M1 3H4");
  });

  it("outlines holes as well as the outside", () => {
    const mask = decodeRle([30, 40], "o2d0:000000000000AH88HH8870000000000000000000000000000000000W9");
    const outline = maskOutlinePath(mask);
    expect(outline).toContain("M10 10V12");
    expect(outline).toContain("M3 5V25");
    expect(maskAt(mask, 10, 10)).toBe(0);
    expect(maskAt(mask, 9, 10)).toBe(1);
  });
});
