"""deep.metrics.inference_error: the TIE of Sikka 2020, eq 5, for the digit processes, against
independent oracles: the closed-form linear TIE of linear_models.linear_vae (eqs 45–46
corrected), a dense two-dimensional grid quadrature, the bivariate normal CDF (scipy), and the
Gaussian limit of a vanishing cell."""

import numpy as np
import pytest
from scipy import special, stats

from deep.metrics import inference_error as I
from linear_models import linear_vae as L
from theory.linear_vae import data_covariance, gaussian_kl, true_posterior

A2 = np.array([[2.73, 0.73], [0.73, 2.73]])        # Sikka 2020, Fig 5: 2 δ_ij + 0.73


@pytest.mark.parametrize("beta", [0.5, 2.0, 6.0])
def test_linear_tie_matches_the_closed_form(beta):
    rng = np.random.default_rng(int(beta * 10))
    A = rng.normal(size=(6, 2)) + 0.5                # distinct eigenvalues: the group is signed perms
    p = L.optimum(data_covariance(A), 2, beta, reference=A).params
    n = 40_000
    x = rng.standard_normal((n, 2)) @ A.T + rng.standard_normal((n, 6))
    mu, var = x @ p.W_mu.T, np.broadcast_to(np.exp(p.b_sigma), (n, 2))
    m, E = I.gaussian_posterior(x, A)
    tie, Q, vals = I.aligned_tie(lambda a, b: I.gaussian_kl_per_point(a, b, m, E), mu, var)
    kl = I.gaussian_kl_per_point(*I.apply_signed_permutation(Q, mu, var), m, E)
    se = kl.std() / np.sqrt(n)
    # Monte Carlo over x: 4 standard errors
    assert abs(tie - L.tie_aligned(A, [beta])[0]) < 4 * se
    # the identity element (latent i ↔ source i of the canonical optimum) is tie_over_group's
    # canonical TIE; same 4 standard errors of its own per-point KL
    kl_id = I.gaussian_kl_per_point(mu, var, m, E)
    assert abs(vals[0] - L.tie_over_group(A, [beta])[0]) < 4 * kl_id.std() / np.sqrt(n)


def test_gaussian_posterior_with_noise_scale_is_bayes_rule():
    rng = np.random.default_rng(3)
    A, sigma = rng.normal(size=(5, 2)), 0.7
    x = rng.normal(size=(4, 5))
    m, E = I.gaussian_posterior(x, A, sigma)
    # joint Gaussian conditioning (s, x): Cov(s, x) = Aᵀ, Cov(x) = AAᵀ + σ² I
    Sx = A @ A.T + sigma ** 2 * np.eye(5)
    np.testing.assert_allclose(m, x @ np.linalg.solve(Sx, A), rtol=1e-12)
    np.testing.assert_allclose(E, np.eye(2) - A.T @ np.linalg.solve(Sx, A), rtol=1e-12, atol=1e-15)


def _grid_kl(mu, var, lo, hi, A, half=9.0, n=1801):
    """Brute-force KL(q ‖ p(s|cell)) on a dense midpoint grid (independent of the module)."""
    g = np.linspace(-half, half, n)
    h = g[1] - g[0]
    s1, s2 = np.meshgrid(g, g, indexing="ij")
    logP = 0.0
    for d in range(2):
        u = A[d, 0] * s1 + A[d, 1] * s2
        # Φ(b) − Φ(a), on the upper tail (a > 0) as Φ(−a) − Φ(−b), which does not cancel
        p = np.where(lo[d] - u > 0, special.ndtr(u - lo[d]) - special.ndtr(u - hi[d]),
                     special.ndtr(hi[d] - u) - special.ndtr(lo[d] - u))
        logP = logP + np.log(p)
    logprior = -0.5 * (s1 ** 2 + s2 ** 2) - np.log(2 * np.pi)
    logZ = np.log(np.sum(np.exp(logP + logprior)) * h * h)
    logq = (-0.5 * ((s1 - mu[0]) ** 2 / var[0] + (s2 - mu[1]) ** 2 / var[1])
            - np.log(2 * np.pi) - 0.5 * np.log(var).sum())
    q = np.exp(logq)
    return float(np.sum(q * (logq - (logP + logprior - logZ))) * h * h), float(logZ)


@pytest.mark.parametrize("lo,hi", [([-1.0, 1.0], [1.0, 3.0]),            # interior cell
                                   ([-np.inf, -1.0], [-3.0, 1.0]),        # clipped in one axis
                                   ([3.0, 3.0], [np.inf, np.inf])])       # clipped corner
def test_placement_kl_matches_a_dense_grid_quadrature(lo, hi):
    lo, hi = np.array([lo]), np.array([hi])
    mu, var = np.array([[0.3, -0.2]]), np.array([[0.15, 0.4]])
    grid_kl, grid_logz = _grid_kl(mu[0], var[0], lo[0], hi[0], A2)
    # the grid has step 0.01 over ±9 (9 prior standard deviations): midpoint error O(h²) ≈ 1e-5
    # of these smooth integrands; 1e-4 nats bounds it
    np.testing.assert_allclose(I.placement_log_evidence(lo, hi, A2), grid_logz, atol=1e-4)
    np.testing.assert_allclose(I.placement_kl(mu, var, lo, hi, A2), grid_kl, atol=1e-4)


def test_log_evidence_is_the_bivariate_normal_rectangle_probability():
    lo, hi = np.array([[-1.0, 0.5], [2.0, -4.0]]), np.array([[1.0, 2.5], [4.0, -2.0]])
    C = A2 @ A2.T + np.eye(2)
    mvn = stats.multivariate_normal(np.zeros(2), C)
    for i in range(2):
        (a1, a2), (b1, b2) = lo[i], hi[i]
        p = mvn.cdf([b1, b2]) - mvn.cdf([a1, b2]) - mvn.cdf([b1, a2]) + mvn.cdf([a1, a2])
        # scipy's Genz integration is accurate to ~1e-6 absolute; the probabilities are ≥ 1e-2
        np.testing.assert_allclose(np.exp(I.placement_log_evidence(lo[i:i + 1], hi[i:i + 1], A2)),
                                   p, rtol=1e-4)


def test_vanishing_cell_gives_the_closed_form_gaussian_kl():
    F, E = true_posterior(A2)
    p0 = np.array([[1.3, -0.4], [-2.2, 0.9]])
    mu, var = np.array([[0.2, -0.3], [-0.5, 0.4]]), np.array([[0.1, 0.3], [0.05, 0.2]])
    w = 1e-3
    # a cell of side w pins p = A s + η to p0 up to O(w²) in the posterior's moments
    np.testing.assert_allclose(I.placement_kl(mu, var, p0 - w / 2, p0 + w / 2, A2),
                               gaussian_kl(mu, var, p0 @ F.T, E), atol=1e-5)


def test_log_ndtr_diff_on_both_tails():
    a, b = np.array([-40.0, 30.0, -1.0]), np.array([-39.0, 31.0, 1.0])
    # mpmath-free reference: on the lower tail log Φ(b) dominates, on the upper log Φ(−a)
    ref = np.array([special.log_ndtr(-39.0) + np.log1p(-np.exp(special.log_ndtr(-40.0) - special.log_ndtr(-39.0))),
                    special.log_ndtr(-30.0) + np.log1p(-np.exp(special.log_ndtr(-31.0) - special.log_ndtr(-30.0))),
                    np.log(special.ndtr(1.0) - special.ndtr(-1.0))])
    np.testing.assert_allclose(I.log_ndtr_diff(a, b), ref, rtol=1e-12)
    assert np.all(np.isfinite(I.log_ndtr_diff(a, b)))


def test_aligned_abs_correlation_undoes_a_permutation_and_signs():
    rng = np.random.default_rng(4)
    t = rng.normal(size=(500, 2))
    codes = np.column_stack([-2 * t[:, 1], t[:, 0] + 0.01 * rng.normal(size=500)])
    r = I.aligned_abs_correlation(codes, t)
    np.testing.assert_allclose(r[1], 1.0)
    assert r[0] > 0.999
    assert len(I.signed_permutations(2)) == 8 and np.array_equal(I.signed_permutations(2)[0], np.eye(2))


@pytest.mark.parametrize("call,name", [
    (lambda: I.placement_kl(np.zeros((1, 3)), np.ones((1, 3)), np.zeros((1, 2)), np.ones((1, 2)), A2), "mu"),
    (lambda: I.placement_kl(np.zeros((1, 2)), -np.ones((1, 2)), np.zeros((1, 2)), np.ones((1, 2)), A2), "var"),
    (lambda: I.placement_kl(np.zeros((1, 2)), np.ones((1, 2)), np.ones((1, 2)), np.zeros((1, 2)), A2), "lo, hi"),
    (lambda: I.placement_kl(np.zeros((1, 2)), np.ones((1, 2)), np.zeros((1, 2)), np.ones((1, 2)), np.eye(3)), "A"),
    (lambda: I.gaussian_posterior(np.zeros((2, 4)), np.ones((5, 2))), "x"),
    (lambda: I.gaussian_posterior(np.zeros((2, 5)), np.ones((5, 2)), 0.0), "noise_std"),
])
def test_bad_input_names_the_parameter(call, name):
    with pytest.raises(ValueError, match=name):
        call()
