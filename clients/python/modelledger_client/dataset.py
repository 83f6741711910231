"""A dataset: its data rows, labels, metadata, embeddings and asset files."""

from __future__ import annotations

import base64
import mimetypes
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote

import httpx

from modelledger_client.errors import NetworkError, NotFoundError
from modelledger_client.ndjson import Source
from modelledger_client.session import PAGE_INFO, Session
from modelledger_client.tables import (
    AssetFile,
    DataRow,
    EmbeddingSpace,
    Table,
    UploadResult,
    parse,
    parse_table,
    selection,
)
from modelledger_client.uploads import Upload

FIELDS = "id name version rowCount createdAt"
GET = f"query($id: ID!) {{ dataset(id: $id) {{ {FIELDS} }} }}"
ROWS = f"""query($id: ID!, $first: Int, $after: String) {{ dataset(id: $id) {{
  dataRows(first: $first, after: $after) {{ {PAGE_INFO} nodes {{ {selection(DataRow)} }} }} }} }}"""
SPACES = f"query($id: ID!) {{ embeddingSpaces(datasetId: $id) {{ {selection(EmbeddingSpace)} }} }}"

# Asset files are streamed in blocks of this size.
BLOCK = 1024**2


@dataclass(frozen=True)
class Dataset:
    """A snapshot of a dataset; `refresh()` reads it again."""

    session: Session = field(repr=False, compare=False)
    id: str
    name: str
    version: int
    row_count: int
    created_at: str

    @classmethod
    def parse(cls, session: Session, data: dict[str, Any]) -> Dataset:
        return cls(session, data["id"], data["name"], data["version"], data["rowCount"], data["createdAt"])

    @classmethod
    def load(cls, session: Session, dataset_id: str) -> Dataset:
        found = session.transport.graphql(GET, {"id": dataset_id})["dataset"]
        if found is None:
            raise NotFoundError(f"dataset {dataset_id!r} not found")
        return cls.parse(session, found)

    def refresh(self) -> Dataset:
        return self.load(self.session, self.id)

    def upsert_data_rows(self, rows: Source, progress: bool = True) -> UploadResult:
        """Add new data rows (with their labels). A global key that exists is refused."""
        return self._upload(Upload(f"/upload/datasets/{self.id}/data-rows", "data rows"), rows, progress)

    def update_metadata(self, lines: Source, progress: bool = True) -> UploadResult:
        """Merge `{"dataRow": {...}, "metadata": {...}}` lines into existing rows (null removes a key)."""
        return self._upload(Upload(f"/upload/datasets/{self.id}/metadata", "metadata"), lines, progress)

    def upsert_labels(self, lines: Source, progress: bool = True) -> UploadResult:
        """Replace the labels of existing rows with `{"dataRow": {...}, "labels": [...]}` lines."""
        return self._upload(Upload(f"/upload/datasets/{self.id}/labels", "labels"), lines, progress)

    def upload_embeddings(
        self, space: str, keys: Iterable[str], vectors: Iterable[Any], progress: bool = True
    ) -> UploadResult:
        """One vector per global key (a numpy array's rows or lists of numbers); a space
        that does not exist yet takes the dimension of the first vector. A numpy vector
        travels as its float32 bytes in base64 (what the server keeps, in a third of the
        text of its numbers); a list as its numbers."""
        lines = ({"globalKey": key, "vector": _vector(vector)} for key, vector in zip(keys, vectors, strict=True))
        route = f"/upload/datasets/{self.id}/embeddings/{quote(space, safe='')}"
        return self._upload(Upload(route, f"embeddings {space}"), lines, progress)

    def embedding_spaces(self) -> Table[EmbeddingSpace]:
        return parse_table(EmbeddingSpace, self.session.transport.graphql(SPACES, {"id": self.id})["embeddingSpaces"])

    def upload_asset(self, path_in_dataset: str, file: str | Path | bytes | IO[bytes]) -> AssetFile:
        """Store a file (a path, bytes or a binary file object, sent from its start) under `path_in_dataset`;
        the answer's `row_data` is what a data row's `rowData` takes. A file the server
        had at that path is replaced, so a retry after a network error is harmless."""
        route = f"/upload/datasets/{self.id}/assets/{quote(path_in_dataset)}"
        content_type = mimetypes.guess_type(path_in_dataset)[0] or "application/octet-stream"
        retry = self.session.uploader.retry
        failures = 0
        while True:
            try:
                answer = self.session.transport.put(route, _content(file), content_type)
                return AssetFile(answer["rowData"], answer["bytes"], answer["contentType"])
            except httpx.TransportError as exc:
                failures += 1
                if failures >= retry.attempts or not _rewindable(file):
                    raise NetworkError(f"asset upload failed {failures} times: {exc!r}") from exc
                time.sleep(retry.delay(failures))

    def data_rows(self, page_size: int = 100) -> Iterator[DataRow]:
        """The dataset's current rows in upload order (labels, rowData, metadata)."""
        nodes = self.session.pages(ROWS, {"id": self.id}, lambda d: d["dataset"]["dataRows"], page_size)
        return (parse(DataRow, node) for node in nodes)

    def _upload(self, upload: Upload, source: Source, progress: bool) -> UploadResult:
        return self.session.uploader.upload(upload, source, progress)


def _vector(vector: Any) -> str | list[Any]:
    """A numpy vector as the base64 of its little-endian float32 values, anything else as
    a list of numbers."""
    if hasattr(vector, "astype") and getattr(vector, "ndim", None) == 1:
        return base64.b64encode(vector.astype("<f4").tobytes()).decode("ascii")
    return vector.tolist() if hasattr(vector, "tolist") else list(vector)


def _content(file: str | Path | bytes | IO[bytes]) -> Iterator[bytes] | bytes:
    if isinstance(file, bytes):
        return file
    if isinstance(file, str | Path):
        return _blocks_of_path(Path(file))
    if file.seekable():
        file.seek(0)  # a repeated attempt sends the whole file again
    return iter(lambda: file.read(BLOCK), b"")


def _blocks_of_path(path: Path) -> Iterator[bytes]:
    with path.open("rb") as handle:
        yield from iter(lambda: handle.read(BLOCK), b"")


def _rewindable(file: str | Path | bytes | IO[bytes]) -> bool:
    return isinstance(file, str | Path | bytes) or file.seekable()
