"""The projector's reduction process: started ahead of the first reduction, then reused."""

from __future__ import annotations

import numpy as np
import pytest

from domain.projector import Method, ReductionParams
from domain.projector.reductions import pca_2d, sphereize, umap_2d
from workers import reduction_host
from workers.reduction_host import ReductionHosts


def test_a_prestarted_host_serves_the_first_reduction_and_stays() -> None:
    hosts = ReductionHosts()
    try:
        hosts.prestart()
        hosts.prestart()  # one idle host is enough
        (host,) = hosts._idle  # noqa: SLF001 (what a first reduction would take)
        assert host._process is not None and host._process.is_alive()  # noqa: SLF001
        started = host._process.pid  # noqa: SLF001
        data = np.random.default_rng(3).normal(size=(50, 6)).astype(np.float32)
        result = hosts.reduce(data, ReductionParams(Method.PCA), lambda fraction, stage: None)
        assert np.allclose(result, pca_2d(data), atol=1e-5)
        assert hosts._idle == [host] and host._process.pid == started  # noqa: SLF001
    finally:
        hosts.stop()


@pytest.mark.parametrize("shared", [True, False], ids=["in-memory file", "pickled"])
def test_the_matrix_reaches_the_child_whole_either_way(shared: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    # Sphereized PCA reads every value; a failing job must not keep the next from running.
    if shared and not reduction_host._SHARED:  # noqa: SLF001
        pytest.skip("no anonymous in-memory files on this platform: matrices are pickled")
    monkeypatch.setattr(reduction_host, "_SHARED", shared)
    hosts = ReductionHosts()
    try:
        data = np.random.default_rng(5).normal(size=(2000, 64)).astype(np.float32)
        params = ReductionParams(Method.PCA, sphereize=True)
        assert np.allclose(hosts.reduce(data, params, lambda fraction, stage: None), pca_2d(sphereize(data)), atol=1e-4)
        with pytest.raises(RuntimeError, match="ValueError"):
            hosts.reduce(np.zeros(5, dtype=np.float32), params, lambda fraction, stage: None)
        assert np.allclose(hosts.reduce(data[:7], params, lambda fraction, stage: None), pca_2d(sphereize(data[:7])), atol=1e-4)
    finally:
        hosts.stop()


def test_a_umap_asked_while_the_host_loads_umap_is_the_same() -> None:
    """After its first job a host loads umap-learn in a thread while it serves: a UMAP asked
    for at once (racing that load) lays the points out as the same UMAP in this process."""
    hosts = ReductionHosts()
    try:
        data = np.random.default_rng(11).normal(size=(53, 40)).astype(np.float32)
        data[:20] += 6.0  # two clusters
        hosts.reduce(data, ReductionParams(Method.PCA), lambda fraction, stage: None)
        result = hosts.reduce(data, ReductionParams(Method.UMAP), lambda fraction, stage: None)
        assert result.shape == (53, 2) and np.allclose(result, umap_2d(data), atol=1e-4)
    finally:
        hosts.stop()
