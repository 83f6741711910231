"""A line's mask: a PNG (binary, or one colour of a composite) or a COCO RLE, checked
before pycocotools reads it."""

from __future__ import annotations

import base64
import binascii
import io
from typing import Any, Final

import numpy as np
from PIL import Image
from pycocotools import mask as coco_mask

from domain.annotations.ndjson.keys import MASK_KEY_SET, RLE_KEY_SET
from domain.annotations.ndjson.values import read_object, show_value
from domain.annotations.objects import Mask
from domain.errors import AnnotationLineError

# pycocotools keeps run lengths in 32 bits; no real data row comes near this.
MAX_MASK_PIXELS: Final = 2**31 - 1


def read_mask(value: Any, name: str, line: int) -> Mask:
    value = read_object(value, "mask", name, line)
    if "png" in value and "rle" in value:
        raise AnnotationLineError(line, f"mask of {name!r} gives both png and rle")
    if "png" not in value and "rle" not in value:
        raise AnnotationLineError(
            line, f"mask of {name!r} must give png or rle (masks are not fetched from URLs)"
        )
    read_object(value, "mask", name, line, MASK_KEY_SET)
    if "png" in value:
        return _png_mask(value["png"], value.get("colorRGB"), name, line)
    if "colorRGB" in value:
        raise AnnotationLineError(line, f"mask colorRGB of {name!r} goes with a png, not an rle")
    return _rle_mask(value["rle"], name, line)


def _png_mask(data: Any, color: Any, name: str, line: int) -> Mask:
    if type(data) is not str:
        raise AnnotationLineError(line, f"mask png of {name!r} must be a base64 string")
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise AnnotationLineError(line, f"mask png of {name!r} is not valid base64") from None
    try:
        with Image.open(io.BytesIO(raw)) as image:
            if image.format != "PNG":
                raise ValueError(image.format)
            if color is not None:
                # A composite mask: this instance is the pixels of exactly this colour.
                if not _is_rgb(color):
                    raise AnnotationLineError(
                        line, f"mask colorRGB {show_value(color)} of {name!r} is not [r, g, b]"
                    )
                pixels = np.asarray(image.convert("RGB")) == np.asarray(color, dtype=np.uint8)
                binary = pixels.all(axis=2)
            elif len(image.getbands()) == 1:
                binary = np.asarray(image) != 0
            else:
                # Colour images (and palettes, whose indices are the encoder's choice) are
                # read as RGBA: a pixel is in the mask when it has colour and is not fully
                # transparent, so an opaque black background is not mistaken for the mask.
                rgba = np.asarray(image.convert("RGBA"))
                binary = rgba[:, :, :3].any(axis=2) & (rgba[:, :, 3] != 0)
    except AnnotationLineError:
        raise
    except Exception:
        # Pillow reports corrupt images through several exception types (OSError,
        # SyntaxError, ValueError, DecompressionBombError); to the user each is a bad PNG.
        raise AnnotationLineError(line, f"mask png of {name!r} is not a readable PNG") from None
    height, width = binary.shape
    encoded = coco_mask.encode(np.asfortranarray(binary, dtype=np.uint8))
    return Mask(height, width, encoded["counts"])


def _is_rgb(color: Any) -> bool:
    return (
        type(color) is list
        and len(color) == 3
        and all(type(c) is int and 0 <= c <= 255 for c in color)
    )


def _rle_mask(rle: Any, name: str, line: int) -> Mask:
    rle = read_object(rle, "mask rle", name, line, RLE_KEY_SET)
    size = rle.get("size")
    if not (type(size) is list and len(size) == 2 and all(type(n) is int and n > 0 for n in size)):
        raise AnnotationLineError(
            line, f"mask rle size {show_value(size)} of {name!r} is not [height, width] > 0"
        )
    height, width = size
    pixels = height * width
    if pixels > MAX_MASK_PIXELS:
        raise AnnotationLineError(
            line, f"mask rle size {show_value(size)} of {name!r} exceeds {MAX_MASK_PIXELS} pixels"
        )
    counts = rle.get("counts")
    if type(counts) is str:
        runs = _compressed_runs(counts)
        if runs is None:
            raise AnnotationLineError(
                line, f"mask rle counts of {name!r} are not a valid compressed RLE string"
            )
    elif type(counts) is list:
        if not all(type(run) is int and run >= 0 for run in counts):
            raise AnnotationLineError(
                line, f"mask rle counts of {name!r} must be non-negative integers"
            )
        runs = counts
    else:
        raise AnnotationLineError(
            line,
            f"mask rle counts of {name!r} must be a string or a list, got {show_value(counts)}",
        )
    covered = sum(runs)
    if covered != pixels:
        raise AnnotationLineError(
            line,
            f"mask rle counts of {name!r} cover {covered} pixels, not {height}x{width} = {pixels}",
        )
    if type(counts) is str:
        return Mask(height, width, counts.encode("ascii"))
    compressed = coco_mask.frPyObjects({"size": size, "counts": counts}, height, width)
    return Mask(height, width, compressed["counts"])


def _compressed_runs(counts: str) -> list[int] | None:
    """The runs of a COCO compressed RLE string, or None if it is malformed.

    pycocotools trusts the string: a malformed one decodes past its buffer. This mirrors
    its reader (5 bits a character, continuation bit 0x20, sign bit 0x10, runs from the
    fourth on stored as a difference to the run two before) so it can be checked first.
    """
    runs: list[int] = []
    value = 0
    shift = 0
    for char in counts:
        code = ord(char) - 48
        if not 0 <= code < 64:
            return None
        value |= (code & 0x1F) << shift
        shift += 5
        if code & 0x20:
            continue
        if code & 0x10:
            value |= -1 << shift
        if len(runs) > 2:
            value += runs[-2]
        if value < 0:
            return None
        runs.append(value)
        value = 0
        shift = 0
    return runs if shift == 0 else None
