"""linear_models: solvers and estimators for the linear models of the papers (numpy/scipy/autograd,
float64).

:mod:`linear_models.factor_analysis` factor analysis under exact inference, mean-field VI and
                                     β-VI: closed-form optima, free energies, ML fits, rotations —
                                     Stühmer et al. 2020, App. B.1–B.6 (eqs 13–17)
:mod:`linear_models.ica`             over-complete linear ICA under mean-field VI and β-VI: free
                                     energy by Gauss–Hermite quadrature, fits, column angles —
                                     Stühmer et al. 2020, sec. 2.4 (Fig 1), App. B.7–B.9
:mod:`linear_models.linear_vae`      the linear β-VAE of Sikka 2020 (eqs 26–47): closed-form
                                     optimum, numerical solution of eq 43, β-sweeps of Fig 3
:mod:`linear_models.uniqueness`      rotation angles, uniqueness data and the Darmois
                                     construction — Kumar & Poole 2020, App. A and C
:mod:`linear_models.estimators`      scikit-learn-style estimators over these solvers, exported
                                     here: :class:`BetaVIFactorAnalysis`,
                                     :class:`BetaVIOvercompleteICA`, :class:`LinearBetaVAE`

Example::

    import numpy as np
    from linear_models import factor_analysis as fa
    W, psi = np.array([[1.0], [0.5]]), np.array([0.3, 0.2])
    mean, cov = fa.exact_posterior(np.array([[0.4, -0.1]]), W, psi)   # eq 15

The closed forms they rest on are derived in :mod:`theory`.
"""

from linear_models.estimators import BetaVIFactorAnalysis, BetaVIOvercompleteICA, LinearBetaVAE

__all__ = ["BetaVIFactorAnalysis", "BetaVIOvercompleteICA", "LinearBetaVAE"]
