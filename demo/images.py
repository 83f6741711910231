"""Image helpers shared by the digits and the scenes: PNG bytes and COCO RLE masks."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
from PIL import Image
from pycocotools import mask as coco_mask


def png_bytes(image: Image.Image) -> bytes:
    """The image as a PNG file, ready for `upload_asset` (assets are sent as bytes, so no
    temporary files are written)."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False)
    return buffer.getvalue()


def rle(pixels: np.ndarray) -> dict[str, Any]:
    """A boolean (height, width) mask as the upload format's compressed COCO RLE, the
    form the server decodes without a size limit on the line."""
    encoded = coco_mask.encode(np.asfortranarray(pixels.astype(np.uint8)))
    return {
        "rle": {
            "size": [int(pixels.shape[0]), int(pixels.shape[1])],
            "counts": encoded["counts"].decode("ascii"),
        }
    }
