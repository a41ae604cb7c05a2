"""Over-complete ICA (Stühmer et al. 2020, App. B.7): every fast form against an independent oracle."""

import numpy as np
import pytest
from scipy import integrate, stats

from linear_models import factor_analysis as fa
from linear_models import ica

NU = 3.5


def _quad_expected_log_t(mu, s, nu, scale):
    """Adaptive quadrature oracle for E_{N(mu, s^2)} log t_nu(z; 0, scale), +-40 s window."""
    f = lambda z: stats.norm.pdf(z, mu, s) * stats.t.logpdf(z, nu, scale=scale)  # noqa: E731
    pts = [0.0] if abs(mu) < 40 * s else None
    val, err = integrate.quad(f, mu - 40 * s, mu + 40 * s, points=pts, limit=500,
                              epsabs=1e-14, epsrel=1e-13)
    return val


# s up to 0.75 sqrt(nu) scale: the range the fits visit (q never gets wider than the Gaussian
# closest to the prior, s* = 1.23 scale for nu = 3.5; see test_fit_keeps_s_in_validated_range).
# Per-term error bound 1e-8 nats (the rule's geometric convergence slows as s approaches the
# singularities at +-i sqrt(nu) scale; at s <= 0.5 sqrt(nu) scale it is below 1e-12).
@pytest.mark.parametrize("nu,scale", [(3.5, 1.0), (3.5, 0.5), (10.0, 2.0), (2.1, 1.0)])
def test_gauss_hermite_matches_quad_including_tails(nu, scale):
    mus = np.array([0.0, 1.0, 3.0, 50.0, -7.0]) * scale
    ss = np.array([1e-3, 0.3, 0.7, 1.0]) * 0.75 * np.sqrt(nu) * scale
    got = ica.expected_log_prior(mus[:, None], ss[None, :], nu, scale)
    want = np.array([[_quad_expected_log_t(m, s, nu, scale) for s in ss] for m in mus])
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-8)
    inner = ss <= 0.5 * np.sqrt(nu) * scale
    np.testing.assert_allclose(got[:, inner], want[:, inner], rtol=1e-11, atol=1e-12)


def test_student_t_logpdf_matches_scipy(rng):
    z = rng.standard_normal(50) * 5
    np.testing.assert_allclose(ica.student_t_logpdf(z, 3.5, 0.7),
                               stats.t.logpdf(z, 3.5, scale=0.7), rtol=1e-13)


def test_free_energy_matches_monte_carlo(rng):
    """Analytic reconstruction + entropy and GH cross-entropy vs plain MC over q, within 5 se."""
    W = rng.standard_normal((2, 3))
    psi = np.array([0.2, 0.5])
    X, _ = ica.sample(4, W, psi, NU, 1.3, rng=rng)
    mu = rng.standard_normal((4, 3))
    s = rng.uniform(0.2, 1.0, (4, 3))
    beta = 2.5
    F = ica.free_energy(X, W, psi, mu, s, beta, NU, 1.3)
    M = 200_000
    Z = mu + s * rng.standard_normal((M, 4, 3))
    loglik = stats.norm.logpdf(X[None], (Z @ W.T), np.sqrt(psi)).sum(-1)
    logprior = stats.t.logpdf(Z, NU, scale=1.3).sum(-1)
    logq = stats.norm.logpdf(Z, mu, s).sum(-1)
    samples = (loglik + beta * (logprior - logq)).sum(-1)
    se = samples.std() / np.sqrt(M)
    assert abs(samples.mean() - F) < 5 * se


def test_log_likelihood_matches_one_dimensional_quadrature(rng):
    """K = 1: p(x) = int N(x; w z, D) t(z) dz is a 1-D integral (quad oracle), per point."""
    W = np.array([[1.0], [0.4]])
    psi = np.array([0.3, 0.2])
    X, _ = ica.sample(3, W, psi, NU, 1.0, rng=rng)
    for x in X:
        f = lambda z: np.exp(stats.t.logpdf(z, NU) + stats.norm.logpdf(x, W[:, 0] * z, np.sqrt(psi)).sum())  # noqa: E731
        want = np.log(integrate.quad(f, -np.inf, np.inf, epsabs=0, epsrel=1e-12, limit=200)[0])
        got = ica.log_likelihood(x[None], W, psi, NU, rng=rng, n_samples=20000)
        assert abs(got["value"] - want) < 5 * got["se"] + abs(got["bias"])
        assert got["se"] < 0.02


def test_log_likelihood_three_latents_matches_importance_sampling_in_z(rng):
    """K = 3: the scale-mixture estimator vs naive MC over z from the prior (independent path)."""
    W = np.array([[1.0, 0.3, -0.6], [0.1, 1.0, 0.8]])
    psi = np.array([0.5, 0.5])
    x = np.array([[0.7, -0.4]])
    got = ica.log_likelihood(x, W, psi, NU, rng=rng, n_samples=40000)
    Z = rng.standard_t(NU, size=(400_000, 3))
    g = np.exp(stats.norm.logpdf(x, Z @ W.T, np.sqrt(psi)).sum(-1))
    naive, naive_se = np.log(g.mean()), g.std() / g.mean() / np.sqrt(g.size)
    assert abs(got["value"] - naive) < 5 * np.hypot(got["se"], naive_se)


def test_paired_difference_is_consistent(rng):
    W = np.array([[1.0, 0.3, -0.6], [0.1, 1.0, 0.8]])
    psi = np.array([0.3, 0.3])
    X, _ = ica.sample(20, W, psi, NU, rng=rng)
    out = ica.log_likelihood(X, 0.9 * W, psi, NU, rng=rng, W_ref=W, n_samples=2000)
    assert out["diff"] == pytest.approx(out["value"] - out["value_ref"], abs=1e-12)
    # the same W on both sides: the difference is exactly zero with zero error
    same = ica.log_likelihood(X, W, psi, NU, rng=rng, W_ref=W, n_samples=500)
    assert same["diff"] == 0.0 and same["diff_se"] == 0.0


def test_nu_to_infinity_reduces_to_factor_analysis(rng):
    """nu -> inf: Student-t prior -> N(0, scale^2), so max_q F is FA's closed form with W' = scale W.

    The gap shrinks like 1/nu (the t log-density differs from the Gaussian by O(z^4 / nu)).
    """
    W = np.array([[1.0, 0.5, -0.3], [0.2, 0.9, 0.7]])
    psi = np.array([0.3, 0.4])
    scale = 0.8
    X, _ = ica.sample(40, W, psi, 1e6, scale, rng=rng)
    gaps = {}
    for beta in (1.0, 3.0):
        want = fa.free_energy(X, scale * W, psi, beta)
        for nu in (1e2, 1e3, 1e4, 1e6):
            fit = ica.fit_meanfield(X, W, psi, beta, nu, scale, fit_W=False)
            gaps[beta, nu] = fit.free_energy - want
        # 1/nu scaling, and the limit itself to 1e-4 nats in total over 40 points
        assert abs(gaps[beta, 1e6]) < 1e-4
        ratio = gaps[beta, 1e2] / gaps[beta, 1e3]
        assert 5 < ratio < 20
    want_ll = fa.log_likelihood(X, scale * W, psi)
    got = ica.log_likelihood(X, W, psi, 1e6, scale, rng=rng, n_samples=500)
    assert abs(got["value"] - want_ll) < 1e-3


def test_fit_never_lowers_free_energy_and_is_stationary(rng):
    W = np.array([[np.cos(0.3), np.cos(1.2), np.cos(2.3)], [np.sin(0.3), np.sin(1.2), np.sin(2.3)]])
    psi = np.full(2, 0.1)
    X, _ = ica.sample(60, W, psi, NU, rng=rng)
    for beta in (1.0, 5.0):
        fit = ica.fit_meanfield(X, W, psi, beta)
        assert fit.converged
        assert np.all(np.diff(fit.trace) >= 0)
        assert fit.free_energy >= fit.free_energy_start
        # the reported value is the free energy of the returned parameters (independent evaluation)
        assert fit.free_energy == pytest.approx(
            ica.free_energy(X, fit.W, psi, fit.mu, fit.s, beta), abs=1e-9)
        # stationarity in W: the closed-form M-step (quadratic in W) leaves W where it is
        A = fit.mu.T @ fit.mu + np.diag(np.sum(fit.s**2, 0))
        W_mstep = np.linalg.solve(A, fit.mu.T @ X).T
        assert np.abs(W_mstep - fit.W).max() < 1e-3


@pytest.mark.parametrize("phase", ["q alone", "joint"])     # where the target is reached
def test_stop_at_ends_the_fit_at_the_full_fits_first_iterate_past_the_target(rng, phase):
    """Oracle: the uninterrupted fit's own trace — L-BFGS-B is deterministic, so the stopped fit
    is that trace cut at its first iterate reaching the target, and returns that iterate."""
    W = np.array([[np.cos(0.3), np.cos(1.2), np.cos(2.3)], [np.sin(0.3), np.sin(1.2), np.sin(2.3)]])
    psi = np.full(2, 0.1)
    X, _ = ica.sample(40, W, psi, NU, rng=rng)
    full = ica.fit_meanfield(X, W, psi, 1.0)
    target = full.trace[full.n_q_iter // 2] if phase == "q alone" else full.free_energy - 0.1
    first = int(np.argmax(full.trace >= target))
    stopped = ica.fit_meanfield(X, W, psi, 1.0, stop_at=target)
    assert np.array_equal(stopped.trace, full.trace[:first + 1]) and not stopped.converged
    assert stopped.free_energy == stopped.trace[-1] >= target
    assert stopped.free_energy == pytest.approx(
        ica.free_energy(X, stopped.W, psi, stopped.mu, stopped.s, 1.0), abs=1e-9)
    assert (first < full.n_q_iter) == (phase == "q alone")
    with pytest.raises(ValueError, match="stop_at"):
        ica.fit_meanfield(X, W, psi, 1.0, stop_at=float("nan"))


def test_fit_keeps_s_in_validated_range(rng):
    W = np.array([[1.0, 0.2, -0.7], [0.0, 1.0, 0.7]])
    psi = np.full(2, 0.1)
    X, _ = ica.sample(50, W, psi, NU, rng=rng)
    fit = ica.fit_meanfield(X, W, psi, 8.0)
    assert fit.s.max() <= 0.75 * np.sqrt(NU)


def test_angles_and_directions_brute_force():
    W = np.array([[1.0, 0.0, -1.0], [0.0, 2.0, 1.0]])
    np.testing.assert_allclose(ica.pairwise_angles(W), [90.0, 45.0, 45.0], atol=1e-12)
    np.testing.assert_allclose(ica.directions(W), [0.0, 90.0, 135.0], atol=1e-12)
    np.testing.assert_allclose(ica.pairwise_angles(np.c_[W, [0.0, 1e-9]], min_norm=1e-6),
                               [90.0, 45.0, 45.0], atol=1e-12)
    np.testing.assert_allclose(ica.column_norms(W), [1.0, 2.0, np.sqrt(2)])


def test_sample_moments(rng):
    """Sources are Student-t(nu, scale): compare the median absolute value with scipy."""
    W = np.eye(2)
    X, Z = ica.sample(20000, W, np.full(2, 1e-12), 3.5, 2.0, rng=rng)
    med = np.median(np.abs(Z))
    assert med == pytest.approx(stats.t.ppf(0.75, 3.5, scale=2.0), rel=0.03)
    np.testing.assert_allclose(X, Z, atol=1e-4)


@pytest.mark.parametrize("kwargs,name", [
    (dict(nu=0.0), "nu"), (dict(nu=-1.0), "nu"), (dict(scale=0.0), "scale"),
    (dict(beta=0.0), "beta"), (dict(beta=-2.0), "beta"),
    (dict(psi=np.array([0.1, -0.1])), "psi"), (dict(psi=np.array([0.1, 0.1, 0.1])), "psi"),
    (dict(X=np.ones((5, 3))), "X"), (dict(X=np.array([[np.nan, 1.0]])), "X"),
    (dict(W0=np.ones(3)), "W"),
])
def test_bad_input_names_the_parameter(kwargs, name):
    args = dict(X=np.ones((5, 2)), W0=np.ones((2, 3)), psi=np.array([0.1, 0.1]), beta=1.0)
    args.update(kwargs)
    with pytest.raises(ValueError, match=name):
        ica.fit_meanfield(**args)


def test_bad_input_other_entry_points(rng):
    W = np.ones((2, 3))
    with pytest.raises(ValueError, match="psi"):
        ica.sample(5, W, np.array([0.0, 1.0]), rng=rng)
    with pytest.raises(ValueError, match="nu"):
        ica.log_likelihood(np.ones((2, 2)), W, np.ones(2), nu=0, rng=rng)
    with pytest.raises(ValueError, match="mu"):
        ica.free_energy(np.ones((2, 2)), W, np.ones(2), np.ones((3, 3)), np.ones((2, 3)))
    with pytest.raises(ValueError, match="beta"):
        ica.free_energy(np.ones((2, 2)), W, np.ones(2), np.ones((2, 3)), np.ones((2, 3)), beta=0)
    with pytest.raises(TypeError, match="rng"):
        ica.sample(5, W, np.ones(2))


@pytest.mark.parametrize("beta,nu,scale", [(1.0, 3.5, 1.0), (4.0, 1.5, 0.3), (0.5, 40.0, 2.0)])
def test_closed_form_gradient_matches_autograd_and_differences(rng, beta, nu, scale):
    """The hand-derived value and gradient (ica._value_and_grad) against two oracles: HIPS
    autograd's reverse mode of the quadrature free energy ica._terms, and central differences."""
    import autograd.numpy as anp
    from autograd import value_and_grad

    n, L, K = 7, 2, 3
    X = rng.normal(size=(n, L)) * scale
    W = rng.normal(size=(L, K))
    psi = rng.uniform(0.05, 0.5, size=L)
    mu = rng.normal(size=(n, K)) * scale
    log_s = np.log(rng.uniform(0.2, 1.0, size=(n, K)) * scale)
    nodes, weights = ica.gauss_hermite(64)

    def F(x):
        Wx = anp.reshape(x[:L * K], (L, K))
        mx = anp.reshape(x[L * K:L * K + n * K], (n, K))
        sx = anp.exp(anp.reshape(x[L * K + n * K:], (n, K)))
        r, h, c = ica._terms(X, Wx, psi, mx, sx, nu, scale, nodes, weights)
        return r + beta * (h + c)

    x = np.concatenate([W.ravel(), mu.ravel(), log_s.ravel()])
    f_ag, g_ag = value_and_grad(F)(x)
    f, gW, gmu, gls = ica._value_and_grad(X, W, psi, mu, log_s, beta, nu, scale, nodes, weights)
    g = np.concatenate([gW.ravel(), gmu.ravel(), gls.ravel()])
    # both are float64 evaluations of the same sums (~10^3 terms): agreement to ~1e-12 relative
    assert f == pytest.approx(f_ag, rel=1e-12, abs=1e-10)
    np.testing.assert_allclose(g, g_ag, rtol=1e-10, atol=1e-10)
    # central differences, step 1e-5: truncation error O(h^2 f''') ~ 1e-9, round-off ~1e-11/h
    h = 1e-5
    fd = np.array([(F(x + h * e) - F(x - h * e)) / (2 * h) for e in np.eye(x.size)])
    np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-6)
