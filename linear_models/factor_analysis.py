r"""Factor analysis under exact inference, mean-field VI and β-VI.

Stühmer, Turner & Nowozin 2020, App. B.1–B.6 (eqs 13–17). The model (eq 14) is

.. math::

    z_n \sim \mathcal N(0, I_K), \qquad x_n \mid z_n \sim \mathcal N(W z_n, \Psi),
    \qquad \Psi = \mathrm{diag}(\psi),

with ``X`` of shape (n, L), ``W`` of shape (L, K) and ``psi`` of shape (L,) (noise variances).

Two normalisations of the β-VI objective appear in the paper, both exposed here:

``"eq13"`` (default)
    :math:`\mathcal F_\beta = \mathbb E_q[\log p(x|z)] - \beta\,\mathrm{KL}(q\|p)` (eq 13). At
    β = 1 this is the ELBO, a lower bound on :func:`log_likelihood`.
``"eq16"``
    :math:`\mathcal F_\beta/\beta = M\,\mathbb E_q[\log p(x|z)] - \mathrm{KL}(q\|p)`, M = 1/β,
    i.e. VI on M replicated observations (App. B.1, the form eq 16 writes out).

Every function sums over the rows of ``X`` and returns nats.

Accepted ranges: entries of ``X`` and ``W`` with magnitude at most 1e100 (:data:`ENTRY_BOUND`),
so that the second moments :math:`WW^\top` and :math:`\|x\|^2` stay finite in float64;
larger entries are rejected by name, like β outside [1e-300, 1e300]. (Entries near 1e100
together with β near an end of its range can still overflow in the β-scaled terms; such
combinations are not covered by the range above.)

The derivation of each closed form is done symbolically in :mod:`theory.factor_analysis` and
the tests check the two against each other.
"""

from __future__ import annotations

__all__ = ["NORMALISATIONS", "LOG2PI", "log_likelihood", "posterior_precision",
           "exact_posterior", "meanfield_optimum", "elbo_terms", "elbo", "free_energy",
           "free_energy_grad", "meanfield_kl_per_point", "tempered_log_evidence",
           "free_energy_closed_form", "FAFit", "fit_ml", "rotation",
           "data_with_second_moment", "ml_orthogonal_weights", "rotation_gap_per_point",
           "rotation_setting"]

from dataclasses import dataclass

import autograd.numpy as anp
import numpy as np
from autograd import grad

from validation import InstanceOf, Real, as_float_array, check_int, positive_vector

NORMALISATIONS = ("eq13", "eq16")
LOG2PI = float(np.log(2 * np.pi))


#: largest ``|entry|`` of X and W: products and sums of squares stay below 1e308 (docstring)
ENTRY_BOUND = 1e100


# --------------------------------------------------------------------------- validation
def _check_model(W, psi):
    W = as_float_array(W, "W", 2, min_size=1, low=-ENTRY_BOUND, high=ENTRY_BOUND)
    L, K = W.shape
    psi = positive_vector(psi, "psi", L)      # its message names W too: "(rows of W)"
    return W, psi


def _check(X, W, psi):
    W, psi = _check_model(W, psi)
    L = W.shape[0]
    X = as_float_array(X, "X", 2, low=-ENTRY_BOUND, high=ENTRY_BOUND)
    if X.shape[1] != L:
        raise ValueError(f"X must have {L} columns (rows of W), got shape {X.shape}")
    return X, W, psi


#: β of eq 13 enters as β and as M = 1/β; both must be ordinary float64 numbers with room for
#: the products they meet (nats of order 1e8 times β): β in [1e-300, 1e300].
_BETA = Real(1e-300, 1e300)


def _beta(beta) -> float:
    return _BETA.check(beta, "beta")


def _rng(rng):
    """``numpy.random.default_rng(rng)``, or TypeError naming ``rng`` (None, a seed or a Generator)."""
    try:
        return np.random.default_rng(rng)
    except (TypeError, ValueError):
        raise TypeError(f"rng must be None, an int seed or a numpy.random.Generator, got "
                        f"{type(rng).__name__}") from None


#: the accepted eigenvalue ratio of rotation_gap_per_point (products r·r stay in float64)
RATIO_RANGE = (1e-150, 1e150)


def _check_norm(normalisation):
    if normalisation not in NORMALISATIONS:
        raise ValueError(f"normalisation must be one of {NORMALISATIONS}, got {normalisation!r}")


# --------------------------------------------------------------------------- exact model
def log_likelihood(X, W, psi) -> float:
    r"""Total log-likelihood :math:`\sum_n \log\mathcal N(x_n; 0, WW^\top + \Psi)` in nats.

    Stühmer et al. 2020, App. B.2 (the display after eq 15).

    Parameters
    ----------
    X : ndarray of shape (n, L)
    W : ndarray of shape (L, K)
    psi : ndarray of shape (L,), noise variances > 0
    """
    X, W, psi = _check(X, W, psi)
    C = W @ W.T + np.diag(psi)
    try:
        chol = np.linalg.cholesky(C)
    except np.linalg.LinAlgError:
        raise ValueError("psi: W Wᵀ + diag(psi) is not numerically positive definite "
                         "(psi too small next to W)") from None
    sol = np.linalg.solve(chol, X.T)
    n, L = X.shape
    logdet = 2.0 * np.sum(np.log(np.diag(chol)))
    return float(-0.5 * (n * (L * LOG2PI + logdet) + np.sum(sol**2)))


def posterior_precision(W, psi, beta=1.0) -> np.ndarray:
    r"""Precision of the (β-)posterior, :math:`\tilde\Lambda = M W^\top\Psi^{-1}W + I`, M = 1/β.

    Stühmer et al. 2020, eq 15 (β = 1) and App. B.2 (β-posterior). Shape (K, K).
    """
    W, psi = _check_model(W, psi)
    M = 1.0 / _beta(beta)
    return M * (W.T / psi) @ W + np.eye(W.shape[1])


def exact_posterior(X, W, psi, beta=1.0):
    r"""The exact (β-)posterior :math:`\mathcal N(\tilde\mu_n, \tilde\Sigma)` of every row.

    .. math::

        \tilde\Sigma = (M W^\top\Psi^{-1}W + I)^{-1},\qquad
        \tilde\mu_n = \tilde\Sigma\, M W^\top \Psi^{-1} x_n .

    Stühmer et al. 2020, eq 15 and App. B.2. The paper prints
    :math:`\tilde\Sigma^{-1} M W^\top D^{-1} x_n` for the mean; the inverse is a typo (it would not
    reduce to eq 15 at M = 1); see :mod:`theory.factor_analysis` and the fa-rotation claims.

    Returns
    -------
    means : ndarray of shape (n, K)
    cov : ndarray of shape (K, K), the same for all rows
    """
    X, W, psi = _check(X, W, psi)
    M = 1.0 / _beta(beta)
    cov = np.linalg.inv(posterior_precision(W, psi, beta))
    R = cov @ (M * W.T / psi)  # recognition weights R(β), App. B.2
    return X @ R.T, cov


def meanfield_optimum(X, W, psi, beta=1.0):
    r"""The optimal fully factorised Gaussian q for β-VI: same mean, matched diagonal precision.

    :math:`q(z_n) = \mathcal N(\tilde\mu_n, \Sigma_q)`, :math:`\Sigma_q^{-1} =
    \mathrm{diag}(\tilde\Sigma^{-1})` (Stühmer et al. 2020, App. B.2).

    Returns
    -------
    means : ndarray of shape (n, K)
    variances : ndarray of shape (K,), the same for all rows
    """
    means, _ = exact_posterior(X, W, psi, beta)
    W, psi = _check_model(W, psi)
    beta = _beta(beta)
    # 1/diag(Λ̃) = β / (diag(WᵀΨ⁻¹W) + β): no 1/β, so small β gives small, not zero, variances
    return means, beta / (np.sum(W**2 / psi[:, None], axis=0) + beta)


# --------------------------------------------------------------------------- ELBO pieces
def _expected_loglik(X, W, psi, means, cov, full=False):
    """E_q[log p(x|z)] summed over rows; ``cov`` (K,), (n, K) or, if full, (K, K). autograd-safe."""
    n, L = X.shape
    resid = X - anp.dot(means, W.T)
    quad = anp.sum(resid**2 / psi)
    G = anp.dot(W.T / psi, W)  # W^T Psi^{-1} W
    if full:
        trace = n * anp.sum(G * cov)
    elif cov.ndim == 1:
        trace = n * anp.sum(anp.diag(G) * cov)
    else:
        trace = anp.sum(anp.diag(G) * cov)
    # Stühmer et al. 2020, eq 16 (times β): -½[n log det(2πΨ) + Σ_n‖x_n − Wm_n‖²_Ψ + n tr(WᵀΨ⁻¹W Σ_q)]
    return -0.5 * (n * (L * LOG2PI + anp.sum(anp.log(psi))) + quad + trace)


def _kl_to_prior(means, cov, n, full=False):
    """KL(q‖N(0, I)) summed over rows (Stühmer et al. 2020, eq 16, regularisation term)."""
    K = means.shape[1]
    if full:
        tr, logdet = n * anp.trace(cov), n * anp.linalg.slogdet(cov)[1]
    elif cov.ndim == 1:
        tr, logdet = n * anp.sum(cov), n * anp.sum(anp.log(cov))
    else:
        tr, logdet = anp.sum(cov), anp.sum(anp.log(cov))
    return 0.5 * (tr + anp.sum(means**2) - n * K - logdet)


def _check_q(means, cov, n, K, full):
    full = InstanceOf((bool, np.bool_)).check(full, "full")
    if n < 1:
        raise ValueError("X must have at least one row")
    means = as_float_array(means, "means", 2, low=-ENTRY_BOUND, high=ENTRY_BOUND)
    if means.shape != (n, K):
        raise ValueError(f"means must have shape {(n, K)} (rows of X, columns of W), got {means.shape}")
    cov = as_float_array(cov, "cov", (1, 2), low=-ENTRY_BOUND, high=ENTRY_BOUND)
    if full:
        if cov.shape != (K, K):
            raise ValueError(f"cov must have shape {(K, K)} when full=True, got {cov.shape}")
        if not np.allclose(cov, cov.T) or np.any(np.linalg.eigvalsh(cov) <= 0):
            raise ValueError("cov must be symmetric positive definite")
    elif cov.shape in ((K,), (n, K)):
        if np.any(cov <= 0):
            raise ValueError("cov (variances) must be > 0")
    else:
        raise ValueError(f"cov must have shape {(K,)} or {(n, K)} (variances), got {cov.shape}")
    return means, cov


def elbo_terms(X, W, psi, means, cov, full=False) -> dict[str, float]:
    r"""Reconstruction :math:`\sum_n\mathbb E_q\log p(x_n|z_n)` and :math:`\sum_n\mathrm{KL}(q_n\|p)`.

    Parameters
    ----------
    means : ndarray of shape (n, K)
    cov : ndarray of shape (K,) (shared variances) or (n, K) (per-row variances, the general
        mean-field q); with ``full=True`` a shared full covariance of shape (K, K), e.g. the
        exact posterior's.
    """
    X, W, psi = _check(X, W, psi)
    means, cov = _check_q(means, cov, X.shape[0], W.shape[1], full)
    return {"reconstruction": float(_expected_loglik(X, W, psi, means, cov, full)),
            "kl": float(_kl_to_prior(means, cov, X.shape[0], full))}


def elbo(X, W, psi, means, cov, beta=1.0, normalisation="eq13", full=False) -> float:
    """The β-VI free energy of an arbitrary Gaussian q (see :func:`elbo_terms` for shapes).

    ``normalisation="eq13"``: reconstruction − β·KL; ``"eq16"``: that divided by β.
    """
    beta = _beta(beta)
    _check_norm(normalisation)
    t = elbo_terms(X, W, psi, means, cov, full)
    F = t["reconstruction"] - beta * t["kl"]
    return F / beta if normalisation == "eq16" else F


def free_energy(X, W, psi, beta=1.0, normalisation="eq13") -> float:
    r"""β-VI free energy at the optimal mean-field q for this β (Stühmer et al. 2020, eqs 13, 16).

    ``normalisation="eq13"`` gives :math:`\mathbb E_q\log p(x|z) - \beta\,\mathrm{KL}(q\|p)`;
    ``"eq16"`` gives it divided by β. At β = 1 both equal the mean-field ELBO, which is
    ≤ :func:`log_likelihood` with equality iff :math:`W^\top\Psi^{-1}W` is diagonal.
    """
    means, var = meanfield_optimum(X, W, psi, beta)
    return elbo(X, W, psi, means, var, beta, normalisation)


def free_energy_grad(X, W, psi, beta=1.0):
    """Gradient of :func:`free_energy` (eq 13 normalisation) with respect to ``W`` (autograd).

    q is held at its optimum, which by the envelope theorem gives the total derivative.
    """
    X, W, psi = _check(X, W, psi)
    beta = _beta(beta)
    means, var = meanfield_optimum(X, W, psi, beta)

    def F(W_):
        return _expected_loglik(X, W_, psi, means, var) - beta * _kl_to_prior(means, var, X.shape[0])

    return grad(F)(W)


# --------------------------------------------------------------------------- closed forms
def meanfield_kl_per_point(W, psi, beta=1.0) -> float:
    r"""KL(q* ‖ p̃(z|x)) between the mean-field optimum and the exact β-posterior, per point.

    Same mean, :math:`\Sigma_q = \mathrm{diag}(\tilde\Lambda)^{-1}`, so
    :math:`\mathrm{KL} = \tfrac12\left(\sum_k\log\tilde\Lambda_{kk} - \log\det\tilde\Lambda\right)`
    (Hadamard's inequality makes it ≥ 0, with equality iff :math:`\tilde\Lambda` is diagonal).
    It does not depend on the data.
    """
    lam = posterior_precision(W, psi, beta)
    return float(0.5 * (np.sum(np.log(np.diag(lam))) - np.linalg.slogdet(lam)[1]))


def tempered_log_evidence(X, W, psi, beta=1.0) -> float:
    r""":math:`\sum_n \log\int p(x_n|z)^{M} p(z)\,dz`, M = 1/β, in closed form.

    :math:`p(x|z)^M = c\,\mathcal N(x; Wz, \Psi/M)` with
    :math:`\log c = -\tfrac{L(M-1)}{2}\log 2\pi - \tfrac{M-1}{2}\log\det\Psi - \tfrac L2\log M`,
    hence the integral is :math:`c\,\mathcal N(x; 0, WW^\top + \Psi/M)` (App. B.1 view of β-VI as
    VI on M replicated observations). At β = 1 this is :func:`log_likelihood`.
    """
    X, W, psi = _check(X, W, psi)
    M = 1.0 / _beta(beta)
    n, L = X.shape
    log_c = -0.5 * L * (M - 1) * LOG2PI - 0.5 * (M - 1) * np.sum(np.log(psi)) - 0.5 * L * np.log(M)
    psi_m = psi / M
    if np.any(psi_m <= np.finfo(float).tiny):
        raise ValueError(f"beta: psi * beta underflows float64 at beta = {1 / M!r}")
    try:
        return n * log_c + log_likelihood(X, W, psi_m)
    except ValueError as err:
        raise ValueError(f"beta: the tempered covariance W Wᵀ + psi * beta is singular in "
                         f"float64 at beta = {1 / M!r}") from err


def free_energy_closed_form(X, W, psi, beta=1.0) -> float:
    r"""β-VI free energy at the mean-field optimum via the gap decomposition:

    .. math::

        \mathcal F_\beta = \beta\Big[\sum_n \log \tilde Z(x_n) - n\,\mathrm{KL}(q^*\|\tilde p)\Big]

    (App. B.1: β-VI is β times VI with likelihood power M = 1/β). At β = 1,
    :math:`\log L - \mathcal F = \tfrac n2(\sum_k \log\Lambda_{kk} - \log\det\Lambda)`.
    """
    X, W, psi = _check(X, W, psi)
    beta = _beta(beta)
    return beta * (tempered_log_evidence(X, W, psi, beta) - X.shape[0] * meanfield_kl_per_point(W, psi, beta))


# --------------------------------------------------------------------------- fitting
@dataclass
class FAFit:
    W: np.ndarray
    psi: np.ndarray
    log_likelihood: float
    n_iter: int
    trace: np.ndarray


def fit_ml(X, K: int, *, fix_psi=None, n_iter: int = 2000, tol: float = 1e-10, rng=None) -> FAFit:
    r"""Maximum-likelihood factor analysis by EM (Bishop 2006, eqs 12.69–12.70; Barber 21.2).

    The model has no mean parameter (eq 14), so the second moment :math:`X^\top X/n` plays the
    role of the covariance. ``fix_psi`` (shape (L,)) keeps the noise variances fixed.
    The log-likelihood never decreases (EM); the trace records it per iteration.
    """
    X = as_float_array(X, "X", 2, low=-ENTRY_BOUND, high=ENTRY_BOUND)
    n, L = X.shape
    K = check_int(K, "K", low=1)
    n_iter = check_int(n_iter, "n_iter", low=1)
    tol = Real(0.0).check(tol, "tol")
    if n < 1:
        raise ValueError("X must have at least one row")
    rng = _rng(rng)
    S = X.T @ X / n
    psi = np.diag(S).copy() * 0.5 if fix_psi is None else positive_vector(fix_psi, "fix_psi", L)
    W = rng.normal(size=(L, K)) * np.sqrt(np.mean(np.diag(S)) / K)
    trace = [log_likelihood(X, W, psi)]
    for it in range(1, n_iter + 1):
        lam = (W.T / psi) @ W + np.eye(K)
        Sigma = np.linalg.inv(lam)
        B = Sigma @ (W.T / psi)            # E[z|x] = B x
        Ezx = B @ S                        # (1/n) Σ E[z] xᵀ
        Ezz = Sigma + B @ S @ B.T          # (1/n) Σ E[zzᵀ]
        W = np.linalg.solve(Ezz, Ezx).T
        if fix_psi is None:
            psi = np.maximum(np.diag(S - W @ Ezx), 1e-12)
        trace.append(log_likelihood(X, W, psi))
        if abs(trace[-1] - trace[-2]) < tol * max(1.0, abs(trace[-1])):
            break
    return FAFit(W, psi, trace[-1], it, np.asarray(trace))


def rotation(theta: float) -> np.ndarray:
    """The 2×2 rotation matrix R(θ) (counter-clockwise)."""
    theta = Real().check(theta, "theta")
    c, s = np.cos(theta), np.sin(theta)
    return np.array([[c, -s], [s, c]])


# --------------------------------------------------------------------------- constructions
def data_with_second_moment(S, n: int, rng=None) -> np.ndarray:
    """``n`` points whose empirical mean is 0 and whose second moment XᵀX/n equals ``S`` exactly.

    With such data the ML covariance of the mean-free model (eq 14) is ``S`` itself, so an ML
    solution is known in closed form ("the maximum likelihood covariance by construction",
    Stühmer et al. 2020, App. B.4).

    Returns an ndarray of shape (n, L).
    """
    S = _check_spd(S)
    L = S.shape[0]
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n <= L:
        raise ValueError(f"n must be an int > {L}, got {n!r}")
    rng = _rng(rng)
    G = rng.normal(size=(n, L))
    G -= G.mean(0)
    evals, evecs = np.linalg.eigh(G.T @ G / n)
    G = G @ evecs @ np.diag(evals**-0.5) @ evecs.T      # whitened: GᵀG/n = I
    evals, evecs = np.linalg.eigh(S)
    return G @ (evecs @ np.diag(np.sqrt(evals)) @ evecs.T)  # S^{1/2} is symmetric


def _check_spd(S) -> np.ndarray:
    """``S`` as a symmetric positive-definite float64 matrix (a second moment), else ValueError."""
    S = as_float_array(S, "S", 2, min_size=1)
    if S.shape[0] != S.shape[1]:
        raise ValueError(f"S must be square, got shape {S.shape}")
    if not np.allclose(S, S.T, rtol=1e-12, atol=0):
        raise ValueError("S must be symmetric")
    if np.any(np.linalg.eigvalsh(S) <= 0):
        raise ValueError("S must be positive definite")
    return S


def ml_orthogonal_weights(S, noise_var: float, K: int | None = None) -> np.ndarray:
    r"""An ML weight matrix with orthogonal columns for isotropic noise ``noise_var``·I.

    For data with second moment S (eigen-decomposition :math:`U\Lambda U^\top`) and
    :math:`\Psi = \sigma^2 I`, :math:`W_{ML} = U_K(\Lambda_K - \sigma^2 I)^{1/2}` (Tipping & Bishop
    1999, eq 7, with R = I): the PCA directions, scaled. Columns ordered by decreasing variance.
    Requires the top K eigenvalues to exceed σ².
    """
    S = _check_spd(S)
    noise_var = Real(0.0, closed="neither").check(noise_var, "noise_var")
    K = S.shape[0] if K is None else check_int(K, "K", low=1, high=S.shape[0])
    evals, evecs = np.linalg.eigh(S)
    evals, evecs = evals[::-1][:K], evecs[:, ::-1][:, :K]
    if np.any(evals <= noise_var):
        raise ValueError("noise_var must be below the top K eigenvalues of S")
    return evecs * np.sqrt(evals - noise_var)


def rotation_gap_per_point(eig_ratio: float, theta: float) -> float:
    r"""log p(x) − F per data point for K = L = 2, isotropic noise, W = W_ML R(θ)ᵀ, β = 1.

    With :math:`a, b` the eigenvalues of :math:`WW^\top + \sigma^2 I` divided by σ², the
    posterior precision is :math:`\Lambda = R(\theta)\,\mathrm{diag}(a, b)\,R(\theta)^\top`, so

    .. math:: \mathrm{gap}(\theta) = \tfrac12\log\frac{(a c^2 + b s^2)(a s^2 + b c^2)}{ab},

    which depends on a/b only; at θ = π/4 it is :math:`\log\cosh(\tfrac12\log(a/b))`.
    Derived from :func:`meanfield_kl_per_point` (Hadamard gap) for this special case.
    """
    r = Real(*RATIO_RANGE).check(eig_ratio, "eig_ratio")
    theta = Real().check(theta, "theta")
    c2, s2 = np.cos(theta) ** 2, np.sin(theta) ** 2
    return float(0.5 * np.log((r * c2 + s2) * (r * s2 + c2) / r))


def rotation_setting(loglik: float, free_energy_45: float, n: int, noise_var: float):
    r"""Eigenvalues (λ1, λ2) of a 2-D data second moment that give, for the ML solution of
    :func:`ml_orthogonal_weights`, log-likelihood ``loglik`` at θ = 0 and mean-field free energy
    ``free_energy_45`` at θ = π/4.

    At the ML solution :math:`\log L = -\tfrac n2(2\log 2\pi + \log\lambda_1\lambda_2 + 2)`, fixing
    :math:`\lambda_1\lambda_2`; the gap :math:`n\log\cosh(\tfrac12\log(\lambda_1/\lambda_2))` (see
    :func:`rotation_gap_per_point`) fixes :math:`\lambda_1/\lambda_2`. ``noise_var`` must be below λ2.
    """
    loglik = Real().check(loglik, "loglik")
    free_energy_45 = Real().check(free_energy_45, "free_energy_45")
    n = check_int(n, "n", low=1)
    noise_var = Real(0.0, closed="neither").check(noise_var, "noise_var")
    gap = loglik - free_energy_45
    if gap <= 0:
        raise ValueError("free_energy_45 must be below loglik")
    # an overflow here is detected (inf) and reported by name below, not warned about
    with np.errstate(over="ignore"):
        if not np.isfinite(np.exp(gap / n)) or not np.isfinite(-2.0 * loglik / n):
            raise ValueError("loglik: loglik - free_energy_45 per point overflows float64")
        log_det = -2.0 * loglik / n - 2.0 * LOG2PI - 2.0
        ratio = np.exp(2.0 * np.arccosh(np.exp(gap / n)))
        lam1 = np.exp(0.5 * (log_det + np.log(ratio)))
        lam2 = np.exp(0.5 * (log_det - np.log(ratio)))
    if not (np.isfinite(lam1) and lam2 > 0):
        raise ValueError("loglik: the eigenvalues it implies are outside the float64 range")
    if lam2 <= noise_var:
        raise ValueError(f"noise_var must be below λ2 = {lam2:.4g} (the second eigenvalue that "
                         f"loglik, free_energy_45 and n imply)")
    return float(lam1), float(lam2)
