"""Stühmer, Turner & Nowozin 2020, App. B.3 and B.5: the constructed factor-analysis setting that
the rotation (B.3) and β (B.5) studies share.

The math lives in :mod:`linear_models.factor_analysis` and :mod:`theory.factor_analysis`.
"""

from __future__ import annotations

import numpy as np

from linear_models import factor_analysis as fa

PAPER = "Stühmer et al. 2020"
PAPER_LOGLIK, PAPER_F45 = -17.82, -57.16  # App. B.3, the two numbers quoted in the text

# The setting of B.3 is not given in the paper. N and the noise variance are chosen here; the
# two eigenvalues of the data second moment are then solved so that both quoted numbers are
# met (fa.rotation_setting). The data ellipse is tilted by 30° for a readable figure.
ROT_N, ROT_NOISE, ROT_TILT = 100, 0.01, np.deg2rad(30.0)


def rotation_problem(seed: int):
    """The constructed B.3 setting: data X (N, 2), ML weights W (2, 2), psi (2,)."""
    lam1, lam2 = fa.rotation_setting(PAPER_LOGLIK, PAPER_F45, ROT_N, ROT_NOISE)
    U = fa.rotation(ROT_TILT)
    S = U @ np.diag([lam1, lam2]) @ U.T
    X = fa.data_with_second_moment(S, ROT_N, np.random.default_rng([seed, 1]))
    return X, fa.ml_orthogonal_weights(S, ROT_NOISE), np.full(2, ROT_NOISE), (lam1, lam2)


def rotated(W, theta):
    """Latent-space rotation W R(θ)ᵀ: it keeps WWᵀ, hence the likelihood (App. B.2, last line)."""
    return W @ fa.rotation(theta).T


def multiple_of_half_pi(theta, tol=1e-9):
    """Whether each θ is a multiple of π/2 (within ``tol`` in units of π/2)."""
    k = theta / (np.pi / 2)
    return np.abs(k - np.round(k)) < tol
