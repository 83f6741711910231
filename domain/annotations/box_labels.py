"""Data rows' labels that are plain boxes, gathered as box columns.

A data row upload's labels (`BoxLabels`), and a dataset's labels turned into a model run's
chunks (`label_columns`), are mostly plain {"name", "bbox"} objects. Each is taken as a box
prediction line of its row would be (domain.annotations.box_columns), so a row of them goes
into columns without an object per box; a row with any other label is left to the general
parser.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from domain.annotations.box_columns import BoxColumns, BoxLines
from domain.annotations.objects import Annotation


class BoxLabels:
    """The labels of uploaded data rows (a data row line's `labels`) that are plain boxes,
    gathered as columns: the bulk case of a data row upload.

    A row whose labels are all {"name", "bbox"} objects goes into the columns, each label
    taken as a box prediction of that row would be (its line: the data row's line); a row
    with any other label, or a box the columns do not take, is left to the general parser
    (`take` says False), which words every error. What is left to check of a taken box is
    that it fits its row: `BoxColumns.misfit_messages`.
    """

    def __init__(self, max_per_row: int) -> None:
        self._max = max_per_row
        self._lines = BoxLines({})
        self._numbers: list[int] = []
        self._left: set[str] = set()

    def take(self, labels: Any, row_id: str, line_no: int) -> bool:
        if type(labels) is not list or not 0 < len(labels) <= self._max:
            return False
        if not all(type(label) is dict and len(label) == 2 and "bbox" in label for label in labels):
            return False
        ref = {"id": row_id}
        take = self._lines.take
        taken = [take({"dataRow": ref, "name": label.get("name"), "bbox": label["bbox"]}, line_no) for label in labels]
        self._numbers.extend(number for number, was in enumerate(taken, 1) if was)
        if all(taken):
            return True
        self._left.add(row_id)  # its boxes taken so far are dropped in `finish`
        return False

    def finish(self) -> tuple[BoxColumns, list[int]]:
        """The boxes of the rows taken whole (ref i: the row `refs[i].id`) and, per box,
        its number among its row's labels (from 1)."""
        boxes = self._lines.finish()
        numbers = self._numbers
        if self._left:
            left = {i for i, ref in enumerate(boxes.refs) if ref.id in self._left}
            kept = ~np.isin(boxes.ref, list(left))
            numbers = np.array(numbers, dtype=np.int64)[kept].tolist()
            boxes = boxes.without_refs(left)
        return boxes, numbers


# What `prediction_payloads` takes besides box columns: (line, data row id, annotations).
RowObjects = list[tuple[int, str, list[Annotation]]]


def label_columns(
    rows: Sequence[tuple[str, Sequence[Any]]], objects: Callable[[Sequence[Any]], list[Annotation]]
) -> tuple[BoxColumns, RowObjects]:
    """Rows' labels as `prediction_payloads` takes them, each row's "line" its index.

    `rows` gives each data row's labels as JSON objects of the upload format (a data row's
    `labels`, without confidences). A row whose labels are all plain boxes ({"name", "bbox"})
    goes into the box columns (ref i: the i-th such row); every other row's labels are read
    by `objects`. Turning a dataset's labels into a model run's chunks this way skips an
    object per box, the bulk of a snapshot of box labels.
    """
    box_lines = BoxLines({})
    take = box_lines.take
    others: RowObjects = []
    for index, (row_id, items) in enumerate(rows):
        if not items:
            continue
        if all(type(item) is dict and len(item) == 2 and "bbox" in item for item in items):
            ref = {"id": row_id}
            if all([take({"dataRow": ref, "name": item.get("name"), "bbox": item["bbox"]}, index) for item in items]):
                continue
            # Not a box the columns take after all (it never is, stored): every row as objects.
            return BoxLines({}).finish(), [(i, r, objects(x)) for i, (r, x) in enumerate(rows) if x]
        others.append((index, row_id, objects(items)))
    return box_lines.finish(), others
