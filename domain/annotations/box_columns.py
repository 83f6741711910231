"""Plain box predictions straight into columns: the bulk case of a prediction upload.

Most prediction uploads are many lines like

    {"dataRow": {"globalKey": "row-42"}, "name": "car", "bbox": {...}, "confidence": 0.93}

Parsing each into Annotation and Box objects, validating them one by one and turning them
back into columns would cost most of such an upload. `BoxLines.take` instead appends a line
that is a plain box valid on its own to columns. Any other line (another geometry, nested
classifications, a key the format does not know, a value the general parser refuses) is left to
domain.annotations.ndjson, which also words every error, so a line's error is the same
whichever way it came. What a box line still needs, its data row and a BBOX feature of that
name, is checked once per distinct row and feature, and that its box fits its row (a row
whose mediaType takes boxes, not entirely outside its image) column-wise, all in
`BoxColumns.line_errors`.

Data rows' labels that are plain boxes become such columns too
(domain.annotations.box_labels), and domain.annotations.box_payloads encodes the columns
into chunk payloads.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from math import isfinite
from typing import Any, Final, cast

import numpy as np

from domain.annotations.ndjson.lines import DataRowRef
from domain.annotations.objects import Annotation, Box
from domain.annotations.validation import PIXEL_MEDIA, RowShape, row_error, validate_annotations
from domain.errors import AnnotationLineError
from domain.ontology import Ontology

NAN: Final = float("nan")
# One gathered line: line number, data row reference, feature, left, top, width, height and
# confidence (NaN for none), as a row of a float64 array.
_WIDTH: Final = 8
# Lines are turned into an array block by block, while their numbers are still in cache.
_BLOCK: Final = 4096


class BoxLines:
    """Gathers plain box prediction lines as columns; `finish` gives them as arrays.

    A plain line has exactly the keys dataRow ({"id"} or {"globalKey"}), name or schemaId,
    bbox ({"top", "left", "height", "width"}) and optionally confidence, with JSON numbers
    (not booleans) for the box sides and the confidence. `names_by_id` resolves a schemaId as the general parser does.
    """

    def __init__(self, names_by_id: Mapping[str, str]) -> None:
        self._names = names_by_id
        self._lines: list[tuple[float, ...]] = []
        self._blocks: list[np.ndarray] = []
        self._refs: list[DataRowRef] = []
        self._by_key: dict[str, int] = {}
        self._by_id: dict[str, int] = {}
        self._features: dict[str, int] = {}
        # The last row reference: a row's predictions come on consecutive lines.
        self._last_refs: dict[str, int] | None = None
        self._last_key: Any = None
        self._last_ref = -1

    def take(self, obj: Any, line_no: int) -> bool:
        """Gather the line if it is a plain box valid on its own; False leaves it alone."""
        if type(obj) is not dict:
            return False
        bbox = obj.get("bbox")
        row = obj.get("dataRow")
        # Exactly the keys the format knows: a line with any other key is refused by the
        # general parser, which names the key (the four sides and one reference are all
        # required, so counting keys is enough). A line with "iscrowd" or "area" goes there
        # too, which refuses them on predictions (docs/metrics.md §9).
        if type(bbox) is not dict or len(bbox) != 4 or type(row) is not dict or len(row) != 1:
            return False
        confidence = obj.get("confidence")
        if confidence is None:
            keys = 3
            confidence = NAN
        else:
            keys = 4
            if type(confidence) is not float:
                if type(confidence) is not int or not 0 <= confidence <= 1:
                    return False
                confidence = float(confidence)
            elif not 0.0 <= confidence <= 1.0:
                return False
        if len(obj) != keys:
            return False
        name = obj.get("name")
        if name is None:
            schema_id = obj.get("schemaId")
            name = self._names.get(schema_id) if type(schema_id) is str else None
            if name is None:
                return False
        elif type(name) is not str or not name:
            return False
        top, left = bbox.get("top"), bbox.get("left")
        height, width = bbox.get("height"), bbox.get("width")
        if not (
            type(top) is float
            and type(left) is float
            and type(height) is float
            and type(width) is float
        ):
            sides = _floats(top, left, height, width)
            if sides is None:
                return False
            top, left, height, width = sides
        if not (width > 0.0 and height > 0.0 and isfinite(top + left + height + width)):
            return False
        key = row.get("globalKey")
        refs = self._by_key
        if key is None:
            key = row.get("id")
            refs = self._by_id
        if refs is not self._last_refs or key != self._last_key:
            if type(key) is not str or not key:
                return False
            ref = refs.get(key)
            if ref is None:
                ref = refs[key] = len(self._refs)
                by_id = refs is self._by_id
                self._refs.append(DataRowRef(id=key) if by_id else DataRowRef(global_key=key))
            self._last_refs, self._last_key, self._last_ref = refs, key, ref
        feature = self._features.get(name)
        if feature is None:
            feature = self._features[name] = len(self._features)
        lines = self._lines
        lines.append((line_no, self._last_ref, feature, left, top, width, height, confidence))
        if len(lines) == _BLOCK:
            self._blocks.append(np.array(lines, dtype=np.float64))
            lines.clear()
        return True

    def finish(self) -> BoxColumns:
        """The gathered lines as columns, in line order."""
        blocks, self._blocks = self._blocks, []
        if self._lines:
            blocks.append(np.array(self._lines, dtype=np.float64))
            self._lines.clear()
        values = np.concatenate(blocks) if blocks else np.empty((0, _WIDTH))
        return BoxColumns(
            refs=self._refs,
            features=list(self._features),
            line=values[:, 0].astype(np.int64),
            ref=values[:, 1].astype(np.intp),
            feature=values[:, 2].astype(np.intp),
            box=np.ascontiguousarray(values[:, 3:7]),
            confidence=values[:, 7].copy(),
        )


def _floats(*values: Any) -> tuple[float, ...] | None:
    """JSON numbers as floats, as the general parser converts them; None for anything else."""
    numbers = []
    for value in values:
        kind = type(value)
        if kind is int:
            try:
                value = float(value)
            except OverflowError:
                return None
        elif kind is not float:
            return None
        numbers.append(value)
    return tuple(numbers)


@dataclass(frozen=True, eq=False)
class BoxColumns:
    """Plain box lines: `refs` and `features` are indexed by the per-line columns."""

    refs: list[DataRowRef]
    features: list[str]
    line: np.ndarray
    ref: np.ndarray
    feature: np.ndarray
    box: np.ndarray  # (left, top, width, height) per line
    confidence: np.ndarray  # NaN where the line gives none

    def __len__(self) -> int:
        return len(self.line)

    def line_errors(
        self,
        ref_errors: Mapping[int, str],
        ontology: Ontology,
        rows: Sequence[RowShape | None] | None = None,
    ) -> list[tuple[int, str]]:
        """(line, message) in line order for the lines whose ref is in `ref_errors` (say,
        its row is unknown), else whose feature the ontology does not take as a box, else
        whose box does not fit its row (`rows`, one per ref, as `check_against_row` words
        it: a row whose mediaType takes no box, or a box entirely outside the image)."""
        feature_errors = {
            index: message
            for index, name in enumerate(self.features)
            if (message := _feature_error(name, ontology)) is not None
        }
        misfit = self._misfits(rows) if rows is not None else None
        if not ref_errors and not feature_errors and misfit is None:
            return []
        bad_ref = _flags(len(self.refs), ref_errors)[self.ref]
        bad_feature = _flags(len(self.features), feature_errors)[self.feature]
        bad = bad_ref | bad_feature
        if misfit is not None:
            bad |= misfit
        lines, refs, features = self.line.tolist(), self.ref.tolist(), self.feature.tolist()
        errors = []
        for i in np.flatnonzero(bad).tolist():
            if bad_ref[i]:
                message = ref_errors[refs[i]]
            elif bad_feature[i]:
                message = feature_errors[features[i]]
            else:
                assert rows is not None
                message = self._misfit_message(i, rows)
            errors.append((lines[i], message))
        return errors

    def ref_ids(self) -> list[str]:
        """Each ref's data row id, where the rows are referred to by id."""
        ids = [ref.id for ref in self.refs]
        if None in ids:
            raise ValueError("a row of these columns is referred to by its global key")
        return cast(list[str], ids)

    def misfit_messages(self, rows: Sequence[RowShape | None]) -> list[tuple[int, str]]:
        """(index, message) of each box that does not fit its row (`rows`, one per ref),
        in order, worded as `check_against_row` words it."""
        misfit = self._misfits(rows)
        if misfit is None:
            return []
        return [(i, self._misfit_message(i, rows)) for i in np.flatnonzero(misfit).tolist()]

    def _misfit_message(self, index: int, rows: Sequence[RowShape | None]) -> str:
        row = rows[int(self.ref[index])]
        assert row is not None
        found = row_error(self.features[int(self.feature[index])], Box(*self.box[index].tolist()), row)
        assert found is not None
        return found

    def without_refs(self, refs: set[int]) -> BoxColumns:
        """These columns without the lines of the given refs, nor those refs."""
        kept = [i for i in range(len(self.refs)) if i not in refs]
        number = np.full(len(self.refs), -1, dtype=np.intp)
        number[kept] = np.arange(len(kept))
        keep = number[self.ref] >= 0
        return BoxColumns(
            refs=[self.refs[i] for i in kept],
            features=self.features,
            line=self.line[keep],
            ref=number[self.ref[keep]],
            feature=self.feature[keep],
            box=self.box[keep],
            confidence=self.confidence[keep],
        )

    def _misfits(self, rows: Sequence[RowShape | None]) -> np.ndarray | None:
        """Per line: does its box not fit its row? None when every box fits."""
        count = len(self.refs)
        no_box = np.zeros(count, dtype=bool)
        # The image of each ref, NaN where its size is unknown (every comparison is false).
        width = np.full(count, NAN)
        height = np.full(count, NAN)
        for index, row in enumerate(rows):
            if row is None:
                continue
            media_type = row.media_type
            if media_type is not None and media_type.upper() not in PIXEL_MEDIA:
                no_box[index] = True
            if row.width is not None and row.height is not None:
                width[index], height[index] = row.width, row.height
        left, top = self.box[:, 0], self.box[:, 1]
        right, bottom = left + self.box[:, 2], top + self.box[:, 3]
        w, h = width[self.ref], height[self.ref]
        known = ~np.isnan(w)
        outside = known & ((left > w) | (top > h) | (right < 0.0) | (bottom < 0.0))
        misfit = no_box[self.ref] | outside
        return misfit if misfit.any() else None

    def annotations(self) -> list[Annotation]:
        """One annotation per line, as the general parser gives it."""
        names = [self.features[i] for i in self.feature.tolist()]
        boxes = map(Box, *self.box.T.tolist())
        confidences = [None if c != c else c for c in self.confidence.tolist()]
        return list(map(Annotation, names, boxes, confidences))


def _feature_error(name: str, ontology: Ontology) -> str | None:
    """Why a box of this feature does not fit the ontology, worded as for any line."""
    try:
        validate_annotations([Annotation(name, Box(0.0, 0.0, 1.0, 1.0))], ontology, None, 0)
    except AnnotationLineError as exc:
        return exc.reason
    return None


def _flags(size: int, marked: Mapping[int, Any]) -> np.ndarray:
    flags = np.zeros(size, dtype=bool)
    flags[list(marked)] = True
    return flags

