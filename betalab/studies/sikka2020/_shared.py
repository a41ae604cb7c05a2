"""Sikka 2020 (thesis): what the studies of the paper share — the paper's tag, the thesis setting
of the analytically tractable linear β-VAE (Methods, "Constructing an Analytically Tractable
β-VAE": N = 128, k = 2) and the β-grid helpers of the linear studies.

The math lives in :mod:`theory.linear_vae` and :mod:`linear_models.linear_vae`.
"""

from __future__ import annotations

import numpy as np
from scipy import optimize

PAPER = "Sikka 2020"
N_THESIS, K_THESIS = 128, 2


def _betas(n: int, lo: float = 0.05, hi: float = 200.0) -> np.ndarray:
    """Log-spaced β grid that contains β = 1 exactly."""
    return np.unique(np.concatenate([np.geomspace(lo, hi, n), [1.0]]))


def _nonincreasing(y, atol=1e-10) -> tuple[bool, float]:
    d = np.diff(y)
    return bool(np.all(d <= atol)), float(d.max())


def _refine_min(f, betas, values):
    """Refine the grid minimiser of f(β) by bounded scalar minimisation in log β."""
    i = int(np.argmin(values))
    lo, hi = betas[max(i - 1, 0)], betas[min(i + 1, len(betas) - 1)]
    res = optimize.minimize_scalar(lambda t: f(np.exp(t)), bounds=(np.log(lo), np.log(hi)),
                                   method="bounded", options=dict(xatol=1e-10))
    return float(np.exp(res.x)), float(res.fun)


def _plt():
    import matplotlib.pyplot as plt

    return plt
