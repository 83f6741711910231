"""The compact match results of data rows: what a metric chunk records and queries read.

Nothing is stored per grid point. From the engine's walk (one per confidence
threshold) a chunk keeps, per data row:

- the taken pairs, each once whatever the number of thresholds that took it: data row,
  ground-truth feature, predicted feature, IoU (float64, so the cut `IoU > t` is exact),
  the prediction's confidence and a bit set of the confidence thresholds whose walk took it;
- the predictions grouped by (data row, feature, level), where the level is the number of
  confidence thresholds at or below the prediction's confidence: it is active at
  threshold i exactly when i < level;
- the annotations counted per (data row, feature);
- free-text answers counted the same way (never matched);
- crowd regions (docs/metrics.md §9) counted per (data row, feature), apart from annotations;
- the predictions a crowd region of their feature covers ("covered"), each with the share
  covered, its level and its id (its position in the chunk's evaluation, which the walk's
  pairs carry as "pred_id"), and the nested answers under them with their root's values:
  at (c, t) such a prediction is ignored when it is active, its share is > t and no pair
  of it is taken at (c, t).

Any (c, t) then is a cut: TP = same-feature pairs taken at c with IoU > t, FP = active
predictions - ignored ones - TP, FN = annotations - TP, TN = rows with neither. Columns are sorted by data
row. In events a table is a dict of plain values and numpy buffers ({dtype, shape, data}),
split by rows into parts that each stay well under the event size the store handles.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import orjson

from domain.metrics import MatchResult
from projections.row_keys import ids_of, row_keys

FORMAT = 1
# Bytes of one part as JSON with base64 buffers; events stay far below the ~500 KB where
# the store's pipelined insert is known to stall.
MAX_PART_BYTES = 180_000

# (column, dtype) of each row-sorted group of columns; the first column is the data row.
GROUPS: dict[str, tuple[tuple[str, str], ...]] = {
    "pair": (
        ("row", "<i4"), ("gt", "<i4"), ("pred", "<i4"), ("iou", "<f8"), ("level", "u1"), ("confidence", "<f4"),
        ("pred_id", "<i4"),  # the walk's prediction (-1 for a nested pair): crowd regions need it
    ),
    "pred": (("row", "<i4"), ("feature", "<i4"), ("level", "u1"), ("count", "<i4")),
    "ann": (("row", "<i4"), ("feature", "<i4"), ("count", "<i4")),
    "text_pred": (("row", "<i4"), ("feature", "<i4"), ("level", "u1"), ("count", "<i4")),
    "text_ann": (("row", "<i4"), ("feature", "<i4"), ("count", "<i4")),
    "crowd": (("row", "<i4"), ("feature", "<i4"), ("count", "<i4")),
    "covered": (("row", "<i4"), ("feature", "<i4"), ("level", "u1"), ("cover", "<f8"), ("pred_id", "<i4")),
}
# Columns a part recorded before they existed read as these (no crowd region then).
_ABSENT = {"pair.pred_id": -1}


@dataclass(frozen=True, eq=False)
class MatchTable:
    row_keys: np.ndarray  # S16 per data row
    confidence_thresholds: tuple[float, ...]
    features: tuple[str, ...]  # the matched features: the axis of TP, FP, FN, TN
    text_features: tuple[str, ...]
    columns: dict[str, dict[str, np.ndarray]]  # group -> column -> array (see GROUPS)
    taken: np.ndarray  # (pairs, ceil(C / 8)) uint8: bit i set when threshold i took the pair
    # Features that are nested answers (docs/metrics.md §8): not in `all`, IoU null. Their pairs
    # are in "pair" with their root pair's IoU, level and confidence; their objects in
    # "ann" and "pred" with their root's level.
    nested_features: tuple[str, ...] = ()

    @property
    def n_rows(self) -> int:
        return int(self.row_keys.size)

    @property
    def row_ids(self) -> list[str]:
        return ids_of(self.row_keys)

    def group(self, name: str) -> dict[str, np.ndarray]:
        return self.columns[name]

    def taken_at(self, c_index: int) -> np.ndarray:
        """Whether the walk at confidence threshold `c_index` took each pair."""
        return ((self.taken[:, c_index >> 3] >> (c_index & 7)) & 1).astype(bool)

    def slice_rows(self, start: int, stop: int) -> MatchTable:
        columns: dict[str, dict[str, np.ndarray]] = {}
        taken = self.taken
        for name, group in self.columns.items():
            lo, hi = np.searchsorted(group["row"], [start, stop])
            columns[name] = {k: v[lo:hi] for k, v in group.items()}
            columns[name]["row"] = columns[name]["row"] - start
            if name == "pair":
                taken = self.taken[lo:hi]
        return replace(self, row_keys=self.row_keys[start:stop], columns=columns, taken=taken)


def levels(confidence: np.ndarray, thresholds: Sequence[float]) -> np.ndarray:
    """How many (ascending) thresholds are at or below each confidence: exact, float64."""
    return np.searchsorted(np.asarray(thresholds, dtype=np.float64), confidence, side="right").astype(np.uint8)


def _counted(row: np.ndarray, feature: np.ndarray, n_features: int, level: np.ndarray | None = None) -> dict[str, np.ndarray]:
    width = max(n_features, 1)
    key = row.astype(np.int64) * width + feature
    if level is not None:
        key = key * 256 + level
    unique, count = np.unique(key, return_counts=True)
    out: dict[str, np.ndarray] = {}
    if level is not None:
        unique, out_level = np.divmod(unique, 256)
        out["level"] = out_level.astype(np.uint8)
    out_row, out_feature = np.divmod(unique, width)
    return {"row": out_row.astype(np.int32), "feature": out_feature.astype(np.int32), **out, "count": count.astype(np.int32)}


def from_match(result: MatchResult, row_ids: list[str]) -> MatchTable:
    """The compact form of one evaluation of these rows (row i of the result is row_ids[i])."""
    thresholds = result.confidence_thresholds
    if list(thresholds) != sorted(thresholds):
        raise ValueError("confidence thresholds must be ascending")
    pair, bits = _pairs(result.taken, result.pred_row.size, thresholds)
    nested_pair, nested_bits = _pairs(result.nested_taken, result.nested_pred_row.size, thresholds)
    nested_pair["pred_id"][:] = -1
    order = np.argsort(np.concatenate([pair["row"], nested_pair["row"]]), kind="stable")
    pair = {k: np.concatenate([v, nested_pair[k]])[order] for k, v in pair.items()}
    bits = np.concatenate([bits, nested_bits])[order]
    n_f, n_t = len(result.features), len(result.text_features)
    text_gt, text_pred = result.text_ground_truth, result.text_predictions
    pred_row = np.concatenate([result.pred_row, result.nested_pred_row])
    pred_feature = np.concatenate([result.pred_feature, result.nested_pred_feature])
    pred_confidence = np.concatenate([result.pred_confidence, result.nested_pred_confidence])
    columns = {
        "pair": pair,
        "pred": _counted(pred_row, pred_feature, n_f, levels(pred_confidence, thresholds)),
        "ann": _counted(
            np.concatenate([result.ann_row, result.nested_ann_row]),
            np.concatenate([result.ann_feature, result.nested_ann_feature]),
            n_f,
        ),
        "text_pred": _counted(text_pred.row, text_pred.feature, n_t, levels(text_pred.confidence, thresholds)),
        "text_ann": _counted(text_gt.row, text_gt.feature, n_t),
        "crowd": _counted(result.crowd_row, result.crowd_feature, n_f),
        "covered": _covered(result, thresholds),
    }
    nested = tuple(f for f, n in zip(result.features, result.nested, strict=True) if n)
    return MatchTable(
        row_keys(row_ids), tuple(thresholds), tuple(result.features), tuple(result.text_features), columns, bits, nested
    )


def _pairs(taken: Any, n_pred: int, thresholds: Sequence[float]) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The distinct pairs of the engine's per-threshold pairs, with their threshold bits."""
    n_c = len(thresholds)
    c_of = np.repeat(np.arange(n_c), np.diff(taken.offsets))
    key = taken.ann * max(n_pred, 1) + taken.pred
    unique, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    bits = np.zeros((unique.size, (n_c + 7) // 8), dtype=np.uint8)
    np.bitwise_or.at(bits, (inverse, c_of >> 3), (1 << (c_of & 7)).astype(np.uint8))
    pair = {
        "row": taken.row[first].astype(np.int32),
        "gt": taken.ann_feature[first].astype(np.int32),
        "pred": taken.pred_feature[first].astype(np.int32),
        "iou": taken.iou[first].astype(np.float64),
        "level": levels(taken.confidence[first], thresholds),
        # The prediction's own confidence (1 when it has none): candidate mislabels need it.
        "confidence": taken.confidence[first].astype(np.float32),
        "pred_id": taken.pred[first].astype(np.int32),
    }
    return pair, bits


def _covered(result: MatchResult, thresholds: Sequence[float]) -> dict[str, np.ndarray]:
    """The predictions a crowd region of their feature covers (share > 0), and the nested
    answers under them with their root's share and id, sorted by data row."""
    cover = result.crowd_cover
    hit = np.empty(0, np.int64) if cover is None else np.flatnonzero(cover > 0)
    under = np.flatnonzero(np.isin(result.nested_pred_root, hit)) if hit.size else np.empty(0, np.int64)
    root = result.nested_pred_root[under]
    row = np.concatenate([result.pred_row[hit], result.nested_pred_row[under]])
    order = np.argsort(row, kind="stable")
    confidence = np.concatenate([result.pred_confidence[hit], result.nested_pred_confidence[under]])
    return {
        "row": row[order].astype(np.int32),
        "feature": np.concatenate([result.pred_feature[hit], result.nested_pred_feature[under]])[order].astype(np.int32),
        "level": levels(confidence, thresholds)[order],
        "cover": (np.concatenate([cover[hit], cover[root]]) if hit.size else np.empty(0))[order].astype(np.float64),
        "pred_id": np.concatenate([hit, root])[order].astype(np.int32),
    }


# -- in events -----------------------------------------------------------------------------


def _array(a: np.ndarray) -> dict[str, Any]:
    a = np.ascontiguousarray(a)
    return {"dtype": a.dtype.str, "shape": list(a.shape), "data": a.tobytes()}


def _from_array(d: dict[str, Any]) -> np.ndarray:
    return np.frombuffer(d["data"], dtype=np.dtype(d["dtype"])).reshape(d["shape"])


def to_payload(table: MatchTable) -> dict[str, Any]:
    rows = table.row_keys.view(np.uint8).reshape(-1, 16)
    payload: dict[str, Any] = {
        "format": FORMAT,
        "confidence_thresholds": list(table.confidence_thresholds),
        "features": list(table.features),
        "text_features": list(table.text_features),
        "nested_features": list(table.nested_features),
        "rows": _array(rows),
        "taken": _array(table.taken),
    }
    for name, group in table.columns.items():
        for column, values in group.items():
            payload[f"{name}.{column}"] = _array(values)
    return payload


def from_payload(payload: dict[str, Any]) -> MatchTable:
    if payload.get("format") != FORMAT:
        raise ValueError(f"unknown match table format {payload.get('format')!r}")
    rows = _from_array(payload["rows"])
    n_rows = {name: _from_array(payload[f"{name}.row"]).size if f"{name}.row" in payload else 0 for name in GROUPS}
    columns = {
        name: {column: _column(payload, name, column, dtype, n_rows[name]) for column, dtype in spec}
        for name, spec in GROUPS.items()
    }
    return MatchTable(
        row_keys=np.ascontiguousarray(rows).view("S16").ravel(),
        confidence_thresholds=tuple(payload["confidence_thresholds"]),
        features=tuple(payload["features"]),
        text_features=tuple(payload["text_features"]),
        columns=columns,
        taken=_from_array(payload["taken"]),
        nested_features=tuple(payload.get("nested_features", ())),
    )


def _column(payload: dict[str, Any], group: str, column: str, dtype: str, size: int) -> np.ndarray:
    """A recorded column, or, in a part recorded before it existed, its default."""
    found = payload.get(f"{group}.{column}")
    if found is not None:
        return _from_array(found)
    return np.full(size, _ABSENT.get(f"{group}.{column}", 0), dtype=np.dtype(dtype))


def payload_bytes(payload: dict[str, Any]) -> int:
    """Its size as the event store writes it: JSON with buffers as base64 (4/3 of bytes)."""
    buffers = 0

    def blank(value: Any) -> str:
        nonlocal buffers
        if not isinstance(value, bytes):
            raise TypeError(type(value).__name__)
        buffers += (len(value) + 2) // 3 * 4
        return ""

    return len(json.dumps(payload, default=blank)) + buffers


def to_parts(table: MatchTable, max_bytes: int = MAX_PART_BYTES) -> list[dict[str, Any]]:
    """The table as payloads of at most `max_bytes` each, split between data rows."""
    payload = to_payload(table)
    if payload_bytes(payload) <= max_bytes or table.n_rows <= 1:
        return [payload]
    middle = table.n_rows // 2
    return to_parts(table.slice_rows(0, middle), max_bytes) + to_parts(
        table.slice_rows(middle, table.n_rows), max_bytes
    )


def empty_table(confidence_thresholds: Sequence[float], features: Sequence[str]) -> MatchTable:
    columns = {
        name: {column: np.empty(0, dtype=np.dtype(dtype)) for column, dtype in spec}
        for name, spec in GROUPS.items()
    }
    n_bytes = (len(confidence_thresholds) + 7) // 8
    return MatchTable(np.empty(0, dtype="S16"), tuple(confidence_thresholds), tuple(features), (), columns, np.zeros((0, n_bytes), np.uint8))



# -- in the read model: one bytea per part ----------------------------------------------------


def pack(payload: dict[str, Any]) -> bytes:
    """A part as one buffer: a JSON header (plain values, array layouts), then the arrays."""
    header: dict[str, Any] = {}
    buffers: list[bytes] = []
    offset = 0
    for key, value in payload.items():
        if isinstance(value, dict) and "data" in value:
            data = bytes(value["data"])
            header[key] = {"dtype": value["dtype"], "shape": value["shape"], "offset": offset, "size": len(data)}
            buffers.append(data)
            offset += len(data)
        else:
            header[key] = value
    head = json.dumps(header).encode()
    return len(head).to_bytes(4, "little") + head + b"".join(buffers)


def unpack(packed: bytes) -> dict[str, Any]:
    size = int.from_bytes(packed[:4], "little")
    header = orjson.loads(packed[4 : 4 + size])
    body = memoryview(packed)[4 + size :]
    payload: dict[str, Any] = {}
    for key, value in header.items():
        if isinstance(value, dict) and "offset" in value:
            start = value["offset"]
            payload[key] = {"dtype": value["dtype"], "shape": value["shape"], "data": body[start : start + value["size"]]}
        else:
            payload[key] = value
    return payload
