"""The ground-truth-data protocol shared by datasets and disentanglement metrics.

A ground-truth dataset is a full Cartesian grid of ``K`` discrete factors of
variation (Higgins et al. 2017, sec. 3 and sec. 4.2: "the Cartesian product of
the shape and four independent generative factors"); every grid point renders
to exactly one image.  Metrics need only four things from it: the factor sizes,
a way to sample factor vectors, a way to render them, and the index <-> factor
bijection.  Anything implementing :class:`GroundTruthData` can be scored.

The bijection is the row-major (C-order) mixed-radix one used by the original
dSprites archive (Matthey et al. 2017): for sizes ``(S_1, ..., S_K)``

.. math::  i = \\sum_k v_k \\prod_{l > k} S_l, \\qquad 0 \\le v_k < S_k.
"""

from __future__ import annotations

__all__ = ["GroundTruthData", "check_factor_sizes", "check_factors", "index_of",
           "factors_of", "sample_uniform_factors", "full_grid"]

from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class GroundTruthData(Protocol):
    """What a metric may ask of a dataset."""

    factor_sizes: tuple[int, ...]
    factor_names: tuple[str, ...]

    def __len__(self) -> int: ...

    def sample_factors(self, n: int, rng: np.random.Generator) -> np.ndarray: ...

    def render(self, factors: np.ndarray) -> np.ndarray: ...

    def index_of(self, factors) -> np.ndarray: ...

    def factors_of(self, index) -> np.ndarray: ...


def check_factor_sizes(factor_sizes) -> tuple[int, ...]:
    """Validate and return ``factor_sizes`` as a tuple of positive ints."""
    try:
        sizes = tuple(factor_sizes)
    except TypeError:
        raise TypeError(f"factor_sizes must be a non-empty sequence of positive ints, got "
                        f"{type(factor_sizes).__name__}") from None
    if not sizes or any(not isinstance(s, (int, np.integer)) or isinstance(s, bool) or s < 1
                        for s in sizes):
        raise ValueError(f"factor_sizes must be a non-empty sequence of positive ints, got {factor_sizes!r}")
    return tuple(int(s) for s in sizes)


def check_factors(factors, factor_sizes, name: str = "factors") -> np.ndarray:
    """Validate an integer factor array of shape (n, K) (or (K,)) against ``factor_sizes``.

    Returns an int64 array of shape (n, K).  Raises TypeError for non-integer
    values (e.g. 1.5) and ValueError for a wrong K or an out-of-range value.
    """
    from deep.metrics.information import check_labels

    factor_sizes = check_factor_sizes(factor_sizes)
    arr = check_labels(factors, name, (1, 2))
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[1] != len(factor_sizes):
        raise ValueError(f"{name} must have shape (n, {len(factor_sizes)}), got {arr.shape}")
    if not np.issubdtype(arr.dtype, np.integer):
        if not np.issubdtype(arr.dtype, np.floating) or not np.all(np.isfinite(arr)) \
                or not np.all(arr == np.round(arr)):
            raise TypeError("factors must be discrete (integer-valued) factor indices")
    arr = arr.astype(np.int64)
    if np.any(arr < 0) or np.any(arr >= np.asarray(factor_sizes)):
        raise ValueError(f"{name} out of range for factor_sizes {tuple(factor_sizes)}")
    return arr


def index_of(factors, factor_sizes) -> np.ndarray:
    """Row-major grid index of each factor vector; factors (n, K) -> (n,) int64."""
    sizes = check_factor_sizes(factor_sizes)
    f = check_factors(factors, sizes)
    return np.ravel_multi_index(tuple(f.T), sizes).astype(np.int64)


def factors_of(index, factor_sizes) -> np.ndarray:
    """Inverse of :func:`index_of`; index (n,) -> factors (n, K) int64."""
    sizes = check_factor_sizes(factor_sizes)
    from deep.metrics.information import check_labels

    idx = np.atleast_1d(check_labels(index, "index", (0, 1)))
    total = int(np.prod(sizes))
    if np.any(idx < 0) or np.any(idx >= total):
        raise ValueError(f"index out of range [0, {total})")
    return np.stack(np.unravel_index(idx, sizes), axis=1).astype(np.int64)


def sample_uniform_factors(n: int, factor_sizes, rng: np.random.Generator) -> np.ndarray:
    """n factor vectors drawn uniformly from the grid; (n, K) int64."""
    if not isinstance(n, (int, np.integer)) or isinstance(n, (bool, np.bool_)) or n < 0:
        raise ValueError(f"n must be a non-negative int, got {n!r}")
    if not isinstance(rng, np.random.Generator):
        raise TypeError("rng must be a numpy.random.Generator")
    sizes = check_factor_sizes(factor_sizes)
    return np.stack([rng.integers(0, s, size=n) for s in sizes], axis=1).astype(np.int64)


def full_grid(factor_sizes) -> np.ndarray:
    """Every factor vector of the grid in index order; (prod(sizes), K) int64."""
    sizes = check_factor_sizes(factor_sizes)
    return factors_of(np.arange(int(np.prod(sizes))), sizes)
