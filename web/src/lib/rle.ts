// COCO run-length masks, decoded in the browser and turned into SVG paths.
//
// A COCO RLE lists alternating runs of 0s and 1s (starting with 0s) over the pixels in
// column-major order (down each column, then the next column). The compressed string form
// packs each run in 5-bit groups offset by 48, with a continuation bit (0x20) and a sign bit
// (0x10); from the third run on, each run is stored as the difference to the run two before.

export interface Mask {
  height: number;
  width: number;
  /** 1 where the mask is set, column-major: pixel (x, y) is data[x * height + y]. */
  data: Uint8Array;
}

export function decodeCounts(counts: string): number[] {
  const runs: number[] = [];
  let value = 0;
  let shift = 0;
  for (let i = 0; i < counts.length; i++) {
    const code = counts.charCodeAt(i) - 48;
    if (code < 0 || code >= 64) throw new Error(`invalid character ${JSON.stringify(counts[i])} in RLE counts`);
    value |= (code & 0x1f) << shift;
    shift += 5;
    if (code & 0x20) continue;
    if (code & 0x10) value |= -1 << shift;
    if (runs.length > 2) value += runs[runs.length - 2];
    if (value < 0) throw new Error("negative run in RLE counts");
    runs.push(value);
    value = 0;
    shift = 0;
  }
  if (shift !== 0) throw new Error("RLE counts end inside a run");
  return runs;
}

export function decodeRle(size: [number, number], counts: string | number[]): Mask {
  const [height, width] = size;
  const runs = typeof counts === "string" ? decodeCounts(counts) : counts;
  const total = height * width;
  const covered = runs.reduce((sum, run) => sum + run, 0);
  if (covered !== total) throw new Error(`RLE covers ${covered} pixels, not ${height}x${width} = ${total}`);
  const data = new Uint8Array(total);
  let at = 0;
  runs.forEach((run, i) => {
    if (i % 2 === 1) data.fill(1, at, at + run);
    at += run;
  });
  return { height, width, data };
}

export function maskAt(mask: Mask, x: number, y: number): number {
  if (x < 0 || y < 0 || x >= mask.width || y >= mask.height) return 0;
  return mask.data[x * mask.height + y];
}

/** The set pixels as one SVG path of vertical runs (a rectangle each), in pixel units. */
export function maskFillPath(mask: Mask): string {
  const parts: string[] = [];
  const { height, width, data } = mask;
  for (let x = 0; x < width; x++) {
    const column = x * height;
    let y = 0;
    while (y < height) {
      if (!data[column + y]) {
        y++;
        continue;
      }
      const start = y;
      while (y < height && data[column + y]) y++;
      parts.push(`M${x} ${start}h1v${y - start}h-1z`);
    }
  }
  return parts.join("");
}

/** The mask's boundary: every edge between a set pixel and an unset one (or the border),
 * merged into straight segments, as an SVG path (for an outline that can be dashed). */
export function maskOutlinePath(mask: Mask): string {
  const parts: string[] = [];
  const { height, width } = mask;
  // Vertical edges on the line x = i, between columns i - 1 and i.
  for (let i = 0; i <= width; i++) {
    let y = 0;
    while (y < height) {
      if (maskAt(mask, i - 1, y) === maskAt(mask, i, y)) {
        y++;
        continue;
      }
      const start = y;
      while (y < height && maskAt(mask, i - 1, y) !== maskAt(mask, i, y)) y++;
      parts.push(`M${i} ${start}V${y}`);
    }
  }
  // Horizontal edges on the line y = j, between rows j - 1 and j.
  for (let j = 0; j <= height; j++) {
    let x = 0;
    while (x < width) {
      if (maskAt(mask, x, j - 1) === maskAt(mask, x, j)) {
        x++;
        continue;
      }
      const start = x;
      while (x < width && maskAt(mask, x, j - 1) !== maskAt(mask, x, j)) x++;
      parts.push(`M${start} ${j}H${x}`);
    }
  }
  return parts.join("");
}

/** The bounding box of the set pixels, or null for an empty mask. */
export function maskBounds(mask: Mask): { left: number; top: number; width: number; height: number } | null {
  let left = Infinity, top = Infinity, right = -1, bottom = -1;
  for (let x = 0; x < mask.width; x++) {
    for (let y = 0; y < mask.height; y++) {
      if (mask.data[x * mask.height + y]) {
        left = Math.min(left, x);
        right = Math.max(right, x);
        top = Math.min(top, y);
        bottom = Math.max(bottom, y);
      }
    }
  }
  return right < 0 ? null : { left, top, width: right - left + 1, height: bottom - top + 1 };
}
