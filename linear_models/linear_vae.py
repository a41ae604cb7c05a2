r"""Solvers for the linear β-VAE of Sikka (2020), eqs 26–47: closed-form optimum, numerical
solution of the optimality equations (eq 43) and β-sweeps of every quantity of Fig 3.

The closed-form global optimum
------------------------------
Let :math:`\Sigma_x = U\Lambda U^\top` with eigenvalues :math:`\lambda_1 \ge \dots \ge \lambda_N`.
Maximising eq 34 (derivation in the docstring of :func:`optimum`) gives

.. math::

    W^\sigma = 0,\quad b^\mu = b^D = 0,\quad
    D = U_k\,\mathrm{diag}(d),\ d_i = \sqrt{(\lambda_i-\beta)_+},\quad
    W^\mu = \mathrm{diag}\!\big(d_i/\max(\lambda_i,\beta)\big)\,U_k^\top,\quad
    \sigma_i^2 = e^{b^\sigma_i} = \beta/\max(\lambda_i, \beta),

i.e. probabilistic PCA (Tipping & Bishop 1999) with noise variance β in place of σ²:
:math:`D D^\top = U_k(\Lambda_k-\beta I)_+U_k^\top`. Latent i collapses (D_{:,i} = 0,
q = prior) exactly when :math:`\beta \ge \lambda_i`; the k thresholds are :func:`collapse_thresholds`.
At β = 1 the decoder is the maximum-likelihood PPCA solution (DDᵀ = AAᵀ) and, DᵀD being
diagonal, the model posterior factorises, so MIE(1) = 0.

Per data point, in nats (all constants included):

.. math::

    \mathrm{rec}^* = -\tfrac N2\log2\pi - \tfrac12\Big[\sum_{i\le k}\min(\lambda_i,\beta)+\sum_{i>k}\lambda_i\Big],
    \qquad \mathrm{KL}^* = \tfrac12\sum_{i\le k}\log\frac{\max(\lambda_i,\beta)}{\beta},

so :math:`d\mathcal L^*/d\beta = -\mathrm{KL}^*` (Sikka 2020, eq 16) can be read off directly.

The optimum is unique up to signed permutations of the latent axes, and rotations within
groups of latents with equal eigenvalues λ_i; see :func:`beta_sweep` for how TIE handles this.
"""

from __future__ import annotations

__all__ = ["collapse_thresholds", "LinearVAEOptimum", "optimum", "NumericalSolution",
           "solve_optimality", "optimum_terms", "tie_over_group", "tie_aligned",
           "beta_sweep", "fixed_decoder_optimum"]

import functools
import itertools
import warnings
from dataclasses import dataclass

import numpy as np
from scipy import optimize

from theory.linear_vae import (
    BETA_RANGE,
    LOG2PI,
    LinearVAEParams,
    check_beta,
    check_mixing,
    check_sigma_x,
    data_covariance,
    _gradients,
    _objective_terms,
    gradients,
    true_posterior,
)
from validation import as_float_array, check_int, check_real

_DEGENERATE_RTOL = 1e-9
#: largest standard deviation of solve_optimality's random starts: the objective holds
#: exp(½ W^σ Σ_x W^σᵀ), which leaves float64 for encoder entries of a few tens
INIT_SCALE_MAX = 10.0


def _renamed_arguments(**old_to_new):
    """Accept the former keyword names of a function's arguments (``old=new``) with a
    DeprecationWarning naming both; passing both names is a TypeError. The names across the
    solvers: a covariance is ``cov``, a mixing matrix ``A``."""

    def decorate(func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            for old, new in old_to_new.items():
                if old in kwargs:
                    if new in kwargs:
                        raise TypeError(f"{func.__name__}() got both {new!r} and its deprecated "
                                        f"name {old!r}")
                    warnings.warn(f"{func.__name__}(): the argument name {old!r} is deprecated; "
                                  f"use {new!r}", DeprecationWarning, stacklevel=2)
                    kwargs[new] = kwargs.pop(old)
            return func(*args, **kwargs)

        return wrapper

    return decorate


def _check_k(k, N: int) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
        raise TypeError(f"k must be an int, got {type(k).__name__}")
    if not 1 <= k <= N:
        raise ValueError(f"k must satisfy 1 <= k <= N = {N}, got {k}")
    return int(k)


def _check_betas(betas) -> np.ndarray:
    b = np.atleast_1d(as_float_array(betas, "betas", (0, 1), min_size=1))
    if not np.all(np.isfinite(b)) or np.any(b <= 0):
        raise ValueError("betas must be finite and > 0")
    if np.any(b < BETA_RANGE[0]) or np.any(b > BETA_RANGE[1]):
        raise ValueError(f"betas must lie in [{BETA_RANGE[0]:g}, {BETA_RANGE[1]:g}] (as beta), got "
                         f"{b.min():g} .. {b.max():g}")
    return b


def _eigh_desc(S):
    lam, U = np.linalg.eigh(S)
    return lam[::-1], U[:, ::-1]


def _canonical_signs(U, reference=None):
    """Signs making each column canonical: (referenceᵀU)_ii > 0 when ``reference`` is given and
    that entry is not ~0; otherwise the first entry of largest magnitude is positive."""
    U = U.copy()
    for i in range(U.shape[1]):
        s = 0.0
        if reference is not None and i < reference.shape[1]:
            c = reference[:, i] @ U[:, i]
            if abs(c) > 1e-9 * np.linalg.norm(reference[:, i]):
                s = np.sign(c)
        if s == 0.0:
            a = np.abs(U[:, i])
            j = int(np.flatnonzero(a >= (1 - 1e-9) * a.max())[0])
            s = np.sign(U[j, i])
        U[:, i] *= s
    return U


@_renamed_arguments(Sigma_x="cov")
def collapse_thresholds(cov, k) -> np.ndarray:
    r"""β at which each latent collapses: the top-k eigenvalues λ_1 ≥ … ≥ λ_k of Σ_x.

    Latent i is active (D_{:,i} ≠ 0, KL_i > 0) iff β < λ_i. Returns shape (k,).

    Parameters
    ----------
    cov : array of shape (N, N), the data covariance Σ_x, symmetric positive definite
        (the former name ``Sigma_x`` is accepted with a DeprecationWarning)
    k : int, 1 ≤ k ≤ N
    """
    S = check_sigma_x(cov, "cov")
    k = _check_k(k, S.shape[0])
    return _eigh_desc(S)[0][:k].copy()


@dataclass(frozen=True)
class LinearVAEOptimum:
    """The global optimum of the data-averaged β-objective (see :func:`optimum`).

    params : LinearVAEParams      all encoder and decoder parameters
    eigenvalues : (k,)            top-k eigenvalues λ_i of Σ_x (descending)
    eigenvectors : (N, k)         U_k, canonical signs
    variances : (k,)              posterior variances σ_i² = β / max(λ_i, β)
    active : (k,) bool            λ_i > β (latent not collapsed)
    beta : float
    """

    params: LinearVAEParams
    eigenvalues: np.ndarray
    eigenvectors: np.ndarray
    variances: np.ndarray
    active: np.ndarray
    beta: float


@_renamed_arguments(sigma_x="cov")
def optimum(cov, k, beta, *, reference=None) -> LinearVAEOptimum:
    r"""Closed-form global optimum of the linear β-VAE objective (Sikka 2020, eqs 34, 43).

    Derivation (each step is checked in ``tests/linear_models/test_linear_vae_solvers.py``):

    1. eqs 37, 39 give b^μ = b^D = 0 (eq 42); eq 40 gives W^σΣ_x = 0, i.e. W^σ = 0 since Σ_x ≻ 0;
       eq 41 then gives :math:`\sigma_i^2 = e^{b^\sigma_i} = \beta/([D^\top D]_{ii} + \beta)`.
    2. eq 36 gives the ridge encoder :math:`W^\mu = (D^\top D + \beta I)^{-1}D^\top`, and
       eq 34 reduces to :math:`-\tfrac12\{\mathrm{Tr}\Sigma_x - \mathrm{Tr}[D(D^\top D+\beta I)^{-1}D^\top\Sigma_x]
       + \beta\sum_i\log([D^\top D]_{ii}+\beta)\} + \text{const}`.
    3. The trace is invariant under D → DR (R orthogonal) while Hadamard's inequality makes
       :math:`\sum_i\log([D^\top D]_{ii}+\beta) \ge \log\det(D^\top D+\beta I)`: the optimum has
       orthogonal columns, D = U diag(d). Per column the objective is
       :math:`\frac{d^2}{d^2+\beta}c - \beta\log(d^2+\beta)`, c = uᵀΣ_xu, maximised at
       :math:`d^2 = (c-\beta)_+` with value φ(c), φ convex and non-decreasing; by Ky Fan /
       Schur–Horn the best orthonormal U are the top-k eigenvectors of Σ_x.

    Parameters
    ----------
    cov : array of shape (N, N), the data covariance Σ_x, symmetric positive definite
        (Σ_x = AAᵀ + I for the thesis; the former name ``sigma_x`` is accepted with a
        DeprecationWarning)
    k : int, 1 ≤ k ≤ N, number of latents
    beta : float > 0
    reference : array of shape (N, k), optional
        Fixes the sign convention: column i of D has (referenceᵀD)_ii ≥ 0 (pass the mixing
        matrix A for the canonical TIE of :func:`beta_sweep`). Without it, the largest entry of
        each column of U_k is positive. Columns are always ordered by decreasing λ_i.

    Returns
    -------
    LinearVAEOptimum
    """
    S = check_sigma_x(cov, "cov")
    N = S.shape[0]
    k = _check_k(k, N)
    beta = check_beta(beta)
    if reference is not None:
        reference = check_mixing(reference, "reference")
        if reference.shape[0] != N:
            raise ValueError(f"reference must have {N} rows, got shape {reference.shape}")
    lam, U = _eigh_desc(S)
    lam, U = lam[:k], _canonical_signs(U[:, :k], reference)
    d = np.sqrt(np.clip(lam - beta, 0.0, None))
    top = np.maximum(lam, beta)
    D = U * d
    W_mu = (d / top)[:, None] * U.T
    var = beta / top
    params = LinearVAEParams(W_mu=W_mu, b_mu=np.zeros(k), W_sigma=np.zeros((k, N)),
                             b_sigma=np.log(var), D=D, b_D=np.zeros(N))
    return LinearVAEOptimum(params, lam, U, var, lam > beta, beta)


def _pack(p: LinearVAEParams) -> np.ndarray:
    return np.concatenate([np.ravel(x) for x in p])


def _unpack(theta: np.ndarray, N: int, k: int) -> LinearVAEParams:
    sizes = [(k, N), (k,), (k, N), (k,), (N, k), (N,)]
    out, i = [], 0
    for s in sizes:
        n = int(np.prod(s))
        out.append(theta[i:i + n].reshape(s))
        i += n
    return LinearVAEParams(*out)


@dataclass(frozen=True)
class NumericalSolution:
    """Best of several local solutions of eq 43 (see :func:`solve_optimality`).

    params : LinearVAEParams; objective : float (per point, nats); residual : float
    (max ``|∂L/∂θ|``); objectives : (n_starts,) the objective reached from each start.
    """

    params: LinearVAEParams
    objective: float
    residual: float
    objectives: np.ndarray


def solve_optimality(Sigma_x, k, beta, rng: np.random.Generator, *, n_starts: int = 3,
                     init_scale: float = 0.1, gtol: float = 1e-11, maxiter: int = 20000) -> NumericalSolution:
    r"""Solve the optimality equations (Sikka 2020, eq 43, with eqs 37, 39) numerically.

    From ``n_starts`` random starts (entries N(0, init_scale²), drawn from ``rng``) the
    data-averaged objective eq 34 is maximised with L-BFGS using the analytic gradient (eqs
    36–41, :func:`theory.linear_vae.gradients`); a stationary point of eq 34 is a solution of
    eq 43. This is the numerical route the thesis took ("Scipy optimization packages"); the
    closed form :func:`optimum` replaces it.

    Returns the solution with the highest objective, with the residual max ``|∂L/∂θ|`` there.
    """
    S = check_sigma_x(Sigma_x)
    N = S.shape[0]
    k = _check_k(k, N)
    beta = check_beta(beta)
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy Generator, got {type(rng).__name__}")
    if not isinstance(n_starts, int) or n_starts < 1:
        raise ValueError(f"n_starts must be a positive int, got {n_starts!r}")
    init_scale = check_real(init_scale, "init_scale", low=0.0, high=INIT_SCALE_MAX, closed="right")
    gtol = check_real(gtol, "gtol", low=0.0)
    maxiter = check_int(maxiter, "maxiter", low=1)

    def f(theta):
        p = _unpack(theta, N, k)
        t = _objective_terms(p, S)
        return -(t["reconstruction"] - beta * t["kl"]), -_pack(_gradients(p, S, beta))

    n_par = 2 * k * N + 2 * k + N * k + N
    best, objs = None, []
    for _ in range(n_starts):
        theta0 = init_scale * rng.standard_normal(n_par)
        res = optimize.minimize(f, theta0, jac=True, method="L-BFGS-B",
                                options=dict(maxiter=maxiter, gtol=gtol, ftol=0.0, maxcor=30))
        objs.append(-res.fun)
        if best is None or res.fun < best.fun:
            best = res
    p = _unpack(best.x, N, k)
    resid = float(np.max(np.abs(_pack(gradients(p, S, beta)))))
    return NumericalSolution(p, float(-best.fun), resid, np.asarray(objs))


def optimum_terms(Sigma_x, k, betas) -> dict[str, np.ndarray]:
    r"""rec*, KL*, L*, ELBO*, log-likelihood and MIE at the optimum, vectorised over β.

    Closed forms (module docstring; Sikka 2020, eqs 15, 20, 23, 34, 45, 47), per point in nats:

    * log p_θ: :math:`C = DD^\top + I` has eigenvalues :math:`1 + (\lambda_i-\beta)_+`, so
      :math:`\mathbb E\log p_\theta = -\tfrac12[N\log2\pi + \sum_{i\le k}\log(1+(\lambda_i-\beta)_+)
      + \sum_{i\le k}\lambda_i/(1+(\lambda_i-\beta)_+) + \sum_{i>k}\lambda_i]`.
    * MIE from eq 45 with eq 47: DᵀD = diag(d²), E = diag(1/(1+d²)), per latent
      :math:`\tfrac12[(1+d^2)\sigma^2 - 1 - \log((1+d^2)\sigma^2) + (1+d^2)\lambda(d/(1+d^2) - d/\max(\lambda,\beta))^2]`.

    Returns a dict of arrays of shape (len(betas),): ``reconstruction``, ``kl``, ``objective``,
    ``elbo``, ``log_likelihood``, ``mie``, ``n_active``.
    """
    S = check_sigma_x(Sigma_x)
    k = _check_k(k, S.shape[0])
    return _optimum_terms(np.linalg.eigvalsh(S)[::-1], k, _check_betas(betas))


def _spectrum_from_mixing(A):
    """Eigen-decomposition of Σ_x = AAᵀ + I from the thin SVD of A (O(Nk²) instead of O(N³)):
    λ_i = 1 + s_i² (i ≤ k), λ_i = 1 (i > k); returns (λ of shape (N,), U_k of shape (N, k))."""
    U, s, _ = np.linalg.svd(A, full_matrices=False)
    lam = np.concatenate([1.0 + s**2, np.ones(A.shape[0] - A.shape[1])])
    return lam, U


def _optimum_terms(lam_all, k, betas):
    N = lam_all.shape[0]
    lam, rest = lam_all[:k], lam_all[k:].sum()
    B = betas[:, None]
    top = np.maximum(lam, B)                      # (nβ, k)
    d2 = top - B                                   # (λ_i − β)_+
    rec = -0.5 * N * LOG2PI - 0.5 * (np.minimum(lam, B).sum(1) + rest)
    kl = 0.5 * np.log(top / B).sum(1)
    loglik = -0.5 * (N * LOG2PI + np.log1p(d2).sum(1) + (lam / (1.0 + d2)).sum(1) + rest)
    var = B / top
    d = np.sqrt(d2)
    prec = 1.0 + d2
    mie = 0.5 * (prec * var - 1.0 - np.log(prec * var)
                 + prec * lam * (d / prec - d / top) ** 2).sum(1)
    return {"reconstruction": rec, "kl": kl, "objective": rec - betas * kl, "elbo": rec - kl,
            "log_likelihood": loglik, "mie": mie, "n_active": (lam > B).sum(1)}


def _degenerate_blocks(lam: np.ndarray) -> list[np.ndarray]:
    blocks, start = [], 0
    for i in range(1, len(lam) + 1):
        if i == len(lam) or abs(lam[i] - lam[start]) > _DEGENERATE_RTOL * abs(lam[start]):
            blocks.append(np.arange(start, i))
            start = i
    return blocks


def tie_over_group(A, betas, *, perm=None, signs=None):
    r"""TIE at the β-optimum after a signed permutation of the model's latent axes (eqs 5, 45, 46).

    The optimum (canonical signs relative to A, :func:`optimum`) is transformed to
    :math:`W^\mu \to Q W^\mu`, :math:`\sigma^2 \to Q\sigma^2`, :math:`Q = \Pi\,\mathrm{diag}(\text{signs})`,
    so latent ``perm[j]`` of the canonical solution is compared with source j. ``perm=None``,
    ``signs=None`` is the canonical TIE. Computed in the k-dimensional eigenbasis: with
    :math:`W^\mu = \mathrm{diag}(c)U_k^\top` and :math:`G = U_k^\top\Sigma_xF^\top`,
    :math:`\mathrm{Tr}[(F-W)^\top E^{-1}(F-W)\Sigma_x] = \mathrm{Tr}[E^{-1}(F\Sigma_xF^\top - 2QcG - \dots)]`.

    Returns shape (len(betas),).
    """
    A = check_mixing(A)
    betas = _check_betas(betas)
    return _tie_canonical(_tie_parts(A, betas), A.shape[1], perm, signs)


def _tie_canonical(parts, k, perm=None, signs=None):
    perm = np.arange(k) if perm is None else np.asarray(perm)
    signs = np.ones(k) if signs is None else np.asarray(signs, dtype=float)
    if sorted(perm.tolist()) != list(range(k)) or signs.shape != (k,) or not np.all(np.abs(signs) == 1):
        raise ValueError("perm must be a permutation of range(k) and signs a ±1 vector of length k")
    Q = np.eye(k)[perm] * signs[perm][:, None]  # row j of Q picks (signed) canonical latent perm[j]
    return _tie_Q(parts, Q)


def _tie_parts(A, betas):
    S = data_covariance(A)
    N, k = A.shape
    lam_all, U = _spectrum_from_mixing(A)
    lam = lam_all[:k]
    U = _canonical_signs(U, A)
    F, E = true_posterior(A)
    P = np.linalg.inv(E)
    B = betas[:, None]
    top = np.maximum(lam, B)
    c = np.sqrt(np.clip(lam - B, 0.0, None)) / top   # W^μ = diag(c) Uᵀ
    var = B / top
    G = U.T @ S @ F.T                                 # (k, k)
    const = np.trace(P @ F @ S @ F.T) + np.linalg.slogdet(E)[1] - k
    return dict(lam=lam, c=c, var=var, G=G, P=P, const=const)


def _tie_Q(parts, Q):
    P, G, c, var, lam = parts["P"], parts["G"], parts["c"], parts["var"], parts["lam"]
    Qa = np.abs(Q)  # permutation part: σ² and c²λ are permuted, signs drop out
    var_q = var @ Qa.T
    quad_q = (c**2 * lam) @ Qa.T
    # Tr[P Q diag(c) G] for every β
    cross = np.einsum("ij,jl,bl,li->b", P, Q, c, G)
    return 0.5 * (var_q @ np.diag(P) - np.log(var_q).sum(1) + parts["const"]
                  - 2.0 * cross + quad_q @ np.diag(P))


def tie_aligned(A, betas) -> np.ndarray:
    r"""TIE minimised over the symmetry group of the β-optimum (eqs 5, 45, 46).

    The group is {Π R}: Π a permutation of the k latents and R block-diagonal orthogonal over
    groups of equal eigenvalues λ_i (1×1 blocks = sign flips when the λ_i are distinct). R
    leaves σ² and WΣWᵀ unchanged, so TIE(ΠR) = T₀(Π) − Tr[R M(Π)], M = diag(c) G E⁻¹ Π, and the
    minimum over each O(m) block is the nuclear norm of the block of M (orthogonal Procrustes).
    The k! permutations are enumerated (k ≤ 8). Returns shape (len(betas),).
    """
    A = check_mixing(A)
    betas = _check_betas(betas)
    if A.shape[1] > 8:
        raise ValueError(f"A: tie_aligned enumerates k! permutations and needs k <= 8, got k={A.shape[1]}")
    return _tie_aligned(_tie_parts(A, betas), A.shape[1], betas)


def _tie_aligned(parts, k, betas):
    blocks = _degenerate_blocks(parts["lam"])
    P, G, c = parts["P"], parts["G"], parts["c"]
    best = np.full(betas.shape, np.inf)
    for perm in itertools.permutations(range(k)):
        Pi = np.eye(k)[list(perm)]
        base = _tie_Q(parts, Pi) + np.einsum("ij,jl,bl,li->b", P, Pi, c, G)  # T₀(Π): cross term removed
        M = np.einsum("bl,lm,mn,nj->blj", c, G, P, Pi)  # diag(c) G P Π, shape (nβ, k, k)
        gain = np.zeros_like(betas)
        for blk in blocks:
            gain += np.linalg.svd(M[:, blk][:, :, blk], compute_uv=False).sum(1)
        best = np.minimum(best, base - gain)
    return best


def beta_sweep(A, betas) -> dict[str, np.ndarray]:
    r"""Every quantity of Sikka (2020) Fig 3 at the β-optimum, for each β, per data point in nats.

    Parameters
    ----------
    A : array of shape (N, k), the mixing matrix (Σ_x = AAᵀ + I_N, eq 27)
    betas : array of shape (n,), β > 0

    Returns
    -------
    dict of arrays of shape (n,): ``"beta"``, ``"elbo"`` (eq 20), ``"reconstruction"`` (eq 49),
    ``"kl"`` (eq 50), ``"objective"`` (eq 15), ``"log_likelihood"``, ``"mie"`` (eq 4),
    ``"tie"`` (eq 5, canonical axes: latent i ↔ source i with latents ordered by decreasing
    λ_i and signed so that (AᵀD)_ii ≥ 0), ``"tie_aligned"`` (:func:`tie_aligned`),
    ``"n_active"``.
    """
    A = check_mixing(A)
    betas = _check_betas(betas)
    k = A.shape[1]
    if k > 8:
        raise ValueError(f"A: tie_aligned enumerates k! permutations and needs k <= 8, got k={k}")
    out = {"beta": betas.copy()}
    out.update(_optimum_terms(_spectrum_from_mixing(A)[0], k, betas))
    parts = _tie_parts(A, betas)
    out["tie"] = _tie_canonical(parts, k)
    out["tie_aligned"] = _tie_aligned(parts, k, betas)
    return out


# =============================================================================== fixed decoder
def fixed_decoder_optimum(D, beta) -> LinearVAEParams:
    r"""Optimal encoder for a fixed decoder D (b^D = 0): the case "fixing the decoder" of
    Sikka 2020 (§Analytically Tractable Results, eq 24).

    From eqs 36, 40, 41: :math:`W^\mu = (D^\top D+\beta I)^{-1}D^\top` (ridge),
    :math:`W^\sigma = 0`, :math:`\sigma_i^2 = \beta/([D^\top D]_{ii}+\beta)`.
    D : (N, k). Returns :class:`LinearVAEParams` (with the given D).
    """
    D = check_mixing(D, "D")
    beta = check_beta(beta)
    N, k = D.shape
    DtD = D.T @ D
    W = np.linalg.solve(DtD + beta * np.eye(k), D.T)
    var = beta / (np.diag(DtD) + beta)
    return LinearVAEParams(W, np.zeros(k), np.zeros((k, N)), np.log(var), D.copy(), np.zeros(N))
