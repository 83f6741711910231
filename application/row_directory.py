"""What commands need to know of the read models: which data rows exist, and their size.

Commands validate whole requests against the current rows (a prediction for an unknown
data row, a mask of the wrong size). The catalog and runs read models answer that (the
embeddings and projector ones for the projector's commands); a command first waits until
those have caught up with everything recorded before it (a CONFLICT to send again if they
do not in time), and its save is guarded by the owner's version, so a concurrent change
cannot slip between the check and the save.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol
from uuid import UUID

from domain.annotations.box_columns import BoxColumns
from domain.annotations.box_labels import RowObjects
from domain.annotations.objects import Annotation
from domain.data_rows import RowInfo


class RowDirectory(Protocol):
    def wait_until_current(self, timeout: float | None = None) -> None:
        """Block until the read models these answers come from hold every event recorded
        before this call; a Conflict (send the request again) if they do not in time."""

    def dataset_rows(
        self, dataset_id: UUID, ids: Sequence[str] = (), global_keys: Sequence[str] = ()
    ) -> dict[str, RowInfo]:
        """The dataset's rows among the given ids and global keys, keyed as asked."""

    def all_dataset_rows(self, dataset_id: UUID) -> list[RowInfo]:
        """Every current row of the dataset, in upload order."""

    def dataset_labels(self, dataset_id: UUID, row_ids: Sequence[str]) -> dict[str, list[Annotation]]:
        """The current ground-truth labels of the given rows (rows without labels absent)."""

    def dataset_label_columns(
        self, dataset_id: UUID, row_ids: Sequence[str], every_row: bool = False
    ) -> tuple[BoxColumns, RowObjects]:
        """The same labels as `prediction_payloads` takes them, a row's line its index in
        `row_ids` (domain.annotations.box_labels.label_columns). `every_row`: `row_ids` are
        every row of the dataset, found by the dataset alone."""

    def run_rows(
        self, run_id: UUID, ids: Sequence[str] = (), global_keys: Sequence[str] = ()
    ) -> dict[str, RowInfo]:
        """The run's current rows among the given ids and global keys, keyed as asked."""

    def run_labels(self, run_id: UUID, row_ids: Sequence[str]) -> dict[str, list[Annotation]]:
        """The run's current labels of the given rows (rows without labels absent)."""
