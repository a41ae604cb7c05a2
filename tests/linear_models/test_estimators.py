"""linear_models.estimators: each estimator against the solver it wraps (exact equality), against
scikit-learn (FactorAnalysis, PCA) and against a second solver of the same model.

Symmetries are removed before comparing: a factor-analysis or PCA solution is defined up to a
rotation (ML) or a signed permutation (mean-field, PCA) of the latents, so fits are compared through
invariants — the implied covariance WWᵀ + Ψ, WWᵀ, column norms, |cos| between directions.
"""

import warnings

import numpy as np
import pytest
from scipy.stats import multivariate_normal

from linear_models import BetaVIFactorAnalysis, BetaVIOvercompleteICA, LinearBetaVAE
from linear_models import factor_analysis as fa
from linear_models import ica
from linear_models import linear_vae as lvae
from linear_models.estimators import (ConvergenceWarning, NotFittedError, _fa_value_and_grad,
                                      _order_and_sign, fit_beta_vi_fa)
from theory import linear_vae as tlv


def _fa_data(seed, n=1000, L=6, K=2, offset=1.0):
    """Data of the FA model (eq 14) with a mean: well-conditioned (ψ in [0.3, 0.8], n = 1000), so
    the ML fit is unique up to rotation and far from a Heywood case."""
    rng = np.random.default_rng(seed)
    W = rng.normal(size=(L, K))
    psi = rng.uniform(0.3, 0.8, L)
    return rng.multivariate_normal(np.zeros(L), W @ W.T + np.diag(psi), size=n) + offset


def _centred_cov(X):
    Xc = X - X.mean(0)
    return Xc.T @ Xc / X.shape[0]


# =============================================================================== factor analysis
@pytest.mark.parametrize("beta, noise", [(1.0, None), (3.0, None), (2.0, 0.4)])
def test_fa_estimator_is_its_solver_exactly(beta, noise):
    X = _fa_data(0, n=300, L=5)
    est = BetaVIFactorAnalysis(2, beta=beta, noise_variance=noise, random_state=7).fit(X)
    mean = X.mean(0)
    fix = None if noise is None else np.full(5, noise)
    fit = fit_beta_vi_fa(X - mean, 2, beta, fix_psi=fix, rng=np.random.default_rng(7))
    W, _ = _order_and_sign(fit.W, np.sum(fit.W**2 / fit.psi[:, None], axis=0))
    assert np.array_equal(est.components_, W.T) and np.array_equal(est.noise_variance_, fit.psi)
    assert np.array_equal(est.mean_, mean)
    assert np.array_equal(est.free_energy_trace_, fit.trace / 300) and est.n_iter_ == fit.n_iter
    means, var = fa.meanfield_optimum(X - mean, W, fit.psi, beta)
    assert np.array_equal(est.transform(X), means) and np.array_equal(est.posterior_variances_, var)
    assert est.score(X) == fa.log_likelihood(X - mean, W, fit.psi) / 300
    assert est.free_energy(X) == fa.free_energy(X - mean, W, fit.psi, beta) / 300
    assert est.free_energy(X, "eq16") == fa.free_energy(X - mean, W, fit.psi, beta, "eq16") / 300
    # reordering and signs leave the objective unchanged (factorised q, symmetric prior)
    assert est.free_energy(X) == pytest.approx(fit.free_energy / 300, rel=1e-13)
    # score_samples: scipy's Gaussian log-density; its mean is score (rounding: 1e-12)
    np.testing.assert_allclose(est.score_samples(X),
                               multivariate_normal(mean, W @ W.T + np.diag(fit.psi)).logpdf(X), rtol=1e-13)
    np.testing.assert_allclose(np.mean(est.score_samples(X)), est.score(X), rtol=1e-12)


@pytest.mark.parametrize("seed", [0, 1])
def test_fa_at_beta_one_is_sklearn_factor_analysis_up_to_rotation(seed):
    """β = 1, ψ learned: mean-field VI reaches the ML fit (App. B.3: the free energy equals the
    log-likelihood in the rotation where WᵀΨ⁻¹W is diagonal). Oracles: scikit-learn's
    FactorAnalysis (SVD-based EM, Barber 21.2.33) and betalab's own ML EM (fa.fit_ml).

    Tolerances: both fits stop on their optimisers' tolerances near an optimum where the
    likelihood is flat to second order, so a score difference of ~1e-12 nats per sample allows
    covariance differences of ~1e-6 relative: scores to 1e-9 nats, covariances to 1e-5 relative."""
    from sklearn.decomposition import FactorAnalysis

    X = _fa_data(seed)
    est = BetaVIFactorAnalysis(2, random_state=seed).fit(X)
    sk = FactorAnalysis(2, tol=1e-12, max_iter=100_000).fit(X)
    C = est.get_covariance()
    np.testing.assert_allclose(C, sk.get_covariance(), rtol=0, atol=1e-5 * np.abs(C).max())
    assert est.score(X) == pytest.approx(sk.score(X), abs=1e-9)
    np.testing.assert_allclose(est.mean_, sk.mean_, rtol=1e-14)
    ml = fa.fit_ml(X - X.mean(0), 2, rng=0, n_iter=100_000, tol=1e-14)
    np.testing.assert_allclose(C, ml.W @ ml.W.T + np.diag(ml.psi), rtol=0, atol=1e-5 * np.abs(C).max())
    # the rotation: WᵀΨ⁻¹W diagonal, so the mean-field gap is 0 and F = log L
    W = est.components_.T
    G = W.T @ (W / est.noise_variance_[:, None])
    assert abs(G[0, 1]) < 1e-5 * np.sqrt(G[0, 0] * G[1, 1])
    assert est.free_energy(X) == pytest.approx(est.score(X), abs=1e-9)
    assert np.all(np.diff(est.free_energy_trace_) >= 0)


@pytest.mark.parametrize("beta", [1.0, 2.0, 5.0])
def test_fa_with_fixed_isotropic_noise_is_ppca_with_noise_beta_sigma2(beta):
    """App. B.6, corrected (the fa-beta study's claim): β-VI with noise σ² is VI with noise βσ², so
    WWᵀ = U(Λ − βσ²)₊Uᵀ (Tipping & Bishop 1999, eq 7) with U, Λ from numpy's eigh of the sample
    covariance. Tolerance 1e-5: L-BFGS stops at gradient entries ~1e-9·n, and a pruned column's
    norm ε enters WWᵀ as ε² but the objective at higher order (measured: ≤ 1.3e-6)."""
    X = _fa_data(2, n=400, L=5)
    s2 = 0.3
    est = BetaVIFactorAnalysis(5, beta=beta, noise_variance=s2, random_state=1).fit(X)
    lam, U = np.linalg.eigh(_centred_cov(X))
    W = est.components_.T
    np.testing.assert_allclose(W @ W.T, U @ np.diag(np.clip(lam - beta * s2, 0, None)) @ U.T, atol=1e-5)
    np.testing.assert_array_equal(est.noise_variance_, np.full(5, s2))
    # pruned components (λ ≤ βσ²) have ~zero columns, sorted last
    norms = np.linalg.norm(W, axis=0)
    n_kept = int(np.sum(lam > beta * s2))
    assert np.all(norms[:n_kept] > 0.1) and np.all(norms[n_kept:] < 1e-4)


def test_fa_gradient_matches_autograd_and_finite_differences(rng):
    """_fa_value_and_grad (envelope theorem) against fa.free_energy_grad (autograd, W) and central
    differences of fa.free_energy (log ψ); rtol 1e-6 is the finite-difference error at h = 1e-6."""
    X = _fa_data(3, n=50, L=4) - 1.0
    W = rng.normal(size=(4, 2))
    psi = rng.uniform(0.2, 1.0, 4)
    S = X.T @ X / 50
    for beta in (1.0, 2.5):
        F, gW, glog = _fa_value_and_grad(X, S, W, psi, beta, True)
        assert F == fa.free_energy(X, W, psi, beta)
        np.testing.assert_allclose(gW, fa.free_energy_grad(X, W, psi, beta), rtol=1e-10, atol=1e-12)
        h = 1e-6
        num = [(fa.free_energy(X, W, psi * np.exp(h * e), beta) - fa.free_energy(X, W, psi * np.exp(-h * e), beta))
               / (2 * h) for e in np.eye(4)]
        np.testing.assert_allclose(glog, num, rtol=1e-6, atol=1e-6)


def test_fa_convergence_warning_and_monotone_trace():
    X = _fa_data(4, n=200, L=5)
    with pytest.warns(ConvergenceWarning, match="max_iter = 2"):
        est = BetaVIFactorAnalysis(2, max_iter=2, random_state=0).fit(X)
    assert not est.converged_ and np.all(np.diff(est.free_energy_trace_) >= 0)


# =============================================================================== over-complete ICA
def _ica_data(n=150, seed=0, nu=3.5):
    W, psi = ica_true()
    X, _ = ica.sample(n, W, psi, nu=nu, rng=np.random.default_rng(seed))
    return X, W, psi


def ica_true():
    """The ica-overcomplete study's model: K = 3 directions 20°, 70°, 135° in L = 2, ψ = 0.1."""
    a = np.radians([20.0, 70.0, 135.0])
    return np.vstack([np.cos(a), np.sin(a)]), np.array([0.1, 0.1])


def test_ica_estimator_is_its_solver_exactly():
    X, W, psi = _ica_data()
    est = BetaVIOvercompleteICA(3, beta=2.0, noise_variance=psi, W_init=W, n_mc_samples=256,
                                random_state=5).fit(X)
    fit = ica.fit_meanfield(X, W, psi, 2.0, 3.5, 1.0)
    Wo, order = _order_and_sign(fit.W, ica.column_norms(fit.W))
    assert np.array_equal(est.mixing_, Wo) and np.array_equal(est.components_, Wo.T)
    assert est.free_energy_ == fit.free_energy / 150 and est.converged_ == fit.converged
    q = ica.fit_meanfield(X[:20], Wo, psi, 2.0, 3.5, 1.0, fit_W=False)
    assert np.array_equal(est.transform(X[:20]), q.mu)
    assert est.free_energy(X[:20]) == q.free_energy / 20
    ll = ica.log_likelihood(X[:20], Wo, psi, 3.5, 1.0, n_samples=256, rng=np.random.default_rng(5))
    assert est.score(X[:20]) == ll["value"] / 20
    assert np.array_equal(est.score_samples(X[:20]), ll["per_point"])
    # the per-sample q at the fitted W is the fit's q, up to the optimiser's tolerance
    assert est.free_energy(X) == pytest.approx(est.free_energy_, abs=1e-7)


@pytest.mark.parametrize("beta", [1.0, 3.0])
def test_ica_with_gaussian_limit_prior_is_factor_analysis(beta):
    """Reduction to a special case (App. B.7): as ν → ∞ the Student-t prior is N(0, σ²) and the
    model is factor analysis with weights σW, so the mean-field β-VI fits must agree with
    fit_beta_vi_fa at the same fixed ψ (an independent solver: closed-form q, no quadrature).
    At ν = 1e10 the expected log-priors differ by O((1 + E z⁴)/ν) ~ 1e-10 per latent, ~1e-7 nats
    over the n·K = 450 latents: free energies to 1e-6 nats in total. The two eigenvalues of the
    data (3.35, 3.55) are close, so the objective pins the rotation of W only weakly: both fits
    run to tol = 1e-15, and WWᵀ agrees to 1e-6 (measured 1.8e-7), with each other and with the
    closed form U(Λ − βσ²)₊Uᵀ of App. B.6 (corrected)."""
    X, W, psi = _ica_data(seed=1)
    est = BetaVIOvercompleteICA(3, beta=beta, noise_variance=0.1, nu=1e10, W_init=W, tol=1e-15).fit(X)
    ref = fit_beta_vi_fa(X, 3, beta, fix_psi=psi, rng=0, tol=1e-15)
    A = est.mixing_
    np.testing.assert_allclose(A @ A.T, ref.W @ ref.W.T, atol=1e-6)
    lam, U = np.linalg.eigh(X.T @ X / X.shape[0])
    np.testing.assert_allclose(A @ A.T, U @ np.diag(np.clip(lam - beta * 0.1, 0, None)) @ U.T, atol=1e-6)
    assert est.free_energy_ * X.shape[0] == pytest.approx(ref.free_energy, abs=1e-6)
    # over-complete (K = 3 > L = 2) with a Gaussian prior: one component is pruned
    assert np.linalg.norm(A[:, 2]) < 1e-4 < np.linalg.norm(A[:, 1])


def test_ica_random_start_fits_and_is_reproducible():
    X, _, psi = _ica_data(n=100, seed=2)
    a = BetaVIOvercompleteICA(3, noise_variance=0.1, random_state=0).fit(X)
    b = BetaVIOvercompleteICA(3, noise_variance=0.1, random_state=0).fit(X)
    assert np.array_equal(a.mixing_, b.mixing_) and a.converged_
    assert np.all(np.diff(a.free_energy_trace_) >= 0)
    assert np.all(np.diff(np.linalg.norm(a.mixing_, axis=0)) <= 0)       # sorted by norm


# =============================================================================== linear β-VAE
@pytest.mark.parametrize("beta", [0.5, 1.5, 3.0])
def test_linear_vae_estimator_is_the_closed_form_optimum_exactly(beta):
    X = _fa_data(5, n=500, L=5, K=2)
    est = LinearBetaVAE(2, beta=beta).fit(X)
    cov = _centred_cov(X)
    opt = lvae.optimum(cov, 2, beta)
    assert np.array_equal(est.components_, opt.params.D.T)
    assert np.array_equal(est.params_.W_mu, opt.params.W_mu) and np.array_equal(est.params_.D, opt.params.D)
    assert np.array_equal(est.posterior_variances_, opt.variances)
    assert np.array_equal(est.collapse_thresholds_, lvae.collapse_thresholds(cov, 2))
    assert np.array_equal(est.active_, opt.active) and np.array_equal(est.covariance_, cov)
    # the offsets: b^D = x̄, b^μ = −W^μ x̄, so transform is W^μ(x − x̄) (rounding only)
    np.testing.assert_allclose(est.transform(X), (X - X.mean(0)) @ opt.params.W_mu.T, rtol=1e-12, atol=1e-12)
    # score: the decoder's marginal N(x̄, DDᵀ + I) (eqs 78–80); theory's data-averaged form and scipy
    p0 = opt.params
    assert est.score(X) == pytest.approx(tlv.model_log_likelihood(p0.D, cov), rel=1e-12)
    np.testing.assert_allclose(est.score_samples(X), multivariate_normal(
        X.mean(0), p0.D @ p0.D.T + np.eye(5)).logpdf(X), rtol=1e-13)
    # free energy: the per-sample β-objective (eq 15) averaged over the sample is eq 34 at the
    # sample covariance, with the constants theory.linear_vae restores, and the closed form
    assert est.free_energy(X) == pytest.approx(tlv.objective(p0, cov, beta), rel=1e-12)
    assert est.free_energy(X) == pytest.approx(lvae.optimum_terms(cov, 2, [beta])["objective"][0], rel=1e-12)


def test_linear_vae_decoder_spans_the_pca_subspace():
    """Oracle: scikit-learn's PCA (SVD of the centred data). Each decoder column is a principal
    direction (|cos| = 1 to 1e-10, sign removed), λ_i are PCA's variances with the ML divisor n
    (PCA divides by n − 1), and ‖d_i‖² = λ_i − β. Special case β → 0: DDᵀ → the rank-k PCA
    reconstruction of the covariance, U_kΛ_kU_kᵀ (to β)."""
    from sklearn.decomposition import PCA

    X = _fa_data(6, n=400, L=6, K=3)
    n = X.shape[0]
    pca = PCA(3).fit(X)
    est = LinearBetaVAE(3, beta=0.7).fit(X)
    D = est.components_.T
    cos = np.abs(np.sum((D / np.linalg.norm(D, axis=0)) * pca.components_.T, axis=0))
    np.testing.assert_allclose(cos, 1.0, atol=1e-10)
    np.testing.assert_allclose(est.collapse_thresholds_, pca.explained_variance_ * (n - 1) / n, rtol=1e-10)
    np.testing.assert_allclose(np.sum(D**2, axis=0), est.collapse_thresholds_ - 0.7, rtol=1e-10)
    tiny = LinearBetaVAE(3, beta=1e-9).fit(X).components_.T
    lam_ml = pca.explained_variance_ * (n - 1) / n
    np.testing.assert_allclose(tiny @ tiny.T, pca.components_.T @ np.diag(lam_ml) @ pca.components_,
                               atol=1e-8)


@pytest.mark.parametrize("beta", [0.5, 1.0, 2.0])
def test_linear_vae_optimum_is_beta_vi_factor_analysis_with_unit_noise(beta):
    """Two independent routes to one model: the linear β-VAE's optimum (closed form, eq 43) is
    β-VI factor analysis with the noise fixed at 1 (Sikka's σ_y² = 1), fitted by L-BFGS over the
    mean-field free energy: the same DDᵀ = U(Λ − β)₊Uᵀ (1e-5: optimiser tolerance), the same
    posterior means and variances (1e-4) and the same free energy per sample (1e-9 nats)."""
    X = _fa_data(7, n=400, L=4, K=2, offset=0.5) * 1.5
    vae = LinearBetaVAE(2, beta=beta).fit(X)
    fa1 = BetaVIFactorAnalysis(2, beta=beta, noise_variance=1.0, random_state=0).fit(X)
    D, W = vae.components_.T, fa1.components_.T
    np.testing.assert_allclose(D @ D.T, W @ W.T, atol=1e-5)
    np.testing.assert_allclose(vae.posterior_variances_, fa1.posterior_variances_, atol=1e-4)
    assert vae.free_energy(X) == pytest.approx(fa1.free_energy(X), abs=1e-9)
    signs = np.sign(np.sum(D * W, axis=0))
    np.testing.assert_allclose(vae.transform(X), fa1.transform(X) * signs, atol=1e-4)


def test_linear_vae_collapse_and_decoder():
    X = _fa_data(8, n=300, L=4, K=2)
    lam = LinearBetaVAE(4).fit(X).collapse_thresholds_
    beta = 0.5 * (lam[1] + lam[2])                       # two latents active, two collapsed
    est = LinearBetaVAE(4, beta=beta).fit(X)
    assert est.active_.tolist() == [True, True, False, False]
    np.testing.assert_array_equal(est.components_[2:], 0.0)
    np.testing.assert_array_equal(est.posterior_variances_[2:], 1.0)  # q = prior
    Z = est.transform(X)
    np.testing.assert_allclose(Z[:, 2:], 0.0, atol=1e-12)
    np.testing.assert_allclose(est.inverse_transform(Z), (Z @ est.components_) + X.mean(0), rtol=1e-13)
    assert np.all(LinearBetaVAE(4, beta=1.01 * lam[0]).fit(X).components_ == 0.0)


# =============================================================================== scikit-learn API
ESTIMATORS = [lambda: BetaVIFactorAnalysis(2, beta=2.0), lambda: LinearBetaVAE(2, beta=0.5),
              lambda: BetaVIOvercompleteICA(3, max_iter=50, n_mc_samples=16, random_state=0)]


@pytest.mark.parametrize("make", ESTIMATORS, ids=["fa", "vae", "ica"])
def test_params_clone_and_fit_returns_self(make):
    from sklearn.base import clone

    est = make()
    params = est.get_params()
    assert set(params) == set(clone(est).get_params())
    assert est.set_params(beta=4.0) is est and est.beta == 4.0
    with pytest.raises(ValueError, match="bogus"):
        est.set_params(bogus=1)
    X = _fa_data(9, n=40, L=3, K=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        assert est.fit(X) is est
    assert est.n_features_in_ == 3 and "beta=4.0" in repr(est)
    assert not hasattr(make(), "n_features_in_")                  # __init__ stores parameters only
    with pytest.raises(ValueError, match="X has 2 features, but .* expecting 3"):
        est.transform(X[:, :2])
    with pytest.raises(NotFittedError, match="not fitted"):
        make().transform(X)


BAD = [  # (estimator, X, the name the error must carry)
    (lambda: BetaVIFactorAnalysis(0), None, "n_components"),
    (lambda: BetaVIFactorAnalysis(1.5), None, "n_components"),
    (lambda: BetaVIFactorAnalysis(2, beta=-1.0), None, "beta"),
    (lambda: BetaVIFactorAnalysis(2, beta="1"), None, "beta"),
    (lambda: BetaVIFactorAnalysis(2, noise_variance=[0.1, 0.2]), None, "noise_variance"),
    (lambda: BetaVIFactorAnalysis(2, noise_variance=-0.1), None, "noise_variance"),
    (lambda: BetaVIFactorAnalysis(2, max_iter=0), None, "max_iter"),
    (lambda: BetaVIFactorAnalysis(2, tol=2.0), None, "tol"),
    (lambda: BetaVIFactorAnalysis(2, random_state="seed"), None, "random_state"),
    (lambda: BetaVIFactorAnalysis(2, random_state=np.random.RandomState(0)), None, "random_state"),
    (lambda: BetaVIFactorAnalysis(2), np.ones(5), "X"),
    (lambda: BetaVIFactorAnalysis(2), np.full((5, 3), np.nan), "X"),
    (lambda: BetaVIFactorAnalysis(2), np.ones((1, 3)), "X"),
    (lambda: BetaVIFactorAnalysis(2), np.ones((5, 3)) + 1j, "X"),
    (lambda: LinearBetaVAE(4), None, "n_latents"),
    (lambda: LinearBetaVAE(2, beta=0.0), None, "beta"),
    (lambda: LinearBetaVAE(2), np.random.default_rng(0).normal(size=(3, 3)), "X"),     # n <= L
    (lambda: LinearBetaVAE(2), np.outer(np.arange(9.0), [1.0, 2.0, 3.0]), "X"),      # collinear
    (lambda: LinearBetaVAE(2), np.zeros((3, 0)), "X"),
    (lambda: BetaVIOvercompleteICA(3, W_init=np.ones((2, 3))), None, "W_init"),
    (lambda: BetaVIOvercompleteICA(3, nu=0.0), None, "nu"),
    (lambda: BetaVIOvercompleteICA(3, scale=-1.0), None, "scale"),
    (lambda: BetaVIOvercompleteICA(3, noise_variance=0.0), None, "noise_variance"),
    (lambda: BetaVIOvercompleteICA(3, n_mc_samples=1), None, "n_mc_samples"),
    (lambda: BetaVIOvercompleteICA(0), None, "n_components"),
]


@pytest.mark.parametrize("make, X, name", BAD, ids=[f"{i}-{b[2]}" for i, b in enumerate(BAD)])
def test_bad_input_raises_naming_the_parameter(make, X, name):
    X = _fa_data(10, n=30, L=3, K=1) if X is None else X
    with pytest.raises((ValueError, TypeError)) as err:
        make().fit(X)
    assert str(err.value).startswith(name), str(err.value)


# =============================================================================== argument names
def test_covariance_arguments_are_cov_and_old_names_are_deprecated():
    S = tlv.data_covariance(np.array([[1.0, 0.0], [0.5, 1.0], [0.0, 0.3]]))
    new = lvae.optimum(cov=S, k=2, beta=0.5)
    with pytest.warns(DeprecationWarning, match="'sigma_x' is deprecated; use 'cov'"):
        old = lvae.optimum(sigma_x=S, k=2, beta=0.5)
    assert np.array_equal(old.params.D, new.params.D)
    with pytest.warns(DeprecationWarning, match="'Sigma_x' is deprecated; use 'cov'"):
        thr = lvae.collapse_thresholds(Sigma_x=S, k=2)
    assert np.array_equal(thr, lvae.collapse_thresholds(cov=S, k=2))
    with pytest.raises(TypeError, match="both 'cov' and its deprecated name 'sigma_x'"):
        lvae.optimum(cov=S, sigma_x=S, k=2, beta=0.5)
    with pytest.raises(ValueError, match="^cov must be positive definite"):
        lvae.optimum(np.diag([1.0, -1.0]), 1, 1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)          # the new names warn nothing
        lvae.optimum(S, 2, 0.5)
        lvae.collapse_thresholds(S, 2)
