"""COCO run-length encoding read in pure Python, so the client needs no compiled mask
library: the compressed string decoded to run lengths, a mask's pixel count and its box.

The server answers every mask with COCO's compressed string; COCO files keep crowd regions
as plain run lengths, so an export decodes the string to give them back as they came."""

from __future__ import annotations

Counts = list[int] | str


def decode(counts: Counts) -> list[int]:
    """Run lengths of `counts`: a list is returned as it is, a compressed string decoded
    exactly as COCO's rleFrString does (6-bit groups, runs after the second relative to the
    run two before)."""
    if not isinstance(counts, str):
        return list(counts)
    runs: list[int] = []
    position = 0
    while position < len(counts):
        value = shift = 0
        more = True
        while more:
            code = ord(counts[position]) - 48
            value |= (code & 0x1F) << (5 * shift)
            more = bool(code & 0x20)
            position += 1
            shift += 1
            if not more and code & 0x10:
                value |= -1 << (5 * shift)
        if len(runs) > 2:
            value += runs[-2]
        runs.append(value)
    return runs


def pixel_count(counts: Counts) -> int:
    """The mask's pixels: the odd runs (the even ones are background)."""
    return sum(decode(counts)[1::2])


def bounding_box(counts: Counts, height: int) -> list[float]:
    """[x, y, width, height] of the mask, as COCO's toBbox computes it (a trailing run of
    background is not read; an empty mask is [0, 0, 0, 0])."""
    runs = decode(counts)
    runs = runs[: len(runs) // 2 * 2]
    if not runs:
        return [0.0, 0.0, 0.0, 0.0]
    x_start, y_start, x_end, y_end = float("inf"), height, 0, 0
    total = previous_x = 0
    for j, run in enumerate(runs):
        total += run
        t = total - j % 2
        y, x = t % height, t // height
        if j % 2 == 0:
            previous_x = x
        elif previous_x < x:
            y_start, y_end = 0, height - 1
        x_start, x_end = min(x_start, x), max(x_end, x)
        y_start, y_end = min(y_start, y), max(y_end, y)
    return [float(x_start), float(y_start), float(x_end - x_start + 1), float(y_end - y_start + 1)]
