r"""Estimators for the classroom: the linear models of the papers as scikit-learn-style classes.

Three thin classes over the solvers of this package, in the scikit-learn convention: ``__init__``
only stores its parameters, ``fit(X)`` validates them and returns ``self``, learned attributes end
in ``_``, ``get_params``/``set_params`` work as in scikit-learn (so ``sklearn.base.clone``,
pipelines and ``GridSearchCV`` accept them), ``transform`` gives posterior means and ``score``
the average log-likelihood per sample, in nats.

* :class:`BetaVIFactorAnalysis` — factor analysis under mean-field β-VI (Stühmer et al. 2020,
  eqs 13–16, App. B.1–B.6), fitted by :func:`fit_beta_vi_fa` over the closed-form optimal q of
  :func:`linear_models.factor_analysis.meanfield_optimum`;
* :class:`BetaVIOvercompleteICA` — over-complete ICA under mean-field β-VI (Stühmer et al. 2020,
  sec. 2.4, App. B.7–B.9), fitted by :func:`linear_models.ica.fit_meanfield`;
* :class:`LinearBetaVAE` — the global optimum of the linear β-VAE (Sikka 2020, eqs 26–47),
  :func:`linear_models.linear_vae.optimum` at the sample covariance.

Every class has the same reading of its methods:

``score(X)``
    the **average log-likelihood per sample**, :math:`\frac1n\sum_n\log p(x_n)`, of the fitted
    generative model (exact for factor analysis and the linear β-VAE, a Monte Carlo estimate for
    ICA), as scikit-learn's ``FactorAnalysis.score``; ``score_samples(X)`` per sample.
``free_energy(X)``
    the **average β-VI free energy per sample**,
    :math:`\frac1n\sum_n\big(\mathbb E_q\log p(x_n|z) - \beta\,\mathrm{KL}(q_n\|p)\big)`
    (Stühmer et al. 2020, eq 13; Sikka 2020, eq 15) at the optimal q for ``X``: the objective
    ``fit`` maximises. At β = 1 it is the ELBO, ≤ ``score(X)``.
``transform(X)``
    the means of the optimal (mean-field) posterior q(z|x) for each row, shape
    (n_samples, n_components).

Why one module for the three (and the Lp-nested distribution elsewhere): the estimators share
one small base (parameters, the checks of ``X``, scikit-learn's tags) and all wrap solvers of
:mod:`linear_models`; the scipy-style Lp-nested distribution wraps a closed form of
:mod:`theory` and lives in :mod:`theory.distributions`, since :mod:`theory` never imports
:mod:`linear_models`.

scikit-learn is not a dependency of betalab: the base class below implements
``get_params``/``set_params`` itself (from the ``__init__`` signature, as
``sklearn.base.BaseEstimator`` does) and answers scikit-learn's tag query
(``__sklearn_tags__``) only when scikit-learn asks, i.e. when it is installed.

Centring. Factor analysis and the linear β-VAE estimate an offset ``mean_`` (the sample mean)
and fit the mean-free model to ``X - mean_``, as scikit-learn's ``FactorAnalysis`` and ``PCA``
do. For both models the sample mean is the exact optimum of an added offset (β-VI included: at
the optimal q, :math:`\mathcal F_\beta` is, up to terms free of the offset, β times a Gaussian
log-likelihood of the offset with mean the sample mean); Sikka's model has the offsets
:math:`b^D = \bar x`, :math:`b^\mu = -W^\mu\bar x` in its parameters (eqs 29, 32). The ICA model
of App. B.7 has no offset and under a Student-t prior the sample mean is not its optimum, so
:class:`BetaVIOvercompleteICA` fits ``X`` as given.

Example::

    import numpy as np
    from linear_models import BetaVIFactorAnalysis, LinearBetaVAE
    rng = np.random.default_rng(0)
    X = rng.normal(size=(500, 2)) @ np.array([[2.0, 0.5, 0.0], [0.0, 1.0, 1.5]]) \
        + 0.5 * rng.normal(size=(500, 3))
    fa4 = BetaVIFactorAnalysis(n_components=2, beta=4.0, noise_variance=0.25).fit(X)
    fa4.components_, fa4.score(X), fa4.free_energy(X)   # (2, 3) loadings, nats per sample
    vae = LinearBetaVAE(n_latents=2, beta=1.5).fit(X)
    vae.transform(X[:3]), vae.collapse_thresholds_      # posterior means; β at which each latent collapses
"""

from __future__ import annotations

__all__ = ["ConvergenceWarning", "NotFittedError", "BetaVIFAFit", "fit_beta_vi_fa",
           "BetaVIFactorAnalysis", "BetaVIOvercompleteICA", "LinearBetaVAE"]

import inspect
import numbers
import warnings
from dataclasses import dataclass

import numpy as np
from scipy import optimize
from scipy.stats import multivariate_normal

from linear_models import factor_analysis as fa
from linear_models import ica
from linear_models import linear_vae as lvae
from validation import as_float_array, check_int, check_real, positive_vector


class ConvergenceWarning(UserWarning):
    """A fit stopped at ``max_iter`` before its tolerance was met (as scikit-learn's)."""


class NotFittedError(ValueError, AttributeError):
    """A method that needs a fitted estimator was called before ``fit`` (as scikit-learn's:
    both a ValueError and an AttributeError)."""


#: largest ``|entry|`` of X: second moments stay finite in float64 (the bound of the solvers)
ENTRY_BOUND = fa.ENTRY_BOUND


def _random_generator(random_state, name: str = "random_state") -> np.random.Generator:
    """``numpy.random.default_rng(random_state)`` for None, an int seed or a Generator.

    A ``numpy.random.RandomState`` is refused: the solvers draw with the Generator API."""
    if isinstance(random_state, np.random.Generator):
        return random_state
    if random_state is None or (isinstance(random_state, numbers.Integral)
                                and not isinstance(random_state, (bool, np.bool_))):
        if random_state is not None and random_state < 0:
            raise ValueError(f"{name} must be a non-negative int seed, got {random_state!r}")
        return np.random.default_rng(random_state)
    raise TypeError(f"{name} must be None, an int seed or a numpy.random.Generator, got "
                    f"{type(random_state).__name__}")


def _order_and_sign(W, weights):
    """Columns of W sorted by decreasing ``weights`` (one per column), each signed so that its
    entry of largest magnitude is positive. The free energies of this module are invariant under
    this signed permutation of the latents (factorised q, symmetric prior)."""
    order = np.argsort(-weights, kind="stable")
    W = W[:, order]
    idx = np.argmax(np.abs(W), axis=0)
    signs = np.sign(W[idx, np.arange(W.shape[1])])
    return W * np.where(signs == 0, 1.0, signs), order


# =============================================================================== the base
class _Estimator:
    """Parameters from the ``__init__`` signature, the checks of ``X``, scikit-learn's tags."""

    @classmethod
    def _param_names(cls) -> list[str]:
        sig = inspect.signature(cls.__init__)
        return [p.name for p in sig.parameters.values()
                if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]

    def get_params(self, deep: bool = True) -> dict:
        """The ``__init__`` parameters as a dict (``deep`` is accepted for scikit-learn; these
        estimators hold no sub-estimators)."""
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params):
        """Set ``__init__`` parameters by name; returns ``self``. Checked at the next ``fit``."""
        valid = self._param_names()
        for key, value in params.items():
            if key not in valid:
                raise ValueError(f"{key} is not a parameter of {type(self).__name__} "
                                 f"(valid parameters: {valid})")
            setattr(self, key, value)
        return self

    def __repr__(self) -> str:
        sig = inspect.signature(type(self).__init__)
        shown = []
        for name in self._param_names():
            value, default = getattr(self, name), sig.parameters[name].default
            try:
                same = value is default or bool(value == default)
            except Exception:  # noqa: BLE001 - arrays compare elementwise: show them
                same = False
            if not same:
                shown.append(f"{name}={value!r}")
        return f"{type(self).__name__}({', '.join(shown)})"

    def __sklearn_tags__(self):
        # Called only by scikit-learn (then installed): the tags of a transformer whose input is
        # a dense 2-d float array without NaN, no target.
        from sklearn.utils import InputTags, Tags, TargetTags, TransformerTags

        return Tags(estimator_type=None, target_tags=TargetTags(required=False),
                    transformer_tags=TransformerTags(preserves_dtype=["float64"]),
                    input_tags=InputTags(two_d_array=True, sparse=False, allow_nan=False))

    # ------------------------------------------------------------------ checks
    def _validate_data(self, X, *, reset: bool, min_samples: int = 1) -> np.ndarray:
        """``X`` as a finite float64 (n, L) array. After fit (``reset`` False) the estimator must
        be fitted and ``X`` have its ``n_features_in_`` columns; ``fit`` sets ``n_features_in_``
        last, so an estimator whose fit failed is not fitted."""
        if not reset:
            self._check_fitted()
        if type(X).__module__.startswith("scipy.sparse"):
            raise TypeError(f"X must be a dense array; got a sparse {type(X).__name__} (use X.toarray())")
        try:
            ndim = np.ndim(X)
        except (TypeError, ValueError):       # ragged input: as_float_array names it below
            ndim = None
        if ndim == 1:
            raise ValueError(f"X must have 2 dimensions (n_samples, n_features), got shape "
                             f"{np.shape(X)}. Reshape your data with X.reshape(-1, 1) if it has a "
                             f"single feature or X.reshape(1, -1) if it is a single sample.")
        X = as_float_array(X, "X", 2, low=-ENTRY_BOUND, high=ENTRY_BOUND)
        n, L = X.shape
        if L < 1:
            raise ValueError(f"X has 0 feature(s) (shape={X.shape}) while a minimum of 1 is required.")
        if n < min_samples:
            raise ValueError(f"X has {n} sample(s) (n_samples = {n}) while a minimum of "
                             f"{min_samples} is required by {type(self).__name__}.")
        if not reset and L != self.n_features_in_:
            raise ValueError(f"X has {L} features, but {type(self).__name__} is expecting "
                             f"{self.n_features_in_} features as input.")
        return X

    def _check_fitted(self):
        if not hasattr(self, "n_features_in_"):
            raise NotFittedError(f"This {type(self).__name__} is not fitted yet: call fit(X) first.")

    def fit_transform(self, X, y=None):
        """``fit(X)`` then ``transform(X)``."""
        return self.fit(X, y).transform(X)


def _noise_vector(noise_variance, L: int) -> np.ndarray:
    """A fixed noise variance: a float (isotropic) or an array of shape (L,), entries in
    [1e-100, 1e100] (ψ divides squares of entries up to 1e100: the quotients stay in float64)."""
    low, high = 1.0 / ENTRY_BOUND, ENTRY_BOUND
    if isinstance(noise_variance, numbers.Real) and not isinstance(noise_variance, (bool, np.bool_)):
        return np.full(L, check_real(noise_variance, "noise_variance", low=low, high=high))
    psi = positive_vector(noise_variance, "noise_variance", L)
    if np.any(psi < low) or np.any(psi > high):
        raise ValueError(f"noise_variance must lie in [{low:g}, {high:g}] elementwise")
    return psi


# =============================================================================== factor analysis
@dataclass
class BetaVIFAFit:
    """Result of :func:`fit_beta_vi_fa`.

    W : ndarray (L, K); psi : ndarray (L,); free_energy : float (eq 13, nats summed over rows);
    n_iter : int; trace : ndarray (n_iter + 1,), the free energy at the start and after every
    accepted iteration (non-decreasing); converged : bool.
    """

    W: np.ndarray
    psi: np.ndarray
    free_energy: float
    n_iter: int
    trace: np.ndarray
    converged: bool


def _fa_value_and_grad(X, S, W, psi, beta, free: bool):
    r"""(F_β, ∂F_β/∂W, ∂F_β/∂log ψ) at the optimal mean-field q (Stühmer et al. 2020, eq 13).

    q is at its optimum for (W, ψ), so by the envelope theorem the total derivative is the
    partial derivative with q held fixed, and only :math:`\mathbb E_q\log p(X|Z)` (the
    reconstruction of eq 16) depends on (W, ψ). With :math:`E_{zz} = \frac1n\sum_n m_nm_n^\top +
    \mathrm{diag}(s)` and :math:`E_{xz} = \frac1n\sum_n x_nm_n^\top`:
    :math:`\partial F/\partial W = n\Psi^{-1}(E_{xz} - WE_{zz})`, and with
    :math:`a_l = [S - 2WE_{xz}^\top + WE_{zz}W^\top]_{ll}`,
    :math:`\partial F/\partial\log\psi_l = -\tfrac n2(1 - a_l/\psi_l)`."""
    n = X.shape[0]
    m, s = fa.meanfield_optimum(X, W, psi, beta)
    F = fa.free_energy(X, W, psi, beta)
    Ezz = m.T @ m / n + np.diag(s)
    Exz = X.T @ m / n
    gW = n * (Exz - W @ Ezz) / psi[:, None]
    if not free:
        return F, gW, None
    a = np.diag(S) - 2.0 * np.sum(W * Exz, axis=1) + np.sum((W @ Ezz) * W, axis=1)
    return F, gW, -0.5 * n * (1.0 - a / psi)


def fit_beta_vi_fa(X, K: int, beta=1.0, *, fix_psi=None, n_iter: int = 10000, tol: float = 1e-12,
                   rng=None) -> BetaVIFAFit:
    r"""Maximise the mean-field β-VI free energy of factor analysis over W (and ψ).

    The objective is eq 13 of Stühmer et al. 2020, :math:`\mathcal F_\beta = \mathbb E_q\log
    p(X|Z) - \beta\,\mathrm{KL}(q\|p)` for the model of eq 14 (no mean; centre ``X`` first), at
    the optimal fully factorised Gaussian q of every row, which is known in closed form
    (App. B.2, :func:`linear_models.factor_analysis.meanfield_optimum`: the exact β-posterior's
    means, variances :math:`1/\mathrm{diag}(\tilde\Lambda)`). So
    :math:`\mathcal F_\beta(W, \psi)` = :func:`linear_models.factor_analysis.free_energy` is an
    explicit function, maximised here by L-BFGS-B over W and log ψ with the exact gradient
    (:func:`_fa_value_and_grad`, envelope theorem). L-BFGS-B's line search accepts only
    iterates that raise :math:`\mathcal F_\beta` (Armijo), so ``trace`` never decreases.

    At β = 1 the optimum is the maximum-likelihood fit, in the rotation where
    :math:`W^\top\Psi^{-1}W` is diagonal (there the mean-field gap
    :func:`~linear_models.factor_analysis.meanfield_kl_per_point` is 0; App. B.3). ``fix_psi``
    (shape (L,)) keeps the noise fixed, the setting of App. B.3–B.6; with isotropic σ² the fit is
    then probabilistic PCA with noise βσ² (App. B.6, corrected). ψ is kept ≥ 1e-12·mean(diag S),
    S = XᵀX/n (a Heywood case stops there). Start: ψ = diag(S)/2, W with N(0, mean(diag S)/K)
    entries drawn from ``rng`` (as :func:`linear_models.factor_analysis.fit_ml`). Stops when the
    relative change of :math:`\mathcal F_\beta` over one iteration is below ``tol`` or every
    gradient entry is below 1e-9·n in magnitude.

    Parameters
    ----------
    X : ndarray of shape (n, L), n >= 2
    K : int >= 1, number of latents
    beta : float in [1e-300, 1e300]
    fix_psi : ndarray of shape (L,), optional
    n_iter : int >= 1, the most iterations; tol : float in [0, 1]; rng : None, seed or Generator

    Returns
    -------
    BetaVIFAFit
    """
    X = as_float_array(X, "X", 2, low=-ENTRY_BOUND, high=ENTRY_BOUND)
    n, L = X.shape
    K = check_int(K, "K", low=1)
    beta = fa._beta(beta)
    n_iter = check_int(n_iter, "n_iter", low=1)
    tol = check_real(tol, "tol", low=0.0, high=1.0)
    if L < 1 or n < 2:
        raise ValueError(f"X must have at least 2 rows and 1 column, got shape {X.shape}")
    rng = _random_generator(rng, "rng")
    S = X.T @ X / n
    scale = float(np.mean(np.diag(S)))
    if scale <= 0:
        raise ValueError("X must not be all zeros (its second moment XᵀX/n is 0)")
    free = fix_psi is None
    floor = 1e-12 * scale
    psi0 = np.maximum(0.5 * np.diag(S), floor) if free else positive_vector(fix_psi, "fix_psi", L)
    W0 = rng.normal(size=(L, K)) * np.sqrt(scale / K)

    def unpack(v):
        return v[: L * K].reshape(L, K), (np.exp(v[L * K:]) if free else psi0)

    def neg(v):
        W, psi = unpack(v)
        F, gW, glog_psi = _fa_value_and_grad(X, S, W, psi, beta, free)
        g = gW.ravel() if not free else np.concatenate([gW.ravel(), glog_psi])
        return -F, -g

    trace = [fa.free_energy(X, W0, psi0, beta)]
    v0 = np.concatenate([W0.ravel(), np.log(psi0)]) if free else W0.ravel()
    bounds = [(None, None)] * (L * K) + ([(float(np.log(floor)), None)] * L if free else [])
    res = optimize.minimize(neg, v0, jac=True, method="L-BFGS-B", bounds=bounds,
                            callback=lambda intermediate_result: trace.append(-intermediate_result.fun),
                            options={"maxiter": n_iter, "maxfun": 4 * n_iter, "ftol": tol,
                                     "gtol": 1e-9 * n, "maxcor": 30})
    W, psi = unpack(res.x)
    psi = np.maximum(psi, floor) if free else psi.copy()
    return BetaVIFAFit(W.copy(), psi, fa.free_energy(X, W, psi, beta), int(res.nit),
                       np.asarray(trace, dtype=float), bool(res.success))


class BetaVIFactorAnalysis(_Estimator):
    r"""Factor analysis fitted by mean-field β-VI (Stühmer et al. 2020, eqs 13–16, App. B).

    Model (eq 14, with an offset): :math:`z\sim\mathcal N(0, I_K)`,
    :math:`x\mid z\sim\mathcal N(Wz + \mu, \Psi)`, :math:`\Psi = \mathrm{diag}(\psi)`. ``fit``
    maximises the β-VI free energy (eq 13) over W (and ψ) with a fully factorised Gaussian q per
    sample, whose optimum is known in closed form (:func:`fit_beta_vi_fa`).

    * β = 1, ψ learned: mean-field VI reaches the maximum-likelihood fit (the implied covariance
      :math:`WW^\top+\Psi` of scikit-learn's ``FactorAnalysis``), in the rotation where
      :math:`W^\top\Psi^{-1}W` is diagonal, the only one where the free energy equals the
      log-likelihood (App. B.3: the ML likelihood is flat in the rotation, the free energy is not).
    * ``noise_variance`` fixed (App. B.3–B.6): with isotropic σ² the β-VI fit is PPCA with noise
      βσ²: :math:`WW^\top = U(\Lambda-\beta\sigma^2)_+U^\top`, same directions, smaller
      magnitudes, components with eigenvalue ≤ βσ² pruned (App. B.6, corrected).

    Parameters
    ----------
    n_components : int >= 1 or None (default: the number of features), K
    beta : float > 0 (in [1e-300, 1e300]), the weight of KL(q‖p) in eq 13
    noise_variance : None (learn ψ, default), a float (fixed isotropic σ²) or an array of
        shape (n_features,) (fixed ψ), in [1e-100, 1e100]
    max_iter : int >= 1; tol : float in [0, 1] (relative change of the free energy per
        iteration, :func:`fit_beta_vi_fa`)
    random_state : None, an int seed or a numpy.random.Generator (the start of W)

    Attributes
    ----------
    components_ : ndarray of shape (n_components, n_features), Wᵀ; columns of W ordered by
        decreasing :math:`[W^\top\Psi^{-1}W]_{kk}`, each signed so its largest entry is positive
    noise_variance_ : ndarray of shape (n_features,), ψ
    mean_ : ndarray of shape (n_features,)
    posterior_variances_ : ndarray of shape (n_components,), the variances of the optimal
        mean-field q, the same for every sample (App. B.2)
    free_energy_trace_ : ndarray, the free energy per sample along the fit (non-decreasing)
    n_iter_ : int
    converged_ : bool
    n_features_in_ : int

    Examples
    --------
    ::

        fa1 = BetaVIFactorAnalysis(n_components=2).fit(X)     # β = 1, ψ learned: the ML fit
        fa1.get_covariance()                                  # W Wᵀ + Ψ, as FactorAnalysis's
        fa1.transform(X), fa1.score(X), fa1.free_energy(X)    # means of q; nats per sample
    """

    def __init__(self, n_components=None, *, beta=1.0, noise_variance=None, max_iter=10000,
                 tol=1e-12, random_state=None):
        self.n_components = n_components
        self.beta = beta
        self.noise_variance = noise_variance
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state

    def fit(self, X, y=None):
        """Fit W (and ψ) to ``X`` of shape (n_samples, n_features), n_samples >= 2. Returns self."""
        X = self._validate_data(X, reset=True, min_samples=2)
        L = X.shape[1]
        K = L if self.n_components is None else check_int(self.n_components, "n_components", low=1)
        beta = fa._beta(self.beta)
        fix_psi = None if self.noise_variance is None else _noise_vector(self.noise_variance, L)
        max_iter = check_int(self.max_iter, "max_iter", low=1)
        tol = check_real(self.tol, "tol", low=0.0, high=1.0)
        rng = _random_generator(self.random_state)
        mean = X.mean(axis=0)
        fit = fit_beta_vi_fa(X - mean, K, beta, fix_psi=fix_psi, n_iter=max_iter, tol=tol, rng=rng)
        if not fit.converged:
            warnings.warn(f"BetaVIFactorAnalysis: the optimiser stopped before convergence "
                          f"(max_iter = {max_iter}, tol = {tol:g})", ConvergenceWarning, stacklevel=2)
        W, _ = _order_and_sign(fit.W, np.sum(fit.W**2 / fit.psi[:, None], axis=0))
        self.mean_ = mean
        self.components_ = W.T.copy()
        self.noise_variance_ = fit.psi.copy()
        # the optimal mean-field variances are the same for every row: one row gives them
        self.posterior_variances_ = fa.meanfield_optimum(X[:1] - mean, W, fit.psi, beta)[1]
        self.free_energy_trace_ = fit.trace / X.shape[0]
        self.n_iter_ = fit.n_iter
        self.converged_ = fit.converged
        self._beta = beta
        self.n_features_in_ = X.shape[1]
        return self

    def get_covariance(self) -> np.ndarray:
        r"""The implied covariance :math:`WW^\top + \Psi`, shape (n_features, n_features)."""
        self._check_fitted()
        return self.components_.T @ self.components_ + np.diag(self.noise_variance_)

    def transform(self, X) -> np.ndarray:
        r"""Means of the optimal mean-field q per row, shape (n_samples, n_components): the exact
        β-posterior means :math:`\tilde\Sigma M W^\top\Psi^{-1}(x_n - \mu)` (eq 15, App. B.2)."""
        X = self._validate_data(X, reset=False)
        return fa.meanfield_optimum(X - self.mean_, self.components_.T, self.noise_variance_,
                                    self._beta)[0]

    def score_samples(self, X) -> np.ndarray:
        r""":math:`\log\mathcal N(x_n;\mu, WW^\top+\Psi)` per row (App. B.2, the display after
        eq 15), shape (n_samples,)."""
        X = self._validate_data(X, reset=False)
        return np.atleast_1d(multivariate_normal(self.mean_, self.get_covariance()).logpdf(X))

    def score(self, X, y=None) -> float:
        """Average log-likelihood per sample, nats (:func:`linear_models.factor_analysis.log_likelihood`
        of the centred rows, divided by n); scikit-learn's ``FactorAnalysis.score`` is the same."""
        X = self._validate_data(X, reset=False)
        return fa.log_likelihood(X - self.mean_, self.components_.T, self.noise_variance_) / X.shape[0]

    def free_energy(self, X, normalisation: str = "eq13") -> float:
        """Average β-VI free energy per sample at the optimal mean-field q, nats (eq 13; with
        ``normalisation="eq16"`` divided by β, eq 16). ``fit`` maximises it on the training data."""
        X = self._validate_data(X, reset=False)
        return fa.free_energy(X - self.mean_, self.components_.T, self.noise_variance_, self._beta,
                              normalisation) / X.shape[0]


# =============================================================================== over-complete ICA
class BetaVIOvercompleteICA(_Estimator):
    r"""Over-complete linear ICA fitted by mean-field β-VI (Stühmer et al. 2020, sec. 2.4, App. B.7–B.9).

    Model (App. B.7): :math:`z_k\sim t_\nu(0, \sigma)` i.i.d., :math:`x\mid z\sim\mathcal
    N(Wz, \Psi)` with W of shape (n_features, n_components) — more latents than features is the
    point — and the noise ψ **fixed**, as in the paper. ``fit`` runs
    :func:`linear_models.ica.fit_meanfield`: the β-VI free energy (eq 13) over W and a
    non-amortised mean-field Gaussian q per sample, from ``W_init`` (the paper starts at the true
    W) or a random start. Run to convergence, VI (β = 1) prunes a component as β-VI does in the
    paper's setting, where the paper shows three at β = 1 (betalab's ``ica-overcomplete`` study,
    recorded as *differs*).

    ``X`` is fitted as given: the model has no offset (and under the Student-t prior the sample
    mean would not be its optimum); centre it first if needed.

    Parameters
    ----------
    n_components : int >= 1, K (default 3, the paper's)
    beta : float in [1e-100, 1e100]
    noise_variance : float or array of shape (n_features,) in [1e-100, 1e100], the fixed ψ
        (default 0.1, the ``ica-overcomplete`` study's)
    nu : float in [0.1, 1e12], Student-t degrees of freedom (3.5 in App. B.8); scale : σ
    W_init : None or array of shape (n_features, n_components), the start of W
    max_iter : int >= 1; tol : float in (0, 1] (of :func:`~linear_models.ica.fit_meanfield`)
    n_mc_samples : int >= 2, Monte Carlo draws of :meth:`score` (App. B.7 likelihood)
    random_state : None, an int seed or a numpy.random.Generator (random start; Monte Carlo)

    Attributes
    ----------
    mixing_ : ndarray of shape (n_features, n_components), W, columns ordered by decreasing norm
        and signed so that each column's largest entry is positive; a pruned column has norm ~0
    components_ : ndarray of shape (n_components, n_features), Wᵀ (as for
        :class:`BetaVIFactorAnalysis`; not an unmixing matrix: an over-complete W has none, the
        inference is the per-sample q of :meth:`transform`)
    free_energy_ : float, the free energy per sample at the end of the fit
    free_energy_trace_ : ndarray, per sample along the fit
    n_iter_ : int
    converged_ : bool

    Examples
    --------
    ::

        ica3 = BetaVIOvercompleteICA(n_components=3, beta=1.0, random_state=0).fit(X)
        np.linalg.norm(ica3.mixing_, axis=0)        # column norms: pruned components at ~0
    """

    def __init__(self, n_components=3, *, beta=1.0, noise_variance=0.1, nu=3.5, scale=1.0,
                 W_init=None, max_iter=20000, tol=1e-12, n_mc_samples=4096, random_state=None):
        self.n_components = n_components
        self.beta = beta
        self.noise_variance = noise_variance
        self.nu = nu
        self.scale = scale
        self.W_init = W_init
        self.max_iter = max_iter
        self.tol = tol
        self.n_mc_samples = n_mc_samples
        self.random_state = random_state

    def _settings(self):
        """The checked solver settings: (β, ν, σ, max_iter, tol)."""
        beta = ica._BETA_FIT.check(self.beta, "beta")
        nu, scale = ica._check_nu_scale(self.nu, self.scale)
        max_iter = check_int(self.max_iter, "max_iter", low=1)
        tol = check_real(self.tol, "tol", low=0.0, high=1.0, closed="right")
        return beta, nu, scale, max_iter, tol

    def fit(self, X, y=None):
        """Fit W (and q) to ``X`` of shape (n_samples, n_features). Returns self."""
        X = self._validate_data(X, reset=True)
        n, L = X.shape
        K = check_int(self.n_components, "n_components", low=1)
        beta, nu, scale, max_iter, tol = self._settings()
        psi = _noise_vector(self.noise_variance, L)
        check_int(self.n_mc_samples, "n_mc_samples", low=2)
        rng = _random_generator(self.random_state)
        if self.W_init is None:
            W0 = rng.normal(size=(L, K)) * np.sqrt(max(float(np.mean(X**2)), 1e-12) / K)
        else:
            W0 = as_float_array(self.W_init, "W_init", 2, low=-ENTRY_BOUND, high=ENTRY_BOUND)
            if W0.shape != (L, K):
                raise ValueError(f"W_init must have shape {(L, K)} (n_features, n_components), "
                                 f"got {W0.shape}")
        fit = ica.fit_meanfield(X, W0, psi, beta, nu, scale, tol=tol, max_iter=max_iter)
        if not fit.converged:
            warnings.warn(f"BetaVIOvercompleteICA: the optimiser stopped before convergence "
                          f"({fit.message})", ConvergenceWarning, stacklevel=2)
        W, _ = _order_and_sign(fit.W, ica.column_norms(fit.W))
        self.mixing_ = W
        self.components_ = W.T.copy()
        self.noise_variance_ = psi
        self.free_energy_ = fit.free_energy / n
        self.free_energy_trace_ = fit.trace / n
        self.n_iter_ = int(fit.info["n_iter_q"] + fit.info["n_iter_joint"])
        self.converged_ = fit.converged
        self._settings_at_fit = (beta, nu, scale, max_iter, tol)
        self.n_features_in_ = L
        return self

    def _q(self, X):
        """The optimal mean-field q of every row at the fitted W (phase 1 of fit_meanfield)."""
        beta, nu, scale, max_iter, tol = self._settings_at_fit
        return ica.fit_meanfield(X, self.mixing_, self.noise_variance_, beta, nu, scale, fit_W=False,
                                 tol=tol, max_iter=max_iter)

    def transform(self, X) -> np.ndarray:
        """Means of the optimal mean-field q per row at the fitted W, shape (n_samples,
        n_components). q is not amortised (App. B.7): it is optimised for each row."""
        X = self._validate_data(X, reset=False)
        return self._q(X).mu

    def free_energy(self, X) -> float:
        """Average β-VI free energy per sample (eq 13) at the optimal mean-field q for ``X``."""
        X = self._validate_data(X, reset=False)
        return self._q(X).free_energy / X.shape[0]

    def _log_likelihood(self, X):
        X = self._validate_data(X, reset=False)
        _, nu, scale, _, _ = self._settings_at_fit
        n_mc = check_int(self.n_mc_samples, "n_mc_samples", low=2)
        return ica.log_likelihood(X, self.mixing_, self.noise_variance_, nu, scale, n_samples=n_mc,
                                  rng=_random_generator(self.random_state))

    def score_samples(self, X) -> np.ndarray:
        r"""Monte Carlo estimate of :math:`\log p(x_n)` per row (Gaussian scale mixture, exact
        inner Gaussian integral; :func:`linear_models.ica.log_likelihood`), shape (n_samples,).
        With an int ``random_state`` the same draws are used at every call."""
        return self._log_likelihood(X)["per_point"]

    def score(self, X, y=None) -> float:
        """Monte Carlo estimate of the average log-likelihood per sample, nats."""
        return self._log_likelihood(X)["value"] / np.shape(X)[0]


# =============================================================================== linear β-VAE
class LinearBetaVAE(_Estimator):
    r"""The global optimum of the linear β-VAE (Sikka 2020, eqs 26–47), fitted from the sample
    covariance.

    Model (eqs 29–32): encoder :math:`q(z|x) = \mathcal N(W^\mu x + b^\mu,
    \mathrm{diag}(e^{W^\sigma x + b^\sigma}))`, decoder :math:`p(x|z) = \mathcal N(Dz + b^D,
    I)` with unit noise variance, prior :math:`\mathcal N(0, I_k)`. ``fit`` computes the
    closed-form maximiser of the data-averaged β-objective (eq 34,
    :func:`linear_models.linear_vae.optimum`) at the sample covariance
    :math:`\Sigma = \frac1n\sum_n(x_n-\bar x)(x_n-\bar x)^\top`, eigenvalues
    :math:`\lambda_1\ge\dots`:

    .. math::

        D = U_k\,\mathrm{diag}\big(\sqrt{(\lambda_i-\beta)_+}\big),\quad
        W^\mu = \mathrm{diag}\big(\sqrt{(\lambda_i-\beta)_+}/\max(\lambda_i,\beta)\big)U_k^\top,\quad
        W^\sigma = 0,\quad \sigma_i^2 = \beta/\max(\lambda_i,\beta),

    probabilistic PCA with noise variance β (Tipping & Bishop 1999): the decoder spans the top
    principal subspace, and latent i collapses (:math:`D_{:,i} = 0`, q = prior) exactly when
    β ≥ λ_i (``collapse_thresholds_``). The decoder noise is fixed at 1, so the scale of ``X``
    matters: standardise it only if that is the model meant.

    Parameters
    ----------
    n_latents : int >= 1 or None (default: the number of features), k ≤ n_features
    beta : float > 0 (in [1e-300, 1e300])

    Attributes
    ----------
    components_ : ndarray of shape (n_latents, n_features), Dᵀ (latents ordered by decreasing
        λ_i; the sign makes each column's largest entry positive)
    params_ : :class:`theory.linear_vae.LinearVAEParams`, every encoder and decoder parameter,
        with the offsets :math:`b^D = \bar x`, :math:`b^\mu = -W^\mu\bar x`
    posterior_variances_ : ndarray (n_latents,), σ_i²
    collapse_thresholds_ : ndarray (n_latents,), the top eigenvalues λ_i of the sample covariance
    active_ : bool array (n_latents,), λ_i > β
    mean_ : ndarray (n_features,)
    covariance_ : ndarray (n_features, n_features), the sample covariance
    n_features_in_ : int

    Examples
    --------
    ::

        vae = LinearBetaVAE(n_latents=2, beta=1.5).fit(X)
        vae.transform(X)             # posterior means W^μ x + b^μ, shape (n, 2)
        vae.score(X), vae.free_energy(X)   # log p_θ(x) (eqs 78–80) and the β-objective (eq 15) per sample
    """

    def __init__(self, n_latents=None, *, beta=1.0):
        self.n_latents = n_latents
        self.beta = beta

    def fit(self, X, y=None):
        """Closed-form optimum at the sample covariance of ``X`` (n_samples, n_features); it must be
        positive definite (at least n_features + 1 samples in general position). Returns self."""
        X = self._validate_data(X, reset=True, min_samples=2)
        n, L = X.shape
        k = L if self.n_latents is None else check_int(self.n_latents, "n_latents", low=1)
        if k > L:
            raise ValueError(f"n_latents must be <= n_features = {L}, got {k}")
        beta = lvae.check_beta(self.beta)
        if n <= L:
            raise ValueError(f"X must have more samples than features for a positive-definite sample "
                             f"covariance, got n_samples = {n}, n_features = {L}")
        mean = X.mean(axis=0)
        Xc = X - mean
        cov = Xc.T @ Xc / n
        try:
            opt = lvae.optimum(cov, k, beta)
        except ValueError as err:
            if "positive definite" not in str(err) and "symmetric" not in str(err):
                raise
            raise ValueError(f"X: its sample covariance is singular (n_samples = {n}, n_features = "
                             f"{L}); the closed form needs a positive-definite covariance "
                             f"(more samples than features, no constant or collinear column)") from None
        p = opt.params
        self.params_ = p._replace(b_mu=-(p.W_mu @ mean), b_D=mean.copy())
        self.components_ = p.D.T.copy()
        self.posterior_variances_ = opt.variances
        self.collapse_thresholds_ = lvae.collapse_thresholds(cov, k)
        self.active_ = opt.active
        self.mean_ = mean
        self.covariance_ = cov
        self._beta = beta
        self.n_features_in_ = L
        return self

    def transform(self, X) -> np.ndarray:
        r"""Posterior means :math:`W^\mu x + b^\mu` (eq 29), shape (n_samples, n_latents)."""
        X = self._validate_data(X, reset=False)
        return X @ self.params_.W_mu.T + self.params_.b_mu

    def inverse_transform(self, Z) -> np.ndarray:
        r"""Decoder means :math:`Dz + b^D` (eq 32), shape (n_samples, n_features)."""
        self._check_fitted()
        Z = as_float_array(Z, "Z", 2, low=-ENTRY_BOUND, high=ENTRY_BOUND)
        if Z.shape[1] != self.components_.shape[0]:
            raise ValueError(f"Z must have {self.components_.shape[0]} columns (n_latents), got "
                             f"shape {Z.shape}")
        return Z @ self.params_.D.T + self.params_.b_D

    def score_samples(self, X) -> np.ndarray:
        r""":math:`\log p_\theta(x_n) = \log\mathcal N(x_n; b^D, DD^\top + I)` per row (Sikka 2020,
        eqs 78–80), shape (n_samples,)."""
        X = self._validate_data(X, reset=False)
        D = self.params_.D
        return np.atleast_1d(multivariate_normal(self.mean_, D @ D.T + np.eye(D.shape[0])).logpdf(X))

    def score(self, X, y=None) -> float:
        """Average :math:`\\log p_\\theta(x)` per sample, nats. The linear β-VAE's decoder is the
        factor-analysis model of Stühmer et al. (eq 14) with Ψ = I, so this is
        :func:`linear_models.factor_analysis.log_likelihood` of the centred rows with ψ = 1."""
        X = self._validate_data(X, reset=False)
        D = self.params_.D
        return fa.log_likelihood(X - self.mean_, D, np.ones(D.shape[0])) / X.shape[0]

    def free_energy(self, X) -> float:
        r"""Average β-objective per sample, :math:`\mathbb E_q\log p(x|z) - \beta\,\mathrm{KL}(q\|p)`
        (Sikka 2020, eq 15; eq 34 is its average over the data distribution), nats, with the
        fitted encoder's q. Computed as the factor-analysis ELBO with Ψ = I
        (:func:`linear_models.factor_analysis.elbo`); on the training data it equals
        :func:`theory.linear_vae.objective` at the sample covariance (tested)."""
        X = self._validate_data(X, reset=False)
        D = self.params_.D
        return fa.elbo(X - self.mean_, D, np.ones(D.shape[0]), self.transform(X),
                       self.posterior_variances_, self._beta) / X.shape[0]
