"""Commands on embedding spaces: create one, upload vectors for a dataset's data rows."""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from typing import Any
from uuid import UUID

import numpy as np

from application.ledger import LedgerCore
from application.upload_lines import ErrorCollector
from domain.datasets import Dataset
from domain.embeddings import (
    EmbeddingLine,
    EmbeddingSpace,
    check_space_name,
    embedding_space_id,
    parse_embedding_line,
    vector_chunks,
)
from domain.errors import Conflict
from domain.uploads import UploadKind


class EmbeddingCommands(LedgerCore):
    def embedding_space(self, dataset_id: UUID, name: str) -> EmbeddingSpace | None:
        """The dataset's space of that name, or None."""
        return self.find(EmbeddingSpace, embedding_space_id(dataset_id, check_space_name(name)))

    def create_embedding_space(self, dataset_id: UUID, name: str, dimension: int, actor: str) -> EmbeddingSpace:
        dataset = self.load(Dataset, dataset_id, "dataset")
        dataset.check_live()
        if self.embedding_space(dataset.id, name) is not None:
            raise Conflict(f"dataset {dataset.id} already has an embedding space named {name!r}")
        space = EmbeddingSpace.create(dataset.id, name, dimension, actor)
        self.store(space)
        return space

    def upload_embeddings(
        self, dataset_id: UUID, space_name: str, lines: Iterable[tuple[int, Any]], actor: str
    ) -> tuple[EmbeddingSpace, int, int]:
        """One vector per line for the dataset's rows, all or nothing. A space that does not
        exist yet is created with the dimension of the first line. A row's new vector
        replaces its earlier one. Returns the space, the save's notification id and the
        number of vectors."""
        check_space_name(space_name)
        dataset = self.load(Dataset, dataset_id, "dataset")
        self.rows.wait_until_current()
        dataset.check_live()
        space = self.embedding_space(dataset.id, space_name)
        dimension = None if space is None else space.dimension
        errors = ErrorCollector()
        parsed: list[EmbeddingLine] = []
        for line_no, obj in lines:
            item = errors.attempt(line_no, partial(parse_embedding_line, obj, line_no, dimension))
            if item is not None:
                parsed.append(item)
                # The first valid line fixes a new space's dimension; later lines must match.
                dimension = dimension or int(item.vector.shape[0])
            if errors.full:
                break
        ids = list({p.row.id for p in parsed if p.row.id is not None})
        keys = list({p.row.global_key for p in parsed if p.row.global_key is not None})
        found = self.rows.dataset_rows(dataset.id, ids=ids, global_keys=keys)
        seen: dict[str, int] = {}
        row_ids: list[str] = []
        kept: list[EmbeddingLine] = []
        for item in parsed:
            asked = item.row.id if item.row.id is not None else item.row.global_key
            row = found.get(asked) if asked is not None else None
            if row is None:
                errors.add(item.line, f"data row {asked!r} is not in dataset {dataset.id}")
                continue
            if row.id in seen:
                # Which of two vectors for one row is meant cannot be guessed.
                errors.add(item.line, f"data row {asked!r} already has a vector on line {seen[row.id]}")
                continue
            seen[row.id] = item.line
            row_ids.append(row.id)
            kept.append(item)
        if not parsed and not errors.errors:
            errors.add(1, "the upload holds no vector")
        errors.raise_if_any("embedding upload")
        assert dimension is not None
        vectors = np.stack([item.vector for item in kept]) if kept else np.zeros((0, dimension), np.float32)
        del parsed, kept
        if space is None:
            space = EmbeddingSpace.create(dataset.id, space_name, dimension, actor)
        upload = self.new_upload(space, UploadKind.EMBEDDINGS, actor, vector_chunks(row_ids, vectors))
        space.upload_vectors(upload_id=upload.id, vectors=len(row_ids), actor=actor)
        return space, self.store(space, upload), len(row_ids)
