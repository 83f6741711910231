"""The embedding projector's pure part: 2-D reductions (PCA, UMAP) and the compact packing
of vectors and coordinates. No I/O; inputs are float32 arrays."""

from __future__ import annotations

from domain.projector.reductions import (
    Method,
    ReductionParams,
    parse_method,
    pca_2d,
    reduce_vectors,
    sphereize,
    umap_2d,
)

__all__ = [
    "Method",
    "ReductionParams",
    "parse_method",
    "pca_2d",
    "reduce_vectors",
    "sphereize",
    "umap_2d",
]
