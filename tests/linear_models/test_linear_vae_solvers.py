"""linear_models.linear_vae: the closed-form optimum against eq 43, a numerical solver, PPCA and brute force."""

import itertools

import numpy as np
import pytest

from linear_models import linear_vae as L
from theory import linear_vae as T

THESIS_A = T.thesis_mixing()          # N = 128, k = 2, A_ij = (1 + δ_ij)/2
THESIS_S = T.data_covariance(THESIS_A)


def _invariants(p):
    """Quantities invariant under signed permutations of the latents (symmetry removed)."""
    return {"DDt": p.D @ p.D.T, "DW": p.D @ p.W_mu, "WtW": p.W_mu.T @ p.W_mu,
            "var": np.sort(np.exp(p.b_sigma))}


@pytest.mark.parametrize("beta", [0.3, 1.0, 1.2, 1.25, 2.0, 66.0, 70.0])
def test_closed_form_satisfies_eq43_to_machine_precision(beta):
    opt = L.optimum(THESIS_S, 2, beta, reference=THESIS_A)
    assert T.optimality_residual(opt.params, THESIS_S, beta) < 1e-12


@pytest.mark.parametrize("beta", [0.4, 1.0, 1.7, 5.0])
def test_numerical_solution_of_eq43_agrees_with_closed_form(beta, rng):
    N, k = 6, 2
    A = rng.standard_normal((N, k))
    S = T.data_covariance(A)
    sol = L.solve_optimality(S, k, beta, rng, n_starts=3)
    opt = L.optimum(S, k, beta)
    assert sol.residual < 1e-6
    np.testing.assert_allclose(sol.objective, T.objective(opt.params, S, beta), rtol=1e-11)
    # every start reaches the same (global) value: no spurious local optima
    np.testing.assert_allclose(sol.objectives, sol.objectives.max(), rtol=1e-9)
    a, b = _invariants(sol.params), _invariants(opt.params)
    for key in a:
        np.testing.assert_allclose(a[key], b[key], atol=1e-5, err_msg=key)


def test_numerical_solution_at_thesis_size_beyond_first_collapse(rng):
    beta = 2.0  # above λ_2 = 1.25: the second latent has collapsed
    sol = L.solve_optimality(THESIS_S, 2, beta, rng, n_starts=1)
    opt = L.optimum(THESIS_S, 2, beta, reference=THESIS_A)
    np.testing.assert_allclose(sol.objective, T.objective(opt.params, THESIS_S, beta), rtol=1e-11)
    a, b = _invariants(sol.params), _invariants(opt.params)
    for key in a:
        np.testing.assert_allclose(a[key], b[key], atol=1e-5, err_msg=key)


def test_optimum_beats_random_perturbations(rng):
    N, k, beta = 5, 2, 0.8
    S = T.data_covariance(rng.standard_normal((N, k)))
    opt = L.optimum(S, k, beta)
    best = T.objective(opt.params, S, beta)
    for _ in range(200):
        q = T.LinearVAEParams(*[x + 0.05 * rng.standard_normal(np.shape(x)) for x in opt.params])
        assert T.objective(q, S, beta) < best


def test_ppca_special_case_at_beta_one(rng):
    """β = 1: DDᵀ = AAᵀ (PPCA maximum likelihood with σ² = 1), log p_θ = exact, MIE = 0."""
    N, k = 7, 3
    A = rng.standard_normal((N, k))
    S = T.data_covariance(A)
    opt = L.optimum(S, k, 1.0)
    np.testing.assert_allclose(opt.params.D @ opt.params.D.T, A @ A.T, atol=1e-12)
    exact_entropy = -0.5 * (N * np.log(2 * np.pi) + np.linalg.slogdet(S)[1] + N)
    terms = L.optimum_terms(S, k, [1.0])
    np.testing.assert_allclose(terms["log_likelihood"][0], exact_entropy, rtol=1e-13)
    assert abs(terms["mie"][0]) < 1e-12


def test_ppca_decoder_matches_sklearn_factor_of_ppca(rng):
    """The decoder's column space at β = 1 is the PCA subspace of the data (sklearn on samples)."""
    from sklearn.decomposition import PCA

    N, k = 6, 2
    A = rng.standard_normal((N, k)) * np.array([3.0, 1.5])
    S = T.data_covariance(A)
    X = rng.multivariate_normal(np.zeros(N), S, size=200_000)
    pca = PCA(k).fit(X)
    U = L.optimum(S, k, 1.0).eigenvectors
    # principal angles between the subspaces are ~0 (Monte Carlo error of the sample PCA)
    sv = np.linalg.svd(U.T @ pca.components_.T, compute_uv=False)
    np.testing.assert_allclose(sv, 1.0, atol=1e-3)


def test_closed_form_terms_equal_theory_functions_at_the_optimum(rng):
    N, k = 9, 3
    A = rng.standard_normal((N, k))
    S = T.data_covariance(A)
    betas = np.array([0.2, 0.9, 1.0, 1.5, 3.0, 20.0])
    terms = L.optimum_terms(S, k, betas)
    sweep = L.beta_sweep(A, betas)
    F_t, E_t = T.true_posterior(A)
    for i, b in enumerate(betas):
        p = L.optimum(S, k, b, reference=A).params
        t = T.objective_terms(p, S)
        F, E = T.model_posterior(p.D)
        np.testing.assert_allclose(terms["reconstruction"][i], t["reconstruction"], rtol=1e-12)
        np.testing.assert_allclose(terms["kl"][i], t["kl"], rtol=1e-12, atol=1e-13)
        np.testing.assert_allclose(terms["log_likelihood"][i], T.model_log_likelihood(p.D, S), rtol=1e-12)
        np.testing.assert_allclose(terms["mie"][i], T.inference_error(p, S, F, E), rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(sweep["tie"][i], T.inference_error(p, S, F_t, E_t), rtol=1e-11)
    # Sikka 2020, eq 23: MIE = log p_θ − ELBO
    np.testing.assert_allclose(terms["mie"], terms["log_likelihood"] - terms["elbo"], atol=1e-11)


def test_dL_dbeta_is_minus_kl_by_finite_differences():
    betas = np.array([0.3, 0.8, 1.0, 1.1, 3.0, 30.0, 80.0])
    h = 1e-6
    up = L.optimum_terms(THESIS_S, 2, betas + h)["objective"]
    dn = L.optimum_terms(THESIS_S, 2, betas - h)["objective"]
    np.testing.assert_allclose((up - dn) / (2 * h), -L.optimum_terms(THESIS_S, 2, betas)["kl"], atol=1e-7)


def test_collapse_thresholds_are_the_top_eigenvalues():
    lam = L.collapse_thresholds(THESIS_S, 2)
    # thesis A: AᵀA = [[32.75, 32.5], [32.5, 32.75]] has eigenvalues 65.25 and 0.25
    np.testing.assert_allclose(lam, [66.25, 1.25], rtol=1e-13)
    for b in (1.2, 1.3, 66.0, 66.5):
        opt = L.optimum(THESIS_S, 2, b)
        np.testing.assert_array_equal(opt.active, lam > b)
        np.testing.assert_allclose(np.linalg.norm(opt.params.D, axis=0)[~opt.active], 0.0)
        np.testing.assert_allclose(opt.variances[~opt.active], 1.0)


def _transformed(p, Q):
    return p._replace(W_mu=Q @ p.W_mu, b_sigma=np.abs(Q) @ p.b_sigma, D=p.D @ Q.T)


def test_tie_group_elements_against_brute_force(rng):
    betas = np.array([0.5, 1.0, 1.2, 3.0])
    F, E = T.true_posterior(THESIS_A)
    for perm in itertools.permutations(range(2)):
        for signs in itertools.product([1.0, -1.0], repeat=2):
            Q = np.eye(2)[list(perm)] * np.array(signs)[list(perm)][:, None]
            got = L.tie_over_group(THESIS_A, betas, perm=perm, signs=signs)
            for i, b in enumerate(betas):
                p = _transformed(L.optimum(THESIS_S, 2, b, reference=THESIS_A).params, Q)
                # the transformed solution is still an optimum (the symmetry is real)
                assert T.optimality_residual(p, THESIS_S, b) < 1e-12
                np.testing.assert_allclose(got[i], T.inference_error(p, THESIS_S, F, E), rtol=1e-11)


def test_tie_aligned_is_the_minimum_over_the_group_distinct_eigenvalues(rng):
    A = rng.standard_normal((5, 2))
    betas = np.geomspace(0.1, 10, 7)
    brute = np.min([L.tie_over_group(A, betas, perm=perm, signs=s)
                    for perm in itertools.permutations(range(2))
                    for s in itertools.product([1.0, -1.0], repeat=2)], axis=0)
    np.testing.assert_allclose(L.tie_aligned(A, betas), brute, rtol=1e-12)


def test_tie_aligned_degenerate_eigenvalues_minimises_over_rotations():
    """A = [I; 0] + 0.3: equal eigenvalues ⇒ the optimum is defined up to O(2); brute force on a grid."""
    N, k = 4, 2
    A = np.vstack([np.eye(k), np.zeros((N - k, k))]) * 1.5
    S = T.data_covariance(A)
    F, E = T.true_posterior(A)
    betas = np.array([0.5, 1.0, 2.0])
    got = L.tie_aligned(A, betas)
    for i, b in enumerate(betas):
        p = L.optimum(S, k, b, reference=A).params
        vals = []
        for t in np.linspace(0, 2 * np.pi, 721):
            R = np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])
            for Q in (R, R @ np.diag([1.0, -1.0])):
                q = p._replace(W_mu=Q @ p.W_mu, D=p.D @ Q.T)  # equal variances: b_sigma unchanged
                vals.append(T.inference_error(q, S, F, E))
        assert got[i] <= min(vals) + 1e-12
        assert got[i] >= min(vals) - 1e-4  # grid spacing 0.5°: quadratic error ≤ ~1e-4


def test_fixed_decoder_optimum_is_stationary_in_the_encoder(rng):
    N, k = 6, 2
    A = rng.standard_normal((N, k))
    S = T.data_covariance(A)
    for b in (0.5, 1.0, 3.0):
        g = T.gradients(L.fixed_decoder_optimum(A, b), S, b)
        for name in ("W_mu", "b_mu", "W_sigma", "b_sigma"):
            assert np.abs(getattr(g, name)).max() < 1e-12


def test_beta_sweep_keys_and_speed_independent_values():
    betas = np.geomspace(0.1, 100, 50)
    sw = L.beta_sweep(THESIS_A, betas)
    for key in ("elbo", "reconstruction", "kl", "log_likelihood", "mie", "tie", "tie_aligned"):
        assert sw[key].shape == betas.shape and np.all(np.isfinite(sw[key]))
    np.testing.assert_allclose(sw["elbo"], sw["reconstruction"] - sw["kl"], rtol=1e-14)
    assert np.all(sw["tie_aligned"] <= sw["tie"] + 1e-10)
    assert np.all(sw["mie"] >= -1e-12)


def test_bad_inputs_raise_naming_the_parameter(rng):
    with pytest.raises(ValueError, match="k"):
        L.optimum(np.eye(3), 4, 1.0)
    with pytest.raises(ValueError, match="beta"):
        L.optimum(np.eye(3), 2, 0.0)
    with pytest.raises(ValueError, match="^cov"):
        L.optimum(np.array([[1.0, 2.0], [0.0, 1.0]]), 1, 1.0)
    with pytest.raises(ValueError, match="^cov"):
        L.optimum(np.diag([1.0, -1.0]), 1, 1.0)
    with pytest.raises(ValueError, match="reference"):
        L.optimum(np.eye(3), 2, 1.0, reference=np.ones((4, 2)))
    with pytest.raises(ValueError, match="betas"):
        L.beta_sweep(THESIS_A, [1.0, -1.0])
    with pytest.raises(ValueError, match="A"):
        L.beta_sweep(np.ones((2, 3)), [1.0])
    with pytest.raises(TypeError, match="rng"):
        L.solve_optimality(np.eye(3), 1, 1.0, rng=0)
