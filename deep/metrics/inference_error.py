r"""The true inference error of a trained encoder, Sikka (2020), eq 5:
:math:`\mathrm{TIE} = \mathbb E_{p(x)}\,\mathrm{KL}(q(z|x)\,\|\,p_{g\text{-}t}(s|x))`, for the two
digit processes of :mod:`deep.data.digits` (numpy, float64; arrays in, arrays out).

The encoder enters only through its outputs on data x: means ``mu`` (n, k) and variances
``var`` (n, k) of the diagonal Gaussian q(z|x).

* Linear-Gaussian process x = A s + η, η ~ N(0, σ² I) (Fig 4): p(s|x) = N(F x, E) in closed
  form, eq 28 applied to x/σ = (A/σ) s + η/σ — :func:`gaussian_posterior` reuses
  :func:`theory.linear_vae.true_posterior` — and the KL per point is
  :func:`theory.linear_vae.gaussian_kl`.
* Placed digit (Fig 5): the image gives only the pixel cell [lo, hi) of p = A s + η, so
  :math:`p(s|x) = \mathcal N(s;0,I)\,\prod_d P_d(s) / Z` with
  :math:`P_d(s) = \Phi(hi_d - a_d\cdot s) - \Phi(lo_d - a_d\cdot s)` (η_d ~ N(0, 1) independent)
  and :math:`Z = P(p \in \text{cell})`, p ~ N(0, AAᵀ + I). Then

  .. math::
      \mathrm{KL}(q\|p) = -\tfrac12\sum_j(1 + \log\sigma_j^2) + \tfrac12\sum_j(\mu_j^2 + \sigma_j^2)
      - \sum_d \mathbb E_q \log P_d(s) + \log Z,

  and under the diagonal Gaussian q the projection u = a_d·s is N(a_d·μ, Σ_j a_dj² σ_j²), so
  each :math:`\mathbb E_q\log P_d` is a one-dimensional Gauss–Hermite quadrature
  (:func:`placement_kl`); Z is a one-dimensional adaptive quadrature of the bivariate normal over
  the cell (:func:`placement_log_evidence`). The tests check both against a dense two-dimensional
  grid quadrature and, for a vanishing cell, against the closed form.

Matching latents to sources. q(z|x) is defined up to the symmetries of the prior: the thesis
compares latent i with source i without saying how they are matched. As in the linear study
(:func:`linear_models.linear_vae.tie_aligned`), the TIE is minimised over the signed
permutations Q of the latent axes, z → Qz (one Q per trained model, the same for every x):
:func:`aligned_tie`.
"""

from __future__ import annotations

import itertools

import numpy as np
from scipy import integrate, special, stats

from validation import as_float_array, check_real, positive_scalar
from theory import linear_vae as T

__all__ = ["GH_NODES", "signed_permutations", "apply_signed_permutation", "gaussian_posterior",
           "gaussian_kl_per_point", "log_ndtr_diff", "placement_log_evidence", "placement_kl",
           "aligned_tie", "aligned_abs_correlation"]

#: Gauss–Hermite nodes of the one-dimensional expectations: the integrand log P_d(u) is smooth
#: (analytic) with a width ≥ the noise scale 1, so 64 nodes are exact to float64 for the posterior
#: widths met here (tested against a 2-D grid quadrature)
GH_NODES = 64
#: largest ``|entry|`` of means, variances, data and mixing matrices (squares stay in float64)
ENTRY_BOUND = 1e100
#: the accepted noise_std of gaussian_posterior (A / σ and x / σ stay in float64)
NOISE_RANGE = (1e-100, 1e100)


def _mu_var(mu, var, k=None):
    mu = as_float_array(mu, "mu", 2, low=-ENTRY_BOUND, high=ENTRY_BOUND)
    var = as_float_array(var, "var", 2, low=-ENTRY_BOUND, high=ENTRY_BOUND)
    if var.shape != mu.shape:
        raise ValueError(f"var must have the shape of mu {mu.shape}, got {var.shape}")
    if np.any(var <= 0):
        raise ValueError("var must be > 0")
    if k is not None and mu.shape[1] != k:
        raise ValueError(f"mu must have {k} columns (one per source), got shape {mu.shape}")
    return mu, var


def signed_permutations(k: int) -> list[np.ndarray]:
    """The 2^k k! signed permutation matrices Q (k, k): (Qz)_j = ±z_{π(j)}."""
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= 6:
        raise ValueError(f"k must be an int in [1, 6], got {k!r}")
    out = []
    for perm in itertools.permutations(range(k)):
        for signs in itertools.product((1.0, -1.0), repeat=k):
            out.append(np.eye(k)[list(perm)] * np.asarray(signs)[:, None])
    return out


def apply_signed_permutation(Q, mu, var):
    """q(z|x) under z → Qz: means Q μ, variances ``|Q|`` σ² (a diagonal Gaussian stays diagonal)."""
    mu, var = _mu_var(mu, var)
    Q = as_float_array(Q, "Q", 2)
    if Q.shape != (mu.shape[1],) * 2:
        raise ValueError(f"Q must have shape {(mu.shape[1],) * 2} (columns of mu), got {Q.shape}")
    return mu @ Q.T, var @ np.abs(Q).T


# ---------------------------------------------------------------- linear-Gaussian (Fig 4)
def gaussian_posterior(x, A, noise_std: float = 1.0):
    r"""p(s|x) = N(F x, E) for x = A s + η, s ~ N(0, I_k), η ~ N(0, σ² I_N) (Sikka 2020, eq 28
    with A/σ and x/σ): :math:`E = (A^\top A/\sigma^2 + I)^{-1}`, :math:`F = E A^\top/\sigma^2`.

    x : (n, N), A : (N, k). Returns means (n, k) and the covariance E (k, k).
    """
    A = T.check_mixing(A, "A")
    x = as_float_array(x, "x", 2, low=-ENTRY_BOUND, high=ENTRY_BOUND)
    if x.shape[1] != A.shape[0]:
        raise ValueError(f"x must have {A.shape[0]} columns (the rows of A), got shape {x.shape}")
    sigma = check_real(noise_std, "noise_std", low=NOISE_RANGE[0], high=NOISE_RANGE[1])
    F, E = T.true_posterior(A / sigma)
    return (x / sigma) @ F.T, E


def gaussian_kl_per_point(mu, var, post_mean, post_cov) -> np.ndarray:
    """KL(N(μ, diag σ²) ‖ N(m, E)) per point (n,), :func:`theory.linear_vae.gaussian_kl`."""
    mu, var = _mu_var(mu, var)
    post_mean = as_float_array(post_mean, "post_mean", 2, low=-ENTRY_BOUND, high=ENTRY_BOUND)
    if post_mean.shape != mu.shape:
        raise ValueError(f"post_mean must have the shape of mu {mu.shape}, got {post_mean.shape}")
    post_cov = T.check_sigma_x(post_cov, "post_cov")
    return T.gaussian_kl(mu, var, post_mean, post_cov)


# ---------------------------------------------------------------- placed digit (Fig 5)
def log_ndtr_diff(a, b) -> np.ndarray:
    """log(Φ(b) − Φ(a)) for a < b, elementwise, without cancellation: on the upper tail
    (a > 0) it uses Φ(b) − Φ(a) = Φ(−a) − Φ(−b)."""
    a = as_float_array(a, "a", finite=False)          # ±inf allowed, NaN not
    b = as_float_array(b, "b", finite=False)
    try:
        a, b = np.broadcast_arrays(a, b)
    except ValueError:
        raise ValueError(f"a and b must broadcast together, got shapes {a.shape} and {b.shape}") from None
    if np.any(a > b):
        raise ValueError("a must not exceed b elementwise (log(Φ(b) − Φ(a)) needs a <= b)")
    flip = a > 0
    lo = np.where(flip, -b, a)                   # log(Φ(hi') − Φ(lo')) with hi' > lo', hi' ≤ |.|
    hi = np.where(flip, -a, b)
    lh, ll = special.log_ndtr(hi), special.log_ndtr(lo)
    with np.errstate(divide="ignore"):
        return lh + np.log1p(-np.exp(ll - lh))


def placement_log_evidence(lo, hi, A) -> np.ndarray:
    """log Z = log P(p ∈ [lo, hi)) for p = A s + η ~ N(0, C), C = AAᵀ + I (2-D), per row of lo,
    hi (n, 2) (±inf allowed). Computed as ∫_{lo1}^{hi1} N(p1; 0, C11) P(p2 ∈ [lo2, hi2) | p1) dp1
    by adaptive quadrature (scipy ``quad``, relative accuracy 1e-12)."""
    lo, hi = _bounds(lo, hi)
    A = as_float_array(A, "A", low=-ENTRY_BOUND, high=ENTRY_BOUND)
    if A.shape != (2, 2):
        raise ValueError(f"A must be a finite (2, 2) matrix, got shape {A.shape}")
    C = A @ A.T + np.eye(2)
    s1 = np.sqrt(C[0, 0])
    b = C[0, 1] / C[0, 0]
    sc = np.sqrt(C[1, 1] - C[0, 1] ** 2 / C[0, 0])
    out = np.empty(len(lo))
    cache = {}
    for i, (l, h) in enumerate(zip(map(tuple, lo), map(tuple, hi))):
        if (l, h) not in cache:
            def f(t):      # t = p1 / s1
                m = b * s1 * t
                return stats.norm.pdf(t) * np.exp(log_ndtr_diff((l[1] - m) / sc, (h[1] - m) / sc))
            val, _ = integrate.quad(f, _clip_t(l[0] / s1), _clip_t(h[0] / s1), epsabs=0, epsrel=1e-12,
                                    limit=200)
            cache[(l, h)] = np.log(val)
        out[i] = cache[(l, h)]
    return out


#: ``|t|`` beyond which the standard normal density's mass is below float64 (Φ(−40) ≈ 4e-350)
T_CLIP = 40.0


def _clip_t(t: float) -> float:
    """A finite integration bound far in the tail, clipped to ±T_CLIP: adaptive quadrature over
    [−1e5, 0] misses the mass near 0 (it returned −inf, and NaN at −1e308); infinite bounds are
    left to quad's own transformation."""
    return t if not np.isfinite(t) else float(np.clip(t, -T_CLIP, T_CLIP))


def _bounds(lo, hi):
    lo = as_float_array(lo, "lo", finite=False)          # ±inf allowed, NaN not
    hi = as_float_array(hi, "hi", finite=False)
    if lo.ndim != 2 or lo.shape[1] != 2 or hi.shape != lo.shape or np.any(np.isnan(lo)) \
            or np.any(np.isnan(hi)) or np.any(hi <= lo):
        raise ValueError("lo, hi must be (n, 2) cell bounds with lo < hi (±inf allowed)")
    return lo, hi


def placement_kl(mu, var, lo, hi, A, *, log_evidence=None) -> np.ndarray:
    r"""KL(q(z|x) ‖ p(s|x)) per point for the placed digit (module docstring; Sikka 2020, eq 5):
    q = N(μ, diag σ²) with ``mu``, ``var`` (n, 2); the cell of each image [lo, hi) (n, 2) in
    units of p (:func:`deep.data.digits.cell_bounds`); A (2, 2). ``log_evidence`` (n,) may pass
    precomputed :func:`placement_log_evidence` values. Returns shape (n,)."""
    mu, var = _mu_var(mu, var, 2)
    lo, hi = _bounds(lo, hi)
    A = as_float_array(A, "A", low=-ENTRY_BOUND, high=ENTRY_BOUND)
    if A.shape != (2, 2):
        raise ValueError(f"A must have shape (2, 2), got {A.shape}")
    if len(lo) != len(mu):
        raise ValueError(f"lo, hi must have one row per row of mu ({len(mu)}), got {len(lo)}")
    logZ = placement_log_evidence(lo, hi, A) if log_evidence is None else np.asarray(log_evidence)
    t, w = np.polynomial.hermite.hermgauss(GH_NODES)
    w = w / np.sqrt(np.pi)
    e_log_p = np.zeros(len(mu))
    for d in range(2):
        m = mu @ A[d]                                            # (n,)
        sd = np.sqrt(var @ A[d] ** 2)
        u = m[:, None] + np.sqrt(2.0) * sd[:, None] * t          # (n, nodes)
        e_log_p += (log_ndtr_diff(lo[:, d, None] - u, hi[:, d, None] - u) * w).sum(1)
    neg_entropy = -0.5 * (np.log(2 * np.pi) + 1 + np.log(var)).sum(1)
    e_log_prior = -0.5 * (np.log(2 * np.pi) + mu ** 2 + var).sum(1)
    return neg_entropy - e_log_prior - e_log_p + logZ


# ---------------------------------------------------------------- alignment
def aligned_tie(kl_fn, mu, var):
    """min over signed permutations Q of mean_x KL(q_Q(z|x) ‖ p(s|x)), with ``kl_fn(mu, var)``
    the per-point KL of an aligned q. Returns (TIE, the minimising Q (k, k), the TIE of every Q
    in :func:`signed_permutations` order)."""
    if not callable(kl_fn):
        raise TypeError(f"kl_fn must be callable, kl_fn(mu, var) -> (n,), got {type(kl_fn).__name__}")
    mu, var = _mu_var(mu, var)
    Qs = signed_permutations(mu.shape[1])
    vals = np.array([float(np.mean(kl_fn(*apply_signed_permutation(Q, mu, var)))) for Q in Qs])
    i = int(np.argmin(vals))
    return float(vals[i]), Qs[i], vals


def aligned_abs_correlation(codes, targets) -> np.ndarray:
    """``|Pearson correlation|`` of each target column with the code column matched to it, the
    matching (a permutation) maximising the summed ``|correlation|`` (k ≤ 6: enumerated).

    codes : (n, k), targets : (n, k). Returns shape (k,) in target order (NaN-free: a constant
    column has correlation 0)."""
    c = as_float_array(codes, "codes", 2, low=-ENTRY_BOUND, high=ENTRY_BOUND)
    t = as_float_array(targets, "targets", 2, low=-ENTRY_BOUND, high=ENTRY_BOUND)
    if c.shape != t.shape:
        raise ValueError(f"codes and targets must have the same shape, got {c.shape}, {t.shape}")
    k = c.shape[1]
    cz, tz = c - c.mean(0), t - t.mean(0)
    norm = np.linalg.norm(cz, axis=0)[:, None] * np.linalg.norm(tz, axis=0)[None, :]
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where(norm > 0, np.abs(cz.T @ tz) / norm, 0.0)      # (code, target)
    best = max(itertools.permutations(range(k)), key=lambda p: sum(r[p[j], j] for j in range(k)))
    return np.array([r[best[j], j] for j in range(k)])
