"""Stühmer, Turner & Nowozin 2020, sec. 2.4 and App. B.8: the over-complete ICA setting that the
Fig 1 study and the β sweep share.

Setting (the paper gives none of N, W, ψ; App. B.8 gives K = 3, L = 2, ν = 3.5):

* true W: three unit-norm columns at 20°, 70° and 135° (pairwise angles 50°, 65°, 65°, so
  no pair is orthogonal and the frame is not the equiangular one);
* ψ = (0.1, 0.1) (isotropic noise, so angles in x-space are the angles that matter for the
  posterior coupling :math:`w_j^\\top D^{-1} w_k`), σ = 1, ν = 3.5.

A component is called pruned when its norm is below 1% of the largest. The math lives in
:mod:`linear_models.ica`.
"""

from __future__ import annotations

import numpy as np

PAPER = "Stühmer, Turner & Nowozin 2020 (AISTATS)"
TRUE_DIRECTIONS = (20.0, 70.0, 135.0)
PSI = (0.1, 0.1)
NU = 3.5
SCALE = 1.0
PRUNE_RATIO = 1e-2


def true_model():
    """True W (2, 3), ψ (2,) of the studies (documented in the module docstring)."""
    a = np.radians(TRUE_DIRECTIONS)
    return np.vstack([np.cos(a), np.sin(a)]), np.array(PSI)
