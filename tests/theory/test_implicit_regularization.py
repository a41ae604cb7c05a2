"""Kumar & Poole 2020, eqs 3–14: sympy derivations and numpy closed forms against oracles."""

import numpy as np
import pytest
import sympy as sp
from scipy import optimize, stats

from theory import implicit_regularization as ir


# ----------------------------------------------------------------- sympy derivations


def test_eq5_hessian_chain_rule_is_an_identity():
    assert ir.derive_hessian_chain_rule(2, 2) == sp.zeros(2, 2)
    assert ir.derive_hessian_chain_rule(2, 3) == sp.zeros(2, 2)


def test_eq9_stationary_point_and_eq10_value_symbolically():
    r = ir.derive_optimal_covariance(2)
    assert r["gradient"] == sp.zeros(3, 1)
    assert r["F_at_opt_minus_eq10"] == 0


def test_corrected_taylor_grae_gap_symbolically():
    assert ir.derive_taylor_grae_gap(2)["residual"] == 0


def test_bernoulli_hessian_matches_paper_formula_for_binary_pixels():
    r = ir.derive_bernoulli_hessian()
    assert r["residual_x0"] == 0 and r["residual_x1"] == 0


# ----------------------------------------------------------------- numerical oracles


def _random_case(rng, D=5, d=3):
    J = rng.normal(size=(D, d))
    hd = -rng.uniform(0.5, 2.0, size=D)
    return J, hd


@pytest.mark.parametrize("beta", [0.3, 1.0, 4.0])
def test_eq11_is_the_numerical_argmax_of_eq8(rng, beta):
    J, hd = _random_case(rng)
    H = ir.jacobian_hessian(J, hd)
    mu = rng.normal(size=3)
    d = 3
    tril = np.tril_indices(d)

    def neg(theta):
        L = np.zeros((d, d))
        L[tril] = theta
        L[np.diag_indices(d)] = np.exp(np.diag(L))
        return -ir.taylor_objective(0.0, H, mu, L @ L.T, beta)

    res = optimize.minimize(neg, np.zeros(len(tril[0])), method="BFGS", options={"gtol": 1e-10})
    L = np.zeros((d, d))
    L[tril] = res.x
    L[np.diag_indices(d)] = np.exp(np.diag(L))
    Sigma_num = L @ L.T
    Sigma = ir.optimal_posterior_covariance(J, hd, beta)
    np.testing.assert_allclose(Sigma, Sigma_num, rtol=1e-5, atol=1e-7)
    # its value is eq 12 (the deterministic objective at the optimum)
    np.testing.assert_allclose(-res.fun, ir.deterministic_objective(0.0, J, hd, mu, beta), rtol=1e-9)


def test_eq9_from_hessian_equals_eq11(rng):
    J, hd = _random_case(rng)
    np.testing.assert_allclose(ir.optimal_covariance_from_hessian(ir.jacobian_hessian(J, hd), 0.7),
                               ir.optimal_posterior_covariance(J, hd, 0.7), rtol=1e-12)


def test_eq5_and_eq6_against_finite_difference_hessian(rng):
    # decoder g(z) = tanh(Wz + c): eq 5 has the second term; a linear decoder drops it (eq 6)
    D, d = 4, 2
    W, c, x = rng.normal(size=(D, d)), rng.normal(size=D), rng.normal(size=D)
    z0 = rng.normal(size=d)

    def loglik(z, lin):
        g = W @ z + c if lin else np.tanh(W @ z + c)
        return -0.5 * np.sum((x - g) ** 2)

    def fd_hess(f, z, h=1e-4):
        E = np.eye(d) * h
        return np.array([[(f(z + E[i] + E[j]) - f(z + E[i] - E[j]) - f(z - E[i] + E[j])
                           + f(z - E[i] - E[j])) / (4 * h * h) for j in range(d)] for i in range(d)])

    H_lin = fd_hess(lambda z: loglik(z, True), z0)
    np.testing.assert_allclose(ir.jacobian_hessian(W, None), H_lin, rtol=1e-6, atol=1e-6)
    a = W @ z0 + c
    t = np.tanh(a)
    J = (1 - t**2)[:, None] * W
    grad_g = x - t  # ∇_g log N(x; g, I)
    second = sum(grad_g[k] * (-2 * t[k] * (1 - t[k] ** 2)) * np.outer(W[k], W[k]) for k in range(D))
    H_tanh = fd_hess(lambda z: loglik(z, False), z0)
    np.testing.assert_allclose(ir.jacobian_hessian(J, None) + second, H_tanh, rtol=1e-6, atol=1e-6)


def test_bernoulli_hess_diag_against_finite_differences(rng):
    x = rng.integers(0, 2, size=6).astype(float)
    p = rng.uniform(0.1, 0.9, size=6)
    h = 1e-4
    f = lambda q: x * np.log(q) + (1 - x) * np.log(1 - q)  # noqa: E731
    fd = (f(p + h) - 2 * f(p) + f(p - h)) / h**2
    np.testing.assert_allclose(ir.bernoulli_hess_diag(x, p), fd, rtol=1e-5)
    np.testing.assert_allclose(ir.bernoulli_hess_diag(x, p), -1 / (1 - x - p) ** 2, rtol=1e-12)


@pytest.mark.parametrize("beta", [0.25, 1.0, 3.0])
def test_linear_gaussian_decoder_taylor_is_exact_and_equals_grae_at_optimum(rng, beta):
    # g(z) = Az + b with N(x; g, I): log p(x|z) is quadratic, so eq 3 has no remainder.
    D, d = 4, 2
    A, b, x = rng.normal(size=(D, d)), rng.normal(size=D), rng.normal(size=D)
    mu = rng.normal(size=d)
    Lc = np.tril(rng.normal(size=(d, d))) * 0.5 + np.eye(d) * 0.6
    Sigma = Lc @ Lc.T
    logp = lambda z: stats.multivariate_normal(np.zeros(D), np.eye(D)).logpdf(x - z @ A.T - b)  # noqa: E731
    # Monte Carlo oracle of the β-VAE objective (eq 2)
    n = 200_000
    zs = rng.multivariate_normal(mu, Sigma, size=n)
    lp = logp(zs)
    kl_mc = np.mean(stats.multivariate_normal(mu, Sigma).logpdf(zs)
                    - stats.multivariate_normal(np.zeros(d), np.eye(d)).logpdf(zs))
    mc = lp.mean() - beta * ir.gaussian_kl(mu, Sigma)
    se = lp.std() / np.sqrt(n)
    taylor = ir.taylor_objective(logp(mu), ir.jacobian_hessian(A, None), mu, Sigma, beta)
    assert abs(mc - taylor) < 4 * se
    assert abs(kl_mc - ir.gaussian_kl(mu, Sigma)) < 0.02
    # at Σ* the Taylor objective equals the deterministic objective (eq 12) = −GRAE (eq 13) + const
    S_opt = ir.optimal_posterior_covariance(A, None, beta)
    t_opt = ir.taylor_objective(logp(mu), ir.jacobian_hessian(A, None), mu, S_opt, beta)
    det = ir.deterministic_objective(logp(mu), A, None, mu, beta)
    np.testing.assert_allclose(t_opt, det, rtol=1e-12)
    grae = ir.grae_loss(x, A @ mu + b, mu, A, beta)
    np.testing.assert_allclose(-det, grae + D / 2 * np.log(2 * np.pi), rtol=1e-12)


def test_gap_is_beta_times_gaussian_kl_and_vanishes_at_eq11(rng):
    J, hd = _random_case(rng, D=6, d=3)
    beta = 0.8
    mu = rng.normal(size=3)
    B = rng.normal(size=(3, 3))
    Sigma = B @ B.T + 0.2 * np.eye(3)
    H = ir.jacobian_hessian(J, hd)
    gap = ir.taylor_grae_gap(J, hd, Sigma, beta)
    direct = (ir.deterministic_objective(0.0, J, hd, mu, beta)
              - ir.taylor_objective(0.0, H, mu, Sigma, beta))
    np.testing.assert_allclose(gap, direct, rtol=1e-10)
    # independent oracle: KL(N(0,Σ) ‖ N(0,M⁻¹)) by Monte Carlo (scipy logpdfs)
    M_inv = ir.optimal_posterior_covariance(J, hd, beta)
    zs = rng.multivariate_normal(np.zeros(3), Sigma, size=200_000)
    diff = (stats.multivariate_normal(np.zeros(3), Sigma).logpdf(zs)
            - stats.multivariate_normal(np.zeros(3), M_inv).logpdf(zs))
    assert abs(beta * diff.mean() - gap) < 4 * beta * diff.std() / np.sqrt(len(zs))
    assert gap > 0
    np.testing.assert_allclose(ir.taylor_grae_gap(J, hd, M_inv, beta), 0.0, atol=1e-12)


def test_hadamard_and_frobenius_bound_the_exact_regularizer(rng):
    for _ in range(20):
        J, hd = _random_case(rng)
        beta = rng.uniform(0.1, 3)
        exact = ir.grae_regularizer(J, hd, beta)
        assert ir.hadamard_bound(J, hd, beta) >= exact - 1e-12
        assert ir.frobenius_regularizer(J, hd, beta) >= exact - 1e-12
    # equality for orthogonal columns (Gaussian observations)
    Q, _ = np.linalg.qr(rng.normal(size=(6, 3)))
    J = Q * np.array([0.5, 2.0, 3.0])
    np.testing.assert_allclose(ir.hadamard_bound(J, None, 0.7), ir.grae_regularizer(J, None, 0.7),
                               rtol=1e-12)
    # first order: the ratio -> 1 when the singular values are far below sqrt(beta)
    J = 1e-4 * rng.normal(size=(6, 3))
    np.testing.assert_allclose(ir.frobenius_regularizer(J, None, 1.0),
                               ir.grae_regularizer(J, None, 1.0), rtol=1e-7)


def test_batched_shapes(rng):
    J = rng.normal(size=(7, 5, 3))
    assert ir.optimal_posterior_covariance(J, None, 1.0).shape == (7, 3, 3)
    assert ir.grae_regularizer(J, None, 1.0).shape == (7,)
    np.testing.assert_allclose(ir.grae_regularizer(J, None, 1.0)[2],
                               ir.grae_regularizer(J[2], None, 1.0))


def test_bad_inputs_name_the_parameter(rng):
    J = rng.normal(size=(5, 3))
    for beta in (0.0, -1.0, np.nan):
        with pytest.raises(ValueError, match="beta"):
            ir.optimal_posterior_covariance(J, None, beta)
    with pytest.raises(ValueError, match="hess_diag"):
        ir.optimal_posterior_covariance(J, -np.ones(4), 1.0)
    with pytest.raises(ValueError, match="hess_diag"):
        ir.optimal_posterior_covariance(J, np.full(5, np.nan), 1.0)
    with pytest.raises(ValueError, match="hess_diag"):
        ir.optimal_posterior_covariance(J, np.ones(5), 1.0)
    J_bad = J.copy()
    J_bad[0, 0] = np.inf
    with pytest.raises(ValueError, match="J"):
        ir.optimal_posterior_covariance(J_bad, None, 1.0)
    with pytest.raises(ValueError, match="J"):
        ir.optimal_posterior_covariance(np.ones(3), None, 1.0)
    with pytest.raises(ValueError, match="Sigma"):
        ir.taylor_grae_gap(J, None, -np.eye(3), 1.0)
    with pytest.raises(ValueError, match="probs"):
        ir.bernoulli_hess_diag(np.ones(3), np.array([0.0, 0.5, 0.5]))
