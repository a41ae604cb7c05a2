"""Latent responses to the generative factors: the measurements behind Higgins et al. 2017,
Fig. 6.

Fig. 6 (sec. 4.2) shows, for a β-VAE (β = 4) on 2D shapes, the mean activation of each latent
as a function of position, scale and rotation, per shape, and observes that a rotation latent
oscillates with the symmetry of the shape: one period over 2π for the heart, over π for the
ellipse and over π/2 for the square. Turned into numbers:

* :func:`mean_response` — the mean of every latent at each level of one factor, averaged over
  all other factors, optionally separately for each level of a second factor (the shape);
* :func:`dominant_frequency` — for a response over equally spaced levels of a periodic factor
  (orientation: 40 levels over [0, 2π) in dSprites), the harmonic k ≥ 1 of largest amplitude
  of its discrete Fourier transform and that harmonic's share of the non-constant power; the
  response's period is 2π/k (k = 1 heart, 2 ellipse, 4 square);
* :func:`rotation_harmonics` — :func:`dominant_frequency` of one latent's orientation response
  for each shape.

The per-latent mutual information with each factor, Fig. 6's "alignment", is
:func:`deep.metrics.information.mig_histogram`'s ``mi`` matrix.
"""

from __future__ import annotations

__all__ = ["mean_response", "dominant_frequency", "rotation_harmonics"]

import numpy as np

from deep.metrics.information import check_codes_factors
from validation import as_float_array, check_int


def mean_response(codes, factors, factor: int, by: int | None = None) -> np.ndarray:
    """Mean of every latent at each level of factor ``factor`` (averaged over all other
    factors), shape (n_levels, d); with ``by``, one such table per level of factor ``by``:
    shape (n_by_levels, n_levels, d). Levels are the sorted distinct values of the factor column;
    with ``by`` every (by, factor) pair must occur."""
    c, f = check_codes_factors(codes, factors)
    factor = check_int(factor, "factor", low=0, high=f.shape[1] - 1)
    if by is not None:
        by = check_int(by, "by", low=0, high=f.shape[1] - 1)
        if by == factor:
            raise ValueError(f"by must differ from factor ({factor})")
    levels, idx = np.unique(f[:, factor], return_inverse=True)
    groups = np.zeros(len(c), dtype=np.int64) if by is None else \
        np.unique(f[:, by], return_inverse=True)[1].ravel()
    n_groups = int(groups.max()) + 1
    cell = groups * len(levels) + idx.ravel()
    counts = np.bincount(cell, minlength=n_groups * len(levels))
    if np.any(counts == 0):
        raise ValueError("factors: every level of factor must occur with every level of by")
    sums = np.zeros((n_groups * len(levels), c.shape[1]))
    np.add.at(sums, cell, c)
    out = (sums / counts[:, None]).reshape(n_groups, len(levels), c.shape[1])
    return out[0] if by is None else out


def dominant_frequency(response) -> dict:
    """The harmonic of largest amplitude of a response over equally spaced levels of a periodic
    factor covering one full turn (``response`` of shape (n_levels,), n_levels ≥ 3).

    Returns ``k`` (in 1 … n_levels // 2, cycles per full turn; the period is 2π/k), ``share``
    (:math:`|F_k|^2` over the summed :math:`|F_j|^2` of j = 1 … n_levels // 2: 1 for a pure
    harmonic) and ``power`` (the non-constant power per harmonic, shape (n_levels // 2,))."""
    r = as_float_array(response, "response", 1, low=-1e150, high=1e150)
    if r.size < 3:
        raise ValueError(f"response must hold at least 3 levels, got {r.size}")
    power = np.abs(np.fft.rfft(r - r.mean()))[1:r.size // 2 + 1] ** 2
    total = power.sum()
    if total == 0:
        raise ValueError("response is constant: it has no dominant frequency")
    k = int(np.argmax(power)) + 1
    return {"k": k, "share": float(power[k - 1] / total), "power": power}


def rotation_harmonics(codes, factors, latent: int, *, shape_factor: int = 0,
                       rotation_factor: int = 2) -> dict:
    """For each shape (the levels of ``shape_factor``), :func:`dominant_frequency` of latent
    ``latent``'s mean response over the levels of ``rotation_factor`` (dSprites' factor order:
    shape 0, orientation 2). Returns {shape level index: dominant_frequency result}."""
    c, f = check_codes_factors(codes, factors)
    latent = check_int(latent, "latent", low=0, high=c.shape[1] - 1)
    shape_factor = check_int(shape_factor, "shape_factor", low=0, high=f.shape[1] - 1)
    rotation_factor = check_int(rotation_factor, "rotation_factor", low=0, high=f.shape[1] - 1)
    if shape_factor == rotation_factor:
        raise ValueError(f"rotation_factor must differ from shape_factor ({shape_factor})")
    table = mean_response(c, f, rotation_factor, by=shape_factor)       # (shapes, levels, d)
    return {s: dominant_frequency(table[s, :, latent]) for s in range(table.shape[0])}
