"""How values that JSON lacks are written into events: compactly, never pickled."""

from __future__ import annotations

import base64

from eventsourcing.persistence import Transcoding


class BytesAsBase64(Transcoding):
    """Columnar chunks (numpy buffers, RLE counts) travel as bytes."""

    type = bytes
    name = "b64"

    def encode(self, obj: bytes) -> str:
        return base64.b64encode(obj).decode("ascii")

    def decode(self, data: str) -> bytes:
        return base64.b64decode(data)
