"""How event payloads are compressed in the log: zstandard at level 1.

Measured on the payloads the log holds most (best of 20, one core): a data-row chunk of
1,000 rows with 5 boxes each (0.85 MB of JSON) took 17.4 ms with zlib's default level and
1.4 ms with zstd level 1, which also compresses it smaller (ratio 3.65 against 3.16); a
chunk of 1,000 embeddings of 512 float32 (2.7 MB) 91 ms against 2.0 ms. Reading is 5 times
faster too. lz4 was faster still but compressed the rows half as well.

A payload that hardly compresses is stored as it is: raw float32 vectors (an embeddings
upload's chunks, see storage.event_log.BINARY_MAGIC) compress by 8 % in 0.53 s per 200 MB,
and take 0.40 s more to read back. Whether a payload does is judged by compressing 16 KB
from its middle. Such a payload starts with "{" (JSON) or BINARY_MAGIC, as no compressed
one does.

Events recorded before, with zlib, stay readable: a zstd frame starts with its magic number
(28 b5 2f fd) and a zlib stream never does (its first byte is 0x78 or another
compression-method byte ending in 8), so each payload is decompressed by what it is.
"""

from __future__ import annotations

import threading
import zlib

import zstandard
from eventsourcing.compressor import Compressor

from storage.event_log import BINARY_MAGIC

ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
LEVEL = 1
SAMPLE_BYTES = 16 * 1024
# Stored as it is when the sample keeps more than this share of its size compressed.
STORE_ABOVE = 0.9
_STORED_AS_IS = (b"{"[0], BINARY_MAGIC[0])

# zstandard's (de)compressor objects are not for concurrent use: one of each per thread.
_local = threading.local()


def _compressor() -> zstandard.ZstdCompressor:
    found = getattr(_local, "compressor", None)
    if found is None:
        found = _local.compressor = zstandard.ZstdCompressor(level=LEVEL)
    return found


def _decompressor() -> zstandard.ZstdDecompressor:
    found = getattr(_local, "decompressor", None)
    if found is None:
        found = _local.decompressor = zstandard.ZstdDecompressor()
    return found


class ZstdCompressor(Compressor):
    def compress(self, data: bytes) -> bytes:
        if len(data) >= 4 * SAMPLE_BYTES and data[0] in _STORED_AS_IS:
            middle = len(data) // 2
            if len(_compressor().compress(data[middle : middle + SAMPLE_BYTES])) > STORE_ABOVE * SAMPLE_BYTES:
                return data
        return _compressor().compress(data)

    def decompress(self, data: bytes) -> bytes:
        if data[:4] == ZSTD_MAGIC:
            return _decompressor().decompress(data)
        if data[:1] and data[0] in _STORED_AS_IS:
            return data
        return zlib.decompress(data)  # recorded before zstd was chosen
