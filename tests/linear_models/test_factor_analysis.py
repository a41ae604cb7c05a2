"""Factor analysis closed forms against independent oracles (Stühmer et al. 2020, App. B)."""

import numpy as np
import pytest
from scipy.stats import multivariate_normal

from linear_models import factor_analysis as fa


def _problem(rng, n=40, L=3, K=2):
    W = rng.normal(size=(L, K))
    psi = rng.uniform(0.2, 1.5, size=L)
    X = rng.multivariate_normal(np.zeros(L), W @ W.T + np.diag(psi), size=n)
    return X, W, psi


def test_log_likelihood_matches_scipy_and_sklearn(rng):
    from sklearn.decomposition import FactorAnalysis

    X, W, psi = _problem(rng)
    ll = fa.log_likelihood(X, W, psi)
    oracle = multivariate_normal(np.zeros(3), W @ W.T + np.diag(psi)).logpdf(X).sum()
    np.testing.assert_allclose(ll, oracle, rtol=1e-12)
    sk = FactorAnalysis(n_components=2)
    sk.components_, sk.noise_variance_, sk.mean_ = W.T.copy(), psi.copy(), np.zeros(3)
    np.testing.assert_allclose(ll, sk.score(X) * X.shape[0], rtol=1e-10)


def test_closed_form_elbo_matches_monte_carlo(rng):
    X, W, psi = _problem(rng, n=5)
    means = rng.normal(size=(5, 2))
    var = rng.uniform(0.1, 1.0, size=(5, 2))
    beta = 2.5
    S = 200_000
    z = means[None] + np.sqrt(var)[None] * rng.normal(size=(S, 5, 2))
    r = X[None] - z @ W.T
    loglik = -0.5 * np.sum(r**2 / psi + np.log(2 * np.pi * psi), axis=(1, 2))
    log_q = -0.5 * np.sum((z - means) ** 2 / var + np.log(2 * np.pi * var), axis=(1, 2))
    log_p = -0.5 * np.sum(z**2 + np.log(2 * np.pi), axis=(1, 2))
    samples = loglik - beta * (log_q - log_p)
    se = samples.std(ddof=1) / np.sqrt(S)
    exact = fa.elbo(X, W, psi, means, var, beta)
    assert abs(samples.mean() - exact) < 4 * se


def test_gradient_matches_finite_differences(rng):
    X, W, psi = _problem(rng)
    for beta in (1.0, 3.0):
        g = fa.free_energy_grad(X, W, psi, beta)
        h = 1e-6
        num = np.zeros_like(W)
        for idx in np.ndindex(W.shape):
            e = np.zeros_like(W)
            e[idx] = h
            num[idx] = (fa.free_energy(X, W + e, psi, beta) - fa.free_energy(X, W - e, psi, beta)) / (2 * h)
        np.testing.assert_allclose(g, num, rtol=1e-6, atol=1e-6)


def test_elbo_is_a_bound_tight_exactly_at_the_posterior(rng):
    X, W, psi = _problem(rng)
    ll = fa.log_likelihood(X, W, psi)
    for _ in range(20):  # random mean-field q: strictly below
        q_mean = rng.normal(size=(X.shape[0], 2))
        q_var = rng.uniform(0.05, 3.0, size=(X.shape[0], 2))
        assert fa.elbo(X, W, psi, q_mean, q_var) < ll
    mean, cov = fa.exact_posterior(X, W, psi)  # exact posterior (full covariance): equality
    np.testing.assert_allclose(fa.elbo(X, W, psi, mean, cov, full=True), ll, rtol=1e-12)
    # mean-field optimum: strict gap unless WᵀΨ⁻¹W is diagonal
    assert fa.free_energy(X, W, psi) < ll - 1e-6
    U, _ = np.linalg.qr(rng.normal(size=(3, 2)))
    W_orth = np.sqrt(psi)[:, None] * U * np.array([1.7, 0.6])  # Ψ^{-1/2} W has orthogonal columns
    np.testing.assert_allclose(fa.free_energy(X, W_orth, psi), fa.log_likelihood(X, W_orth, psi), rtol=1e-12)


def test_meanfield_optimum_beats_perturbations(rng):
    X, W, psi = _problem(rng, n=10)
    for beta in (0.5, 1.0, 5.0):
        m, v = fa.meanfield_optimum(X, W, psi, beta)
        best = fa.elbo(X, W, psi, m, v, beta)
        for _ in range(20):
            dm = 1e-3 * rng.normal(size=m.shape)
            dv = np.exp(1e-3 * rng.normal(size=(X.shape[0], 2)))
            assert fa.elbo(X, W, psi, m + dm, v[None] * dv, beta) < best


def test_closed_form_gap_decomposition(rng):
    X, W, psi = _problem(rng)
    for beta in (0.25, 1.0, 2.0, 7.0):
        np.testing.assert_allclose(fa.free_energy_closed_form(X, W, psi, beta),
                                   fa.free_energy(X, W, psi, beta), rtol=1e-12)
    gap = fa.log_likelihood(X, W, psi) - fa.free_energy(X, W, psi)
    np.testing.assert_allclose(gap, X.shape[0] * fa.meanfield_kl_per_point(W, psi), rtol=1e-10)


def test_beta_vi_is_vi_on_replicated_observations(rng):
    """App. B.1: for β = 1/M, F_β/β is the VI free energy of M copies of each observation."""
    X, W, psi = _problem(rng, n=15)
    for M in (2, 3):
        Xr, Wr, psir = np.tile(X, M), np.vstack([W] * M), np.tile(psi, M)
        np.testing.assert_allclose(fa.free_energy(X, W, psi, beta=1 / M, normalisation="eq16"),
                                   fa.free_energy(Xr, Wr, psir), rtol=1e-12)


def test_eq16_as_printed(rng):
    """Eq 16 written with the recognition weights R and the data moments equals elbo()/β."""
    X, W, psi = _problem(rng)
    n, K, beta = X.shape[0], 2, 3.0
    D_inv = np.diag(1 / psi)
    m, var = fa.meanfield_optimum(X, W, psi, beta)
    Sq = np.diag(var)
    R = np.linalg.inv(fa.posterior_precision(W, psi, beta)) @ (W.T @ D_inv) / beta
    mom = X.T @ X / n  # Σ_x + μ_x μ_xᵀ
    recon = -n / (2 * beta) * (np.trace((D_inv - 2 * R.T @ W.T @ D_inv + R.T @ W.T @ D_inv @ W @ R) @ mom)
                               + np.linalg.slogdet(2 * np.pi * np.diag(psi))[1] + np.trace(W.T @ D_inv @ W @ Sq))
    kl = -n / 2 * (K + np.linalg.slogdet(Sq)[1] - np.trace(Sq) - np.trace(R.T @ R @ mom))
    np.testing.assert_allclose(recon - kl, fa.free_energy(X, W, psi, beta, normalisation="eq16"), rtol=1e-12)


def test_em_fit_is_monotone_and_maximal(rng):
    from sklearn.decomposition import FactorAnalysis

    X, _, _ = _problem(rng, n=300, L=4, K=2)
    X = X - X.mean(0)  # zero empirical mean: sklearn's mean parameter is then irrelevant
    fit = fa.fit_ml(X, 2, rng=np.random.default_rng(0))
    assert np.all(np.diff(fit.trace) > -1e-9)
    sk = FactorAnalysis(n_components=2, tol=1e-10, max_iter=10_000).fit(X)
    assert fit.log_likelihood >= sk.score(X) * X.shape[0] - 1e-3


@pytest.mark.parametrize("kwargs,match", [
    (dict(psi=np.array([1.0, -1.0, 1.0])), "psi"),
    (dict(psi=np.array([1.0, 1.0])), "psi"),
    (dict(W=np.ones((2, 2)), psi=np.ones(2)), "X"),
    (dict(X=np.full((3, 3), np.nan)), "X"),
    (dict(beta=0.0), "beta"),
    (dict(W=np.ones(3)), "W"),
])
def test_bad_input_raises_naming_parameter(kwargs, match):
    args = dict(X=np.ones((4, 3)), W=np.ones((3, 2)), psi=np.ones(3), beta=1.0)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        fa.free_energy(**args)


def test_constructed_data_and_ml_weights(rng):
    """data_with_second_moment hits S exactly; ml_orthogonal_weights is an ML point (EM oracle)."""
    A = rng.normal(size=(3, 3))
    S = A @ A.T + 0.5 * np.eye(3)
    X = fa.data_with_second_moment(S, 50, rng)
    np.testing.assert_allclose(X.T @ X / 50, S, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(X.mean(0), 0.0, atol=1e-12)
    noise = 0.9 * np.linalg.eigvalsh(S).min()
    W = fa.ml_orthogonal_weights(S, noise, K=2)
    G = W.T @ W
    np.testing.assert_allclose(G - np.diag(np.diag(G)), 0.0, atol=1e-12)
    em = fa.fit_ml(X, 2, fix_psi=np.full(3, noise), rng=np.random.default_rng(1), n_iter=20000, tol=1e-14)
    assert fa.log_likelihood(X, W, np.full(3, noise)) >= em.log_likelihood - 1e-6


def test_rotation_gap_special_case_matches_general_formula(rng):
    W, psi = rng.normal(size=(2, 2)), np.full(2, 0.3)
    U, sv, _ = np.linalg.svd(W)
    W_orth = U * sv  # orthogonal columns, same WWᵀ
    a, b = (sv**2 + 0.3) / 0.3
    for theta in np.linspace(0, np.pi, 7):
        Wt = W_orth @ fa.rotation(theta).T
        np.testing.assert_allclose(fa.rotation_gap_per_point(a / b, theta),
                                   fa.meanfield_kl_per_point(Wt, psi), rtol=1e-10, atol=1e-14)
