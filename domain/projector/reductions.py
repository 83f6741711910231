"""Reducing embedding vectors to 2-D: PCA (scikit-learn) and UMAP (umap-learn).

Both are deterministic: PCA by construction (scikit-learn fixes the signs of its
components), UMAP by a fixed random_state, so the same request gives the same picture.
"""

from __future__ import annotations

import sys
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
from numpy.typing import NDArray

from domain.errors import ValidationFailed

Float32Array = NDArray[np.float32]

# Fixed so that the same request always gives the same picture.
UMAP_RANDOM_STATE = 42
# UMAP works on at most this many input dimensions: wider vectors are first reduced by PCA.
# The nearest-neighbour search dominates UMAP's cost and grows with the dimension, while
# 50 principal components keep the neighbourhoods of real embeddings (umap-learn's own
# documentation recommends this step for wide data).
UMAP_INPUT_DIMENSIONS = 50
UMAP_NEIGHBOURS = 15
# Below this many points UMAP has no neighbourhood graph worth the name: PCA is used.
UMAP_MIN_POINTS = 5


def umap_epochs(points: int) -> int:
    """Optimisation epochs: umap-learn's own choice (500 up to 10,000 points, 200 above),
    stated here so that another umap-learn release cannot change the pictures silently.
    Measured on 100,000 clustered points, 100 epochs instead of 200 kept the same
    trustworthiness and saved no CPU time worth having: the neighbour graph dominates."""
    return 500 if points <= 10_000 else 200


class Method(StrEnum):
    PCA = "PCA"
    UMAP = "UMAP"


def parse_method(value: str) -> Method:
    try:
        return Method(value.upper())
    except ValueError:
        raise ValidationFailed(f"unknown reduction method {value!r}; expected PCA or UMAP") from None


@dataclass(frozen=True, slots=True)
class ReductionParams:
    method: Method
    sphereize: bool = False

    def to_dict(self) -> dict[str, object]:
        return {"method": self.method.value, "sphereize": self.sphereize}


# Reports how far a reduction got, as a fraction in [0, 1] with a word for the stage.
Progress = Callable[[float, str], None]


def _no_progress(fraction: float, stage: str) -> None:
    pass


def as_float32_matrix(vectors: NDArray[np.floating]) -> Float32Array:
    matrix = np.ascontiguousarray(vectors, dtype=np.float32)
    if matrix.ndim != 2:
        raise ValueError(f"expected a 2-D array of vectors, got shape {matrix.shape}")
    return matrix


def sphereize(vectors: NDArray[np.floating]) -> Float32Array:
    """Subtract the mean, then scale each vector to unit length (a zero vector stays zero)."""
    centred: Float32Array = as_float32_matrix(vectors) - as_float32_matrix(vectors).mean(axis=0, dtype=np.float64).astype(np.float32)
    norms = np.linalg.norm(centred, axis=1, keepdims=True)
    np.divide(centred, norms, out=centred, where=norms > 0)
    return centred


def _pad_to_2d(coordinates: NDArray[np.floating], n: int) -> Float32Array:
    """Two columns even when the data has fewer principal directions (one point, one dim)."""
    out = np.zeros((n, 2), dtype=np.float32)
    width = min(2, coordinates.shape[1]) if coordinates.ndim == 2 else 0
    if width:
        out[:, :width] = coordinates[:, :width]
    return out


def principal_components(vectors: Float32Array, components: int) -> Float32Array:
    """The vectors' coordinates on their first principal components (scikit-learn PCA)."""
    from sklearn.decomposition import PCA

    n, d = vectors.shape
    k = min(components, n, d)
    if k < 1 or n < 2:
        return np.zeros((n, components), dtype=np.float32)
    # The covariance route costs O(n·d² + d³) against the full SVD's O(n·d·min(n, d)): far
    # cheaper for many points of moderate width, and exact for float32 at these sizes.
    solver = "covariance_eigh" if n >= 4 * d else "full"
    result = PCA(n_components=k, svd_solver=solver).fit_transform(vectors)
    return np.ascontiguousarray(result, dtype=np.float32)


def pca_2d(vectors: NDArray[np.floating]) -> Float32Array:
    matrix = as_float32_matrix(vectors)
    return _pad_to_2d(principal_components(matrix, 2), matrix.shape[0])


def _cache_compiled_kernels() -> None:
    """umap-learn and pynndescent compile most of their numba kernels without `cache=True`,
    so every fresh process compiled them again before its first UMAP (about 9 s here). Each
    is given numba's own on-disk cache (beside the package, or in NUMBA_CACHE_DIR): compiled
    once per machine and version, loaded in about a second after that. Same code, same
    results; a kernel numba cannot cache is compiled as before."""
    global _kernels_cached  # noqa: PLW0603 (once per process)
    with _kernels_lock:  # a reduction process loads umap-learn in a thread while it serves
        if _kernels_cached:
            return
        from numba.core.registry import CPUDispatcher

        for name, module in list(sys.modules.items()):
            if module is not None and name.split(".")[0] in ("umap", "pynndescent"):
                for value in list(vars(module).values()):
                    if isinstance(value, CPUDispatcher):
                        value.enable_caching()
        _kernels_cached = True


_kernels_cached = False
_kernels_lock = threading.Lock()


def umap_2d(vectors: NDArray[np.floating], progress: Progress = _no_progress) -> Float32Array:
    matrix = as_float32_matrix(vectors)
    n, d = matrix.shape
    if n < UMAP_MIN_POINTS:
        return pca_2d(matrix)
    if d > UMAP_INPUT_DIMENSIONS:
        progress(0.05, "reducing the dimension")
        matrix = principal_components(matrix, UMAP_INPUT_DIMENSIONS)
    progress(0.1, "finding neighbours")
    import umap  # imported late: it compiles with numba on first use

    _cache_compiled_kernels()

    reducer = umap.UMAP(
        n_neighbors=min(UMAP_NEIGHBOURS, n - 1),
        n_components=2,
        n_epochs=umap_epochs(n),
        random_state=UMAP_RANDOM_STATE,
        # The approximate neighbour search's memory-frugal mode: the default, stated here
        # because a 100,000-point set is the size this is measured at.
        low_memory=True,
        # A fixed random_state makes umap-learn run single-threaded anyway; asking for that
        # avoids its warning.
        n_jobs=1,
        init="spectral",
    )
    with warnings.catch_warnings():
        # Spectral initialisation of a disconnected graph falls back with a warning; the
        # result is still deterministic.
        warnings.simplefilter("ignore")
        result = reducer.fit_transform(matrix)
    progress(0.95, "laid out")
    return np.ascontiguousarray(result, dtype=np.float32)


def load_umap() -> None:
    """Import umap-learn and load its compiled kernels by laying out a few points, so the
    first UMAP asked for does neither (a fresh process's first UMAP of 53 points took 3.2 s,
    its import 3.1 s of it). The projector's reduction process does this after its first job."""
    umap_2d(np.random.default_rng(0).normal(size=(60, UMAP_INPUT_DIMENSIONS)).astype(np.float32))


def reduce_vectors(
    vectors: NDArray[np.floating], params: ReductionParams, progress: Progress = _no_progress
) -> Float32Array:
    """(n, 2) float32 coordinates, one row per input vector, in the input order."""
    matrix = as_float32_matrix(vectors)
    if params.sphereize:
        matrix = sphereize(matrix)
    if params.method is Method.PCA:
        return pca_2d(matrix)
    return umap_2d(matrix, progress)
