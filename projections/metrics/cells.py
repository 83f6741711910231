"""The (data row, feature) cells of a run's results: the distinct keys and where any key is.

RunResults (results.py) counts every figure per cell, so each annotation, prediction and
pair is placed in its cell once, when the run is loaded. Up to DENSE_CELLS possible cells
they are found with a flag per possible cell; past that, by sorting the keys.
"""

from __future__ import annotations

import numpy as np

# Up to this many possible cells (rows × features), cells are found with a flag per possible
# cell: a pass over the keys instead of sorting them (0.45 of a 1.5 s load at 100,000 rows).
DENSE_CELLS = 1 << 24


class Cells:
    """The distinct (row, feature) keys, ascending, and the place of any of them among those."""

    def __init__(self, keys: np.ndarray, possible: int) -> None:
        self._place: np.ndarray | None = None
        if possible <= DENSE_CELLS:
            present = np.zeros(possible, dtype=bool)
            present[keys] = True
            self.keys = np.flatnonzero(present)
            self._place = np.cumsum(present, dtype=np.int32) - 1
        else:
            self.keys = np.unique(keys)

    def of(self, keys: np.ndarray) -> np.ndarray:
        """The cell of each key (each one of the keys given at the start)."""
        return self._place[keys] if self._place is not None else np.searchsorted(self.keys, keys)
