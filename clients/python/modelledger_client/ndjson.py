"""NDJSON lines of a file or an iterable, numbered the way the caller sees them, and cut
into request-sized chunks without holding more than one chunk in memory."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Hashable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modelledger_client.errors import LineError, ValidationError

# Rows as dicts in the NDJSON line format, or the path of an .ndjson file.
Source = Iterable[dict[str, Any]] | str | os.PathLike[str]


@dataclass(frozen=True)
class Line:
    """One JSON document; `number` is its line in the caller's file (blank lines counted)
    or its position in the caller's iterable, from 1."""

    number: int
    data: bytes

    def json(self) -> Any:
        """The parsed line, or None if it is not JSON (the server names that error)."""
        try:
            return json.loads(self.data)
        except ValueError:
            return None


def numbered_lines(source: Source) -> Iterator[Line]:
    if isinstance(source, str | os.PathLike):
        return _file_lines(Path(source))
    return (Line(number, _encode(row, number)) for number, row in enumerate(source, 1))


def source_length(source: Source) -> int | None:
    """How many lines a sized iterable holds, for the progress bar; a file is not read twice."""
    if isinstance(source, str | os.PathLike):
        return None
    return len(source) if hasattr(source, "__len__") else None


def _file_lines(path: Path) -> Iterator[Line]:
    with path.open("rb") as file:
        for number, raw in enumerate(file, 1):
            data = raw.strip()
            if data:
                yield Line(number, data)


def _encode(row: Any, number: int) -> bytes:
    try:
        return json.dumps(row, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()
    except (TypeError, ValueError) as exc:
        raise ValidationError("a line cannot be sent as JSON", (LineError(number, str(exc)),)) from None


def body(lines: list[Line]) -> bytes:
    return b"\n".join(line.data for line in lines) + b"\n"


def chunks(
    lines: Iterable[Line],
    max_lines: int,
    max_bytes: int,
    group: Callable[[Line], Hashable] | None = None,
) -> Iterator[list[Line]]:
    """Chunks of at most `max_lines` lines and about `max_bytes` bytes (a longer line goes
    alone). With `group`, consecutive lines of one group stay in one chunk, and a group that
    comes back after its chunk was cut is refused: the server replaces a group (a row's
    predictions) with what one request holds, so a split group would lose its first part."""
    chunk: list[Line] = []
    size = 0
    keys: set[Hashable] = set()
    closed: set[Hashable] = set()
    last: Hashable = None
    for line in lines:
        key = group(line) if group is not None else None
        full = chunk and (len(chunk) >= max_lines or size + len(line.data) > max_bytes)
        if full and (group is None or key != last):
            closed |= keys
            yield chunk
            chunk, size, keys = [], 0, set()
        if key is not None and key in closed:
            raise ValidationError(
                "an upload's lines of one data row must be consecutive",
                (LineError(line.number, f"data row {key} was sent in an earlier chunk; put its lines together"),),
            )
        chunk.append(line)
        size += len(line.data) + 1
        if key is not None:
            keys.add(key)
        last = key
    if chunk:
        yield chunk


def data_row_key(line: Line) -> Hashable:
    """The data row a prediction line names (None when the line names none)."""
    parsed = line.json()
    row = parsed.get("dataRow") if isinstance(parsed, dict) else None
    return json.dumps(row, sort_keys=True) if isinstance(row, dict) else None
