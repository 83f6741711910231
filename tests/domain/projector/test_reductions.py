"""The reductions against scikit-learn, and UMAP's neighbourhoods on clustered data."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.decomposition import PCA
from sklearn.manifold import trustworthiness

from domain.errors import ValidationFailed
from domain.projector import (
    Method,
    ReductionParams,
    parse_method,
    pca_2d,
    reduce_vectors,
    sphereize,
    umap_2d,
)


def clustered(points: int, dimension: int, clusters: int, seed: int = 0) -> np.ndarray:
    """Well separated Gaussian blobs: a set whose neighbourhoods a 2-D map can keep."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=10.0, size=(clusters, dimension))
    labels = rng.integers(0, clusters, size=points)
    return (centres[labels] + rng.normal(size=(points, dimension))).astype(np.float32)


def equal_up_to_sign(ours: np.ndarray, theirs: np.ndarray, atol: float) -> bool:
    for column in range(theirs.shape[1]):
        a, b = ours[:, column].astype(np.float64), theirs[:, column].astype(np.float64)
        if not (np.allclose(a, b, atol=atol) or np.allclose(a, -b, atol=atol)):
            return False
    return True


@pytest.mark.parametrize(("points", "dimension"), [(500, 16), (50, 300), (3000, 64)])
def test_pca_equals_scikit_learn_up_to_sign(points: int, dimension: int) -> None:
    vectors = clustered(points, dimension, clusters=5, seed=points)
    expected = PCA(n_components=2, svd_solver="full").fit_transform(vectors.astype(np.float64))
    ours = pca_2d(vectors)
    assert ours.dtype == np.float32 and ours.shape == (points, 2)
    scale = float(np.abs(expected).max())
    assert equal_up_to_sign(ours, expected, atol=1e-4 * scale)


def test_pca_is_not_merely_the_first_two_coordinates() -> None:
    # Guards the comparison above: a wrong reduction must fail it.
    vectors = clustered(400, 8, clusters=3)
    expected = PCA(n_components=2).fit_transform(vectors)
    assert not equal_up_to_sign(vectors[:, :2] - vectors[:, :2].mean(axis=0), expected, atol=1e-3)


def test_pca_pads_when_the_data_has_fewer_than_two_directions() -> None:
    assert pca_2d(np.ones((1, 4), np.float32)).tolist() == [[0.0, 0.0]]
    line = pca_2d(np.arange(5, dtype=np.float32).reshape(5, 1))
    assert np.allclose(np.abs(line[:, 0]), [2, 1, 0, 1, 2]) and not line[:, 1].any()


def test_sphereize_centres_then_normalises_each_vector() -> None:
    vectors = np.array([[1, 2], [3, 2], [2, 5], [2, 2]], dtype=np.float32)  # mean (2, 2.75)
    out = sphereize(vectors)
    centred = vectors - vectors.mean(axis=0)
    assert np.allclose(out, centred / np.linalg.norm(centred, axis=1, keepdims=True))
    assert np.allclose(np.linalg.norm(out, axis=1), 1.0)


def test_sphereize_leaves_a_vector_at_the_mean_at_zero() -> None:
    out = sphereize(np.array([[1, 1], [3, 3], [2, 2]], dtype=np.float32))
    assert np.isfinite(out).all() and out[2].tolist() == [0.0, 0.0]


def test_sphereized_pca_is_pca_of_the_sphereized_vectors() -> None:
    vectors = clustered(300, 10, clusters=4) + 5.0
    ours = reduce_vectors(vectors, ReductionParams(Method.PCA, sphereize=True))
    expected = PCA(n_components=2).fit_transform(sphereize(vectors))
    assert equal_up_to_sign(ours, expected, atol=1e-4)
    assert not equal_up_to_sign(ours, pca_2d(vectors), atol=1e-2)


def test_umap_keeps_neighbourhoods_of_a_clustered_set() -> None:
    vectors = clustered(1500, 32, clusters=8, seed=3)
    layout = umap_2d(vectors)
    assert layout.shape == (1500, 2) and np.isfinite(layout).all()
    assert trustworthiness(vectors, layout, n_neighbors=10) >= 0.9


def test_umap_of_random_coordinates_would_fail_the_trustworthiness_bar() -> None:
    # The threshold above is not one any 2-D picture passes.
    vectors = clustered(1500, 32, clusters=8, seed=3)
    noise = np.random.default_rng(0).normal(size=(1500, 2))
    assert trustworthiness(vectors, noise, n_neighbors=10) < 0.9


def test_umap_gives_the_same_picture_for_the_same_input() -> None:
    vectors = clustered(300, 80, clusters=4, seed=5)  # wider than UMAP's input: PCA first
    first = reduce_vectors(vectors, ReductionParams(Method.UMAP))
    again = reduce_vectors(vectors.copy(), ReductionParams(Method.UMAP))
    assert np.array_equal(first, again)


def test_umap_of_a_handful_of_points_falls_back_to_pca() -> None:
    vectors = clustered(4, 6, clusters=2)
    assert np.array_equal(umap_2d(vectors), pca_2d(vectors))


def test_methods_parse_in_either_case_and_reject_others() -> None:
    assert parse_method("umap") is Method.UMAP and parse_method("PCA") is Method.PCA
    with pytest.raises(ValidationFailed, match="tsne"):
        parse_method("tsne")


FRESH_PROCESS_UMAP = """
import hashlib, sys
import numpy as np
from domain.projector import umap_2d
points = np.random.default_rng(3).normal(size=(60, 8)).astype(np.float32)
print(hashlib.sha256(umap_2d(points).tobytes()).hexdigest())
"""


def test_umap_s_compiled_kernels_are_cached_on_disk_and_give_the_same_picture(tmp_path: Path) -> None:
    """A fresh process reuses what an earlier one compiled (numba's cache, here in
    NUMBA_CACHE_DIR) instead of compiling umap-learn's kernels again, and draws the same."""
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}
    root = Path(__file__).resolve().parents[3]

    def run() -> str:
        done = subprocess.run([sys.executable, "-c", FRESH_PROCESS_UMAP], env=env, cwd=root, capture_output=True, text=True, check=True)
        return done.stdout.strip()

    first = run()
    cached = {p.name for p in tmp_path.rglob("*.nbi")}
    # umap-learn's own kernels (not only those it declares cached) are on disk.
    assert any(name.startswith("umap_.smooth_knn_dist") for name in cached), sorted(cached)[:20]
    assert any(name.startswith("umap_.compute_membership_strengths") for name in cached)
    files = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*.nbc")}
    assert run() == first
    # The second process loaded them: nothing was compiled and written again.
    assert {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*.nbc")} == files
