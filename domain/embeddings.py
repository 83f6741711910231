"""Embedding spaces: named sets of vectors per dataset, one vector per data row.

A space has a fixed dimension (at most 4,096). Its vectors arrive in bulk: each upload is
one `VectorsUploaded` event on the space plus an Upload aggregate whose chunk events hold
the vectors as float32 bytes (see domain/uploads.py), so the space's version counts its
uploads and names exactly which vectors a projection was computed from.
"""

from __future__ import annotations

import binascii
import math
import re
from dataclasses import dataclass
from typing import Any, cast
from uuid import UUID, uuid5

import numpy as np
import pybase64
from eventsourcing.domain import Aggregate, event
from numpy.typing import NDArray

from domain.annotations.ndjson.keys import check_keys
from domain.annotations.ndjson.lines import DataRowRef, parse_data_row_ref
from domain.annotations.ndjson.values import show_value
from domain.errors import AnnotationLineError, ValidationFailed

MAX_DIMENSION = 4_096
MAX_SPACE_NAME = 100
# Space names travel in URL paths (/upload/datasets/{id}/embeddings/{space}): no slashes,
# no characters that need escaping.
_SPACE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]*")
# Ids of spaces derive from (dataset, name), in a namespace of their own so they can never
# equal a data row's id (which derives from (dataset, globalKey)).
_SPACE_NAMESPACE = UUID("6f0d3c3e-7a43-5d0e-9c51-8f5d2f0b6e11")
# Raw bytes of vectors per chunk event. The stored event holds them as they are (after its
# JSON, uncompressed: storage.event_log, storage.compression), so an event is ~1 MB. That is
# past the ~500 KB at which the event store's pipelined insert was seen to stall over a Unix
# socket, which the log does not use (its insert is a database function, storage.database);
# an embedded server (a Unix socket) takes 30,000 vectors in 59 such events in one save.
# Each event is one transaction of the embeddings read model: with 256 KB, 100,000 vectors
# of 512 took it 6.8-7.4 s, with 1 MB 5.5-6.0 s (three interleaved runs each, in process).
CHUNK_VECTOR_BYTES = 1024 * 1024
# An upload line's keys: the row by "dataRow", or by "id" / "globalKey" at the top level.
LINE_KEYS = ("dataRow", "vector", "id", "globalKey")
LINE_SHAPE = '{"dataRow": {"globalKey": "..."} | {"id": "..."}, "vector": [number, ...]}'


def check_space_name(name: Any) -> str:
    if not isinstance(name, str) or not 1 <= len(name) <= MAX_SPACE_NAME or not _SPACE_NAME.fullmatch(name):
        raise ValidationFailed(
            f"embedding space name {name!r} must have 1 to {MAX_SPACE_NAME} characters: letters, "
            "digits, '_', '.', '-', starting with a letter or a digit"
        )
    return name


def check_dimension(dimension: Any) -> int:
    if isinstance(dimension, bool) or not isinstance(dimension, int) or not 1 <= dimension <= MAX_DIMENSION:
        raise ValidationFailed(
            f"an embedding dimension must be an integer from 1 to {MAX_DIMENSION}, got {show_value(dimension)}"
        )
    return dimension


def embedding_space_id(dataset_id: UUID, name: str) -> UUID:
    """A space is named per dataset: its id follows from both, so a second creation of the
    same name is a conflict in the event store, never a duplicate."""
    return uuid5(_SPACE_NAMESPACE, f"{dataset_id}/{name}")


def rows_per_chunk(dimension: int) -> int:
    return max(1, CHUNK_VECTOR_BYTES // (4 * dimension))


class EmbeddingSpace(Aggregate):
    """A named embedding space of a dataset: its dimension and how many uploads it had."""

    @event("Created")
    def __init__(
        self,
        id: UUID,  # noqa: A002 (eventsourcing takes the aggregate id by this name)
        dataset_id: UUID,
        name: str,
        dimension: int,
        actor: str,
    ) -> None:
        self.dataset_id = dataset_id
        self.name = check_space_name(name)
        self.dimension = check_dimension(dimension)
        self.uploads = 0

    @classmethod
    def create(cls, dataset_id: UUID, name: str, dimension: int, actor: str) -> EmbeddingSpace:
        name = check_space_name(name)
        return cls(
            id=embedding_space_id(dataset_id, name),
            dataset_id=dataset_id,
            name=name,
            dimension=check_dimension(dimension),
            actor=actor,
        )

    @event("VectorsUploaded")
    def upload_vectors(self, upload_id: UUID, vectors: int, actor: str) -> None:
        # A vector for a row that had one replaces it from this version on.
        self.uploads += 1


@dataclass(frozen=True, slots=True)
class EmbeddingLine:
    """One valid upload line: the data row it names and its vector."""

    line: int
    row: DataRowRef
    vector: NDArray[np.float32]


def _row_ref(obj: dict[str, Any], line: int) -> DataRowRef:
    """`"dataRow": {"id"|"globalKey"}`, or `"id"` / `"globalKey"` at the top level."""
    check_keys(obj, LINE_KEYS, line)
    top = [k for k in ("id", "globalKey") if k in obj]
    if "dataRow" in obj:
        if top:
            raise AnnotationLineError(
                line, f'the data row is named both by "dataRow" and by "{top[0]}"; give one'
            )
        return parse_data_row_ref(obj["dataRow"], line)
    if not top:
        raise AnnotationLineError(line, f'missing "dataRow"; expected {LINE_SHAPE}')
    if len(top) == 2:
        raise AnnotationLineError(line, "the data row is named by both id and globalKey; give one")
    value = obj[top[0]]
    if not isinstance(value, str) or not value:
        raise AnnotationLineError(line, f"data row {top[0]} {show_value(value)} is not a non-empty string")
    return DataRowRef(id=value) if top[0] == "id" else DataRowRef(global_key=value)


_NUMBER_TYPES = frozenset({int, float})


def _first_non_number(values: list[Any]) -> tuple[int, Any] | None:
    for position, value in enumerate(values):
        if isinstance(value, bool) or not isinstance(value, int | float):
            return position, value
    return None


def parse_vector(values: Any, line: int, dimension: int | None, what: str) -> NDArray[np.float32]:
    """The line's vector as float32: a list of numbers, or a string holding the vector's
    little-endian float32 bytes in base64 (the form embedding APIs answer with when asked
    for base64: a third of the text, and nothing to parse number by number). A wrong
    length, a non-number, a string that is not such bytes or a value that is not finite
    (NaN, infinite, or beyond float32's range) is an error naming the line."""
    if isinstance(values, str):
        return _checked(_base64_vector(values, line, what), values, line, dimension, what)
    if not isinstance(values, list):
        raise AnnotationLineError(
            line, f"the vector of {what} must be a list of numbers or a base64 string of float32 values"
        )
    _check_length(len(values), line, dimension, what)
    # NumPy converts numeric-looking strings and booleans silently: check the kinds first,
    # at C speed (the types present), and look for the culprit only when there is one.
    bad = None if _NUMBER_TYPES.issuperset(map(type, values)) else _first_non_number(values)
    if bad is not None:
        raise AnnotationLineError(
            line, f"the vector of {what} holds {show_value(bad[1])} at position {bad[0]}; only numbers are allowed"
        )
    with np.errstate(over="ignore", invalid="ignore"):
        vector = np.asarray(values, dtype=np.float64).astype(np.float32)
    return _checked(vector, values, line, dimension, what)


def _check_length(length: int, line: int, dimension: int | None, what: str) -> None:
    if dimension is not None and length != dimension:
        raise AnnotationLineError(line, f"the vector of {what} has {length} values; the space's dimension is {dimension}")
    if not 1 <= length <= MAX_DIMENSION:
        raise AnnotationLineError(line, f"the vector of {what} has {length} values; a dimension is 1 to {MAX_DIMENSION}")


def _base64_vector(text: str, line: int, what: str) -> NDArray[np.float32]:
    try:
        # Strict: only the standard alphabet, padded, nothing after the padding; pybase64
        # (SIMD) decodes 100,000 vectors of 512 in 0.27 s, the standard library in 1.45 s.
        raw = pybase64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise AnnotationLineError(
            line, f"the vector of {what} is a string that is not base64 (little-endian float32 values, standard alphabet, padded)"
        ) from None
    if len(raw) % 4:
        raise AnnotationLineError(
            line, f"the vector of {what} has {len(raw)} bytes in base64; float32 values take 4 each"
        )
    return np.frombuffer(raw, dtype="<f4").astype(np.float32, copy=False)  # read-only, not copied


def _checked(
    vector: NDArray[np.float32], values: list[Any] | str, line: int, dimension: int | None, what: str
) -> NDArray[np.float32]:
    """The vector when it has the space's length and only finite values."""
    if isinstance(values, str):
        _check_length(len(vector), line, dimension, what)
    finite = np.isfinite(vector)
    if not finite.all():
        position = int(np.argmin(finite))
        original = values[position] if isinstance(values, list) else float(vector[position])
        reason = "is not finite" if not math.isfinite(original) else "is beyond the float32 range"
        raise AnnotationLineError(line, f"the vector of {what} holds {original!r} at position {position}, which {reason}")
    return vector


def parse_embedding_line(obj: Any, line: int, dimension: int | None) -> EmbeddingLine:
    """One NDJSON line `{"dataRow": {"id"|"globalKey"}, "vector": [...]}` (or `"id"` at the
    top level). `dimension` None: the space does not exist yet and takes this line's."""
    if not isinstance(obj, dict):
        raise AnnotationLineError(line, f"a line must be a JSON object; expected {LINE_SHAPE}")
    row = _row_ref(obj, line)
    what = f"data row {row.id!r}" if row.id is not None else f"data row {row.global_key!r}"
    if "vector" not in obj:
        raise AnnotationLineError(line, f"{what} has no vector")
    return EmbeddingLine(line, row, parse_vector(obj["vector"], line, dimension, what))


_CANONICAL_IDS = re.compile(r"(?:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})*")


def pack_row_ids(row_ids: list[str] | list[UUID]) -> bytes:
    """Data row ids (UUIDs) as 16 bytes each, in order. Ids in their canonical text (as the
    read models give them) are converted all at once: 100,000 in 0.02 s, not 0.27 s."""
    if all(isinstance(r, str) for r in row_ids):
        text = "".join(cast(list[str], row_ids))
        if len(text) == 36 * len(row_ids) and _CANONICAL_IDS.fullmatch(text):
            return bytes.fromhex(text.replace("-", ""))
    return b"".join((r if isinstance(r, UUID) else UUID(r)).bytes for r in row_ids)


def unpack_row_ids(packed: bytes) -> list[str]:
    return [str(UUID(bytes=packed[i : i + 16])) for i in range(0, len(packed), 16)]


def pack_vectors(vectors: NDArray[np.float32]) -> bytes:
    """Row-major float32 little-endian: the event's bytes are the same on every machine."""
    return np.ascontiguousarray(vectors, dtype="<f4").tobytes()


def unpack_vectors(packed: bytes, dimension: int) -> NDArray[np.float32]:
    return np.frombuffer(packed, dtype="<f4").reshape(-1, dimension).astype(np.float32, copy=False)


def vector_chunks(row_ids: list[str], vectors: NDArray[np.float32]) -> list[dict[str, Any]]:
    """Upload chunk payloads of bounded size: {"rowIds": bytes, "vectors": bytes, "dimension"}."""
    dimension = int(vectors.shape[1])
    size = rows_per_chunk(dimension)
    return [
        {
            "dimension": dimension,
            "rowIds": pack_row_ids(row_ids[start : start + size]),
            "vectors": pack_vectors(vectors[start : start + size]),
        }
        for start in range(0, len(row_ids), size)
    ]
