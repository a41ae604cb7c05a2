"""theory.linear_vae: eq 34, eqs 36–41, eq 44 and eq 45 against sympy derivations and Monte Carlo."""

import numpy as np
import pytest
import sympy as sp

from theory import linear_vae as T


@pytest.fixture(scope="module")
def derived_32():
    return T.derive_averaged_objective(3, 2)


def _random_params(rng, N, k, scale=0.3):
    return T.LinearVAEParams(W_mu=scale * rng.standard_normal((k, N)), b_mu=scale * rng.standard_normal(k),
                             W_sigma=scale * rng.standard_normal((k, N)),
                             b_sigma=scale * rng.standard_normal(k), D=rng.standard_normal((N, k)),
                             b_D=scale * rng.standard_normal(N))


# ------------------------------------------------------------------ sympy (N = 3, k = 2)
def test_lognormal_mgf_is_exp_half_variance():
    mgf, s = T.lognormal_mgf()
    assert sp.simplify(mgf - sp.exp(s**2 / 2)) == 0


def test_eq34_plus_constants_is_the_data_average_of_eq33(derived_32):
    rec, kl, sym = derived_32
    prec, pkl = T.printed_eq34(sym)
    assert sp.simplify(rec - prec) == 0
    assert sp.simplify(kl - pkl) == 0


def test_eq34_at_k1_N2():
    rec, kl, sym = T.derive_averaged_objective(2, 1)
    prec, pkl = T.printed_eq34(sym)
    assert sp.simplify(rec - prec) == 0 and sp.simplify(kl - pkl) == 0


@pytest.mark.parametrize("name,factor", [("W_mu", -1), ("b_mu", -1), ("D", -1), ("b_D", -1),
                                         ("W_sigma", -2), ("b_sigma", -2)])
def test_eqs36_to_41_are_the_gradients_of_eq34(derived_32, name, factor):
    rec, kl, sym = derived_32
    L = rec - sym["beta"] * kl
    printed = T.printed_gradient_conditions(sym)[name]
    M = sym[name]
    grad = sp.Matrix(M.shape[0], M.shape[1], lambda i, j: sp.diff(L, M[i, j]))
    assert sp.simplify(sp.expand(factor * grad - printed)) == sp.zeros(*M.shape)


def test_eq40_as_printed_has_the_wrong_exponent(derived_32):
    rec, kl, sym = derived_32
    L = rec - sym["beta"] * kl
    printed = T.printed_gradient_conditions(sym, eq40_as_printed=True)["W_sigma"]
    M = sym["W_sigma"]
    grad = sp.Matrix(M.shape[0], M.shape[1], lambda i, j: sp.diff(L, M[i, j]))
    # a nonzero value at one rational point proves the two expressions differ
    point = {s_: sp.Rational(j + 1, 7) for j, s_ in enumerate(sorted((-2 * grad - printed).free_symbols, key=str))}
    assert any(abs(float(v)) > 1e-6 for v in (-2 * grad - printed).subs(point))


def test_eq44_is_the_model_posterior():
    residual, _ = T.derive_posterior(3, 2)
    assert residual == sp.zeros(2, 1)


def test_eq45_corrected_matches_derivation_printed_does_not():
    derived, printed, corrected, _ = T.derive_inference_error(3, 2)
    assert sp.simplify(derived - corrected) == 0
    assert sp.simplify(derived - printed) != 0


# ------------------------------------------------------------------ numpy vs sympy / Monte Carlo
def test_numpy_objective_terms_equal_sympy(derived_32, rng):
    rec, kl, sym = derived_32
    N, k = 3, 2
    p = _random_params(rng, N, k)
    B = rng.standard_normal((N, N))
    S = B @ B.T + np.eye(N)
    subs = {}
    for name in ("W_mu", "W_sigma", "D", "b_mu", "b_sigma", "b_D"):
        M, v = sym[name], np.asarray(getattr(p, name)).reshape(sym[name].shape)
        subs.update({M[i, j]: v[i, j] for i in range(M.shape[0]) for j in range(M.shape[1])})
    subs.update({sym["S"][i, j]: S[i, j] for i in range(N) for j in range(N)})
    t = T.objective_terms(p, S)
    np.testing.assert_allclose(t["reconstruction"], float(rec.subs(subs)), rtol=1e-12)
    np.testing.assert_allclose(t["kl"], float(kl.subs(subs)), rtol=1e-12)


def test_objective_terms_against_monte_carlo(rng):
    """Average over x ~ N(0, Σ_x) of the per-x closed forms of E_q log p(x|z) and KL(q‖p)."""
    N, k, n = 5, 2, 400_000
    A = rng.standard_normal((N, k))
    S = T.data_covariance(A)
    p = _random_params(rng, N, k, scale=0.2)
    x = rng.standard_normal((n, N)) @ np.linalg.cholesky(S).T
    mu = x @ p.W_mu.T + p.b_mu
    var = np.exp(x @ p.W_sigma.T + p.b_sigma)
    r = x - mu @ p.D.T - p.b_D
    rec = -0.5 * N * np.log(2 * np.pi) - 0.5 * (r**2).sum(1) - 0.5 * var @ (p.D**2).sum(0)
    kl = 0.5 * (var + mu**2 - 1 - np.log(var)).sum(1)
    t = T.objective_terms(p, S)
    for key, v in (("reconstruction", rec), ("kl", kl)):
        se = v.std() / np.sqrt(n)
        assert abs(v.mean() - t[key]) < 4 * se, (key, v.mean(), t[key], se)


def test_gradients_against_finite_differences(rng):
    N, k, beta, h = 4, 2, 1.7, 1e-6
    B = rng.standard_normal((N, N))
    S = B @ B.T + np.eye(N)
    p = _random_params(rng, N, k)
    g = T.gradients(p, S, beta)
    for field in p._fields:
        arr = np.array(getattr(p, field))
        num = np.zeros_like(arr)
        for idx in np.ndindex(arr.shape):
            for sgn in (1, -1):
                a = arr.copy()
                a[idx] += sgn * h
                num[idx] += sgn * T.objective(p._replace(**{field: a}), S, beta) / (2 * h)
        np.testing.assert_allclose(getattr(g, field), num, rtol=1e-6, atol=1e-7)


def test_posteriors_equal_gaussian_conditioning(rng):
    """Eq 28 / eq 44 against the Schur complement of the joint Gaussian (s, x) (App. 2)."""
    N, k = 6, 3
    A = rng.standard_normal((N, k))
    joint = np.block([[np.eye(k), A.T], [A, A @ A.T + np.eye(N)]])
    Sxx_inv = np.linalg.inv(joint[k:, k:])
    F, E = T.true_posterior(A)
    np.testing.assert_allclose(F, joint[:k, k:] @ Sxx_inv, atol=1e-12)
    np.testing.assert_allclose(E, np.eye(k) - joint[:k, k:] @ Sxx_inv @ joint[k:, :k], atol=1e-12)


def test_app5_printed_posterior_has_incompatible_shapes(rng):
    D = rng.standard_normal((5, 2))
    with pytest.raises(ValueError):
        np.linalg.inv(D @ D.T + np.eye(5)) @ D.T  # App. 5, eq 81 as printed: (N,N)·(k,N)


def test_model_log_likelihood_against_scipy_monte_carlo(rng):
    from scipy.stats import multivariate_normal

    N, k, n = 4, 2, 200_000
    A, D = rng.standard_normal((N, k)), rng.standard_normal((N, k))
    bD = 0.3 * rng.standard_normal(N)
    S = T.data_covariance(A)
    x = rng.multivariate_normal(np.zeros(N), S, size=n)
    v = multivariate_normal(bD, D @ D.T + np.eye(N)).logpdf(x)
    assert abs(v.mean() - T.model_log_likelihood(D, S, bD)) < 4 * v.std() / np.sqrt(n)


def test_inference_error_against_monte_carlo(rng):
    N, k, n = 5, 2, 300_000
    A = rng.standard_normal((N, k))
    S = T.data_covariance(A)
    p = _random_params(rng, N, k, scale=0.2)
    F, E = T.true_posterior(A)
    x = rng.standard_normal((n, N)) @ np.linalg.cholesky(S).T
    kl = T.gaussian_kl(x @ p.W_mu.T + p.b_mu, np.exp(x @ p.W_sigma.T + p.b_sigma), x @ F.T, E)
    exact = T.inference_error(p, S, F, E)
    assert abs(kl.mean() - exact) < 4 * kl.std() / np.sqrt(n)
    # the printed eq 45 (1/E_ii for (E⁻¹)_ii) lies far outside the Monte Carlo interval
    assert abs(T.inference_error(p, S, F, E, printed=True) - kl.mean()) > 6 * kl.std() / np.sqrt(n)


def test_gaussian_kl_matches_scipy_entropy_route(rng):
    """KL(q‖p) = −H(q) − E_q log p, with the entropy and the cross term from scipy/Monte Carlo."""
    from scipy.stats import multivariate_normal

    k, n = 3, 400_000
    mq, vq = rng.standard_normal(k), np.exp(rng.standard_normal(k))
    mp = rng.standard_normal(k)
    B = rng.standard_normal((k, k))
    Cp = B @ B.T + np.eye(k)
    z = mq + np.sqrt(vq) * rng.standard_normal((n, k))
    v = multivariate_normal(mq, np.diag(vq)).logpdf(z) - multivariate_normal(mp, Cp).logpdf(z)
    assert abs(v.mean() - T.gaussian_kl(mq[None], vq, mp[None], Cp)[0]) < 4 * v.std() / np.sqrt(n)


# ------------------------------------------------------------------ bad input
def test_bad_inputs_raise_naming_the_parameter(rng):
    p = _random_params(rng, 3, 2)
    S = np.eye(3)
    with pytest.raises(ValueError, match="beta"):
        T.objective(p, S, 0.0)
    with pytest.raises(ValueError, match="beta"):
        T.objective(p, S, -1.0)
    with pytest.raises(ValueError, match="Sigma_x"):
        T.objective(p, np.array([[1.0, 0.5, 0], [0, 1, 0], [0, 0, 1]]), 1.0)
    with pytest.raises(ValueError, match="Sigma_x"):
        T.objective(p, -np.eye(3), 1.0)
    with pytest.raises(ValueError, match="Sigma_x|params.D"):
        T.objective(p, np.eye(4), 1.0)
    with pytest.raises(ValueError, match="params.W_mu"):
        T.objective(p._replace(W_mu=np.zeros((2, 4))), S, 1.0)
    with pytest.raises(ValueError, match="A"):
        T.data_covariance(np.ones((2, 3)))  # k > N
    with pytest.raises(ValueError, match="k"):
        T.thesis_mixing(2, 3)
