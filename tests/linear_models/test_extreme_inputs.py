"""Issue 18, items 7 and 8 (linear models): values that passed validation and then overflowed,
and inputs that were silently accepted. Each oracle is a closed form or a limit with a known
answer; bad input must raise ValueError/TypeError naming the parameter."""

import math

import numpy as np
import pytest
from scipy import stats

import linear_models.factor_analysis as fa
import linear_models.ica as ica

X = np.random.default_rng(0).normal(size=(20, 2))
W = np.array([[1.0, 0.3], [0.2, 0.8]])
PSI = np.array([0.5, 0.4])


@pytest.mark.parametrize("beta", [1e-300, 1e-8, 1.0, 1e8, 1e300])
def test_meanfield_variances_are_beta_over_g_plus_beta(beta):
    """Oracle: Σ_q = β / (diag WᵀΨ⁻¹W + β) exactly (App. B.2, diag precision times β); at
    β = 1e-300 the variances are ~2e-301, not 0 as 1/(M g + 1) with M = 1e300 rounds them."""
    g = np.sum(W**2 / PSI[:, None], axis=0)
    _, var = fa.meanfield_optimum(X, W, PSI, beta)
    np.testing.assert_allclose(var, beta / (g + beta), rtol=1e-15)   # one division, one sum
    assert np.all(var > 0)


@pytest.mark.parametrize("beta", [1e-320, 5e-324, 1e-301, 1e301, math.inf, math.nan, 0.0, -1.0])
def test_beta_outside_float64_range_is_rejected_by_name(beta):
    for call in (lambda: fa.meanfield_optimum(X, W, PSI, beta),
                 lambda: fa.free_energy_closed_form(X, W, PSI, beta),
                 lambda: fa.free_energy(X, W, PSI, beta),
                 lambda: fa.meanfield_kl_per_point(W, PSI, beta)):
        with pytest.raises(ValueError, match="^beta"):
            call()


def test_free_energy_closed_form_names_beta_when_the_tempered_covariance_underflows():
    # psi * beta = 1e-300 * 1e-10 underflows: the message must name beta, not psi
    with pytest.raises(ValueError, match="^beta"):
        fa.free_energy_closed_form(X, W, PSI * 1e-10, 1e-300)


def test_ml_orthogonal_weights_rejects_non_symmetric_s_and_bad_k():
    S = np.array([[2.0, 0.5], [0.1, 1.0]])
    with pytest.raises(ValueError, match="^S must be symmetric"):
        fa.ml_orthogonal_weights(S, 0.1)
    S = np.array([[2.0, 0.3], [0.3, 1.0]])
    for K, exc in ((-1, ValueError), (0, ValueError), (3, ValueError), (1.0, TypeError), (True, TypeError)):
        with pytest.raises(exc, match="^K"):
            fa.ml_orthogonal_weights(S, 0.1, K)
    # oracle: W Wᵀ + σ²I reproduces S for K = L (Tipping & Bishop 1999, eq 7)
    Wml = fa.ml_orthogonal_weights(S, 0.1)
    np.testing.assert_allclose(Wml @ Wml.T + 0.1 * np.eye(2), S, rtol=1e-13)


def test_rotation_setting_and_fit_ml_bad_counts():
    with pytest.raises(ValueError, match="^n"):
        fa.rotation_setting(-30.0, -31.0, 0, 0.1)
    with pytest.raises(TypeError, match="^n"):
        fa.rotation_setting(-30.0, -31.0, 2.5, 0.1)
    with pytest.raises(ValueError, match="^n_iter"):
        fa.fit_ml(X, 1, n_iter=0)
    # oracle: the inverse of rotation_setting is the closed-form gap of rotation_gap_per_point
    lam1, lam2 = fa.rotation_setting(-30.0, -31.0, 20, 0.1)
    assert 20 * fa.rotation_gap_per_point(lam1 / lam2, math.pi / 4) == pytest.approx(1.0, rel=1e-12)


@pytest.mark.parametrize("scale", [1e-150, 1e-8, 1.0, 1e8, 1e150])
def test_student_t_logpdf_at_extreme_scales_matches_scipy(scale):
    """Item 7: scale = 1e308 raised OverflowError (σ² was formed); now σ must keep σ² in range
    and inside that range the density is scipy's to round-off."""
    z = np.array([0.0, 0.5, -3.0, 40.0]) * scale
    np.testing.assert_allclose(ica.student_t_logpdf(z, 3.5, scale),
                               stats.t.logpdf(z, 3.5, scale=scale), rtol=1e-13)


@pytest.mark.parametrize("nu", [1e5, 1e8, 1e12])
def test_student_t_large_nu_tends_to_the_normal(nu):
    """log Γ((ν+1)/2) − log Γ(ν/2) by its asymptotic series: at ν = 1e12 the t log-density equals
    the normal one up to O(z⁴/ν) (1e-11 here), which a difference of lgammas of size 1e13
    could not resolve."""
    z = np.array([0.0, 0.7, -2.0])
    np.testing.assert_allclose(ica.student_t_logpdf(z, nu, 1.3),
                               stats.t.logpdf(z, nu, scale=1.3), rtol=1e-11)
    np.testing.assert_allclose(ica.student_t_logpdf(z, 1e12, 1.3), stats.norm.logpdf(z, scale=1.3), rtol=1e-10)


@pytest.mark.parametrize("scale", [1e308, 1e151, 1e-151, 0.0])
def test_ica_scale_out_of_range_is_rejected_by_name(scale):
    W3 = np.array([[1.0, 0.5, 0.2], [0.1, 0.8, -0.4]])
    mu, s = np.zeros((20, 3)), np.ones((20, 3))
    calls = [lambda: ica.student_t_logpdf(np.ones(3), 3.5, scale),
             lambda: ica.expected_log_prior(mu, s, 3.5, scale),
             lambda: ica.free_energy_terms(X, W3, PSI, mu, s, 3.5, scale),
             lambda: ica.free_energy(X, W3, PSI, mu, s, 1.0, 3.5, scale),
             lambda: ica.log_likelihood(X, W3, PSI, 3.5, scale, n_samples=8, rng=np.random.default_rng(0)),
             lambda: ica.sample(5, W3, PSI, 3.5, scale, rng=np.random.default_rng(0))]
    for call in calls:
        with pytest.raises(ValueError, match="^scale"):
            call()


@pytest.mark.parametrize("name", ["X", "W"])
def test_factor_analysis_entries_beyond_1e100_are_rejected_by_name(name):
    """WWᵀ and ‖x‖² of entries 1e308 overflow float64 (was an overflow in matmul)."""
    args = {"X": X.copy(), "W": W.copy()}
    args[name][0, 0] = 1e101
    for f in (fa.log_likelihood, fa.free_energy, fa.free_energy_closed_form):
        with pytest.raises(ValueError, match=rf"^{name}\b"):
            f(args["X"], args["W"], PSI)
    with pytest.raises(TypeError, match="^X"):
        fa.log_likelihood(None, W, PSI)


def test_factor_analysis_at_the_entry_bound_at_beta_one():
    """At |entries| = 1e100 the log-likelihood is finite and equals the closed-form free energy
    plus the mean-field gap (App. B.1 at β = 1), the identity the ordinary-size tests check."""
    Xb, Wb = X * 0 + 1e100, np.array([[1e100, 0.0], [0.0, 1e100]])   # diagonal WᵀΨ⁻¹W: no gap
    ll = fa.log_likelihood(Xb, Wb, PSI)
    assert math.isfinite(ll)
    assert fa.free_energy_closed_form(Xb, Wb, PSI) == pytest.approx(ll, rel=1e-12)


@pytest.mark.parametrize("call, name", [
    (lambda: ica.student_t_logpdf(np.array([0.0, 2.0]), 1e-320), "nu"),
    (lambda: ica.student_t_logpdf(np.array([1e308, 2.0])), "z"),
    (lambda: ica.expected_log_prior(np.array([1e308, 0.0]), np.ones(2)), "mu"),
    (lambda: ica.expected_log_prior(np.zeros(2), np.array([1e308, 1.0])), "s"),
    (lambda: ica.sample(4, np.array([[1e308, 0.5], [0.1, 0.8]]), PSI, rng=np.random.default_rng(0)), "W"),
    (lambda: ica.sample(4, W, PSI, nu=5e-324, rng=np.random.default_rng(0)), "nu"),
])
def test_ica_values_whose_squares_leave_float64_are_rejected_by_name(call, name):
    with pytest.raises(ValueError, match=rf"^{name}\b"):
        call()
