"""theory: derivations (sympy) and closed forms (numpy/scipy) of the papers' toy models.

No torch, no plotting, no I/O. Each module derives its formulas from the model, names the paper
and equation they come from, and exposes the closed forms as pure functions:

:mod:`theory.factor_analysis`         factor analysis under (β-)VI, derived by sympy —
                                      Stühmer et al. 2020, App. B.1–B.2 (eqs 13–17)
:mod:`theory.implicit_regularization` deterministic approximations of the β-VAE, posterior
                                      covariance ↔ decoder Jacobian, GRAE — Kumar & Poole 2020,
                                      eqs 3–14
:mod:`theory.linear_vae`              the analytically tractable linear β-VAE — Sikka 2020,
                                      eqs 26–47
:mod:`theory.lp_nested`               Lp-nested symmetric distributions and the ISA prior —
                                      Stühmer et al. 2020, sec. 3, eqs 5–11, App. A.1
:mod:`theory.distributions`           the Lp-nested distribution as a scipy.stats-style object,
                                      :class:`LpNestedDistribution` (exported here)

Example::

    from theory.lp_nested import isa_tree, log_prob
    tree = isa_tree(2.1, [(2.2, 4)] * 5)        # the paper's ISA layout: 5 subspaces of 4
    log_prob(np.zeros((1, 20)), tree)           # log density at the origin

Solvers and estimators built on these closed forms are in :mod:`linear_models`; their torch
counterparts in :mod:`deep`.
"""

from theory.distributions import LpNestedDistribution

__all__ = ["LpNestedDistribution"]
