"""The projector's reduction process: started ahead of the first reduction, then reused."""

from __future__ import annotations

import numpy as np

from domain.projector import Method, ReductionParams
from domain.projector.reductions import pca_2d
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
