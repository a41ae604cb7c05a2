"""The sympy derivation (theory.factor_analysis) against the numpy closed forms."""

import numpy as np
import pytest

from linear_models import factor_analysis as fa
from theory.factor_analysis import lambdified


@pytest.mark.parametrize("L,K", [(2, 2), (3, 2), (2, 3)])
@pytest.mark.parametrize("beta", [1.0, 0.5, 4.0])
def test_symbolic_equals_closed_form(L, K, beta, rng):
    f = lambdified(L, K)
    for _ in range(3):
        W = rng.normal(size=(L, K))
        psi = rng.uniform(0.2, 2.0, size=L)
        x = rng.normal(size=L)
        m = rng.normal(size=K)
        s = rng.uniform(0.1, 2.0, size=K)
        M = 1.0 / beta
        terms = fa.elbo_terms(x[None], W, psi, m[None], s)
        np.testing.assert_allclose(f["reconstruction"](x, W, psi, m, s, M), terms["reconstruction"], rtol=1e-12)
        np.testing.assert_allclose(f["kl"](x, W, psi, m, s, M), terms["kl"], rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(f["free_energy_eq16"](x, W, psi, m, s, M),
                                   fa.elbo(x[None], W, psi, m[None], s, beta, normalisation="eq16"), rtol=1e-12)
        np.testing.assert_allclose(f["precision"](x, W, psi, m, s, M), fa.posterior_precision(W, psi, beta), rtol=1e-12)
        mean, _ = fa.exact_posterior(x[None], W, psi, beta)
        np.testing.assert_allclose(f["mean"](x, W, psi, m, s, M), mean[0], rtol=1e-10, atol=1e-12)
        mf_mean, mf_var = fa.meanfield_optimum(x[None], W, psi, beta)
        np.testing.assert_allclose(f["mf_mean"](x, W, psi, m, s, M), mf_mean[0], rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(f["mf_var"](x, W, psi, m, s, M), mf_var, rtol=1e-12)


def test_mean_as_printed_in_appendix_b2_is_wrong(rng):
    """App. B.2 prints Σ̃⁻¹ M WᵀD⁻¹x for the β-posterior mean; the derivation gives Σ̃ M WᵀD⁻¹x."""
    f = lambdified(2, 2)
    W, psi, x = rng.normal(size=(2, 2)), np.array([0.3, 0.7]), rng.normal(size=2)
    printed = f["mean_as_printed"](x, W, psi, [0, 0], [1, 1], 1.0)
    derived = f["mean"](x, W, psi, [0, 0], [1, 1], 1.0)
    assert np.max(np.abs(printed - derived)) > 1e-2
    lam = fa.posterior_precision(W, psi)
    np.testing.assert_allclose(derived, np.linalg.solve(lam, W.T @ (x / psi)), rtol=1e-12)
