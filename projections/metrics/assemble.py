"""Many match tables (the parts of a run's chunks) as one, over the run's data rows.

Each part numbers its rows and features on its own; assembling maps them onto the run's
row order and one feature axis (the union, in the order the parts list them), and drops
the rows a part no longer speaks for (superseded by a newer version, or removed).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from projections.metrics.match_table import GROUPS, MatchTable, empty_table
from projections.row_keys import row_keys


def union(names: Sequence[Sequence[str]]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(name for group in names for name in group))


def assemble(
    tables: Sequence[MatchTable],
    keys: np.ndarray | list[str],
    positions: Sequence[np.ndarray] | None = None,
    thresholds: Sequence[float] | None = None,
) -> MatchTable:
    """One table over these rows (keys, or ids): positions[i] gives, per row of tables[i], its
    row number there, or -1 to leave it out (by default, found by key)."""
    if isinstance(keys, list):
        keys = row_keys(keys)
    if positions is None:
        index = {k: i for i, k in enumerate(keys.tolist())}
        positions = [np.asarray([index.get(k, -1) for k in t.row_keys.tolist()], dtype=np.int64) for t in tables]
    if thresholds is None:
        thresholds = tables[0].confidence_thresholds if tables else ()
    features = union([t.features for t in tables])
    text_features = union([t.text_features for t in tables])
    if not tables:
        return replace(empty_table(thresholds, features), row_keys=keys)
    feature_index = {f: i for i, f in enumerate(features)}
    text_index = {f: i for i, f in enumerate(text_features)}
    gathered: dict[str, dict[str, list[np.ndarray]]] = {
        name: {column: [] for column, _ in spec} for name, spec in GROUPS.items()
    }
    taken: list[np.ndarray] = []
    for table, position in zip(tables, positions, strict=True):
        if tuple(table.confidence_thresholds) != tuple(thresholds):
            raise ValueError("match tables of different confidence thresholds cannot be combined")
        position = np.asarray(position, dtype=np.int64)
        matched = np.asarray([feature_index[f] for f in table.features], dtype=np.int32)
        texts = np.asarray([text_index[f] for f in table.text_features], dtype=np.int32)
        for name, group in table.columns.items():
            rows = position[group["row"]] if group["row"].size else np.empty(0, dtype=np.int64)
            keep = rows >= 0
            out = gathered[name]
            for column, values in group.items():
                if column == "row":
                    out[column].append(rows[keep].astype(np.int32))
                elif column in ("gt", "pred", "feature"):
                    lookup = texts if name.startswith("text_") else matched
                    out[column].append(lookup[values[keep]] if values.size else values[keep])
                else:
                    out[column].append(values[keep])
            if name == "pair":
                taken.append(table.taken[keep])
    columns = {
        name: {column: np.concatenate(parts) for column, parts in group.items()}
        for name, group in gathered.items()
    }
    return MatchTable(
        row_keys=keys,
        confidence_thresholds=tuple(thresholds),
        features=features,
        text_features=text_features,
        columns=columns,
        taken=np.concatenate(taken),
        nested_features=union([t.nested_features for t in tables]),
    )
