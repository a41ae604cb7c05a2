r"""The analytically tractable linear β-VAE of Sikka (2020), eqs 26–47 and App. 1, 2, 4, 5.

Model (Sikka 2020, eqs 26–32; σ_y² = 1)::

    data         x = A s + η,   s ~ N(0, I_k),  η ~ N(0, I_N)   ⇒  x ~ N(0, Σ_x),  Σ_x = AAᵀ + I_N  (eq 27)
    encoder      q(z|x) = N(μ_z, Σ_z),  μ_z = W^μ x + b^μ,  Σ_z = diag(exp(W^σ x + b^σ))  (eqs 29–30)
    decoder      p_θ(x|z) = N(D z + b^D, I_N),  prior p(z) = N(0, I_k)                         (eq 32)

Shapes used throughout: ``A`` (N, k), ``Sigma_x`` (N, N), ``W_mu`` and ``W_sigma`` (k, N),
``b_mu`` and ``b_sigma`` (k,), ``D`` (N, k), ``b_D`` (N,).

This module has two halves.

* **numpy closed forms** — the data-averaged objective (eq 34 *with* its constants), its
  gradients (eqs 36–41), the optimality residuals (eq 43), the model posterior (eq 44), the
  ground-truth posterior (eq 28), the inference errors MIE/TIE (eq 45, corrected) and the
  model log-likelihood. All per data point, in nats.
* **sympy derivations** (``derive_*``) — the same formulas derived symbolically at a small size
  (e.g. N = 3, k = 2) from the per-data-point definitions, so the tests can check the closed
  forms (and the thesis' printed forms) against an independent derivation.

Errata found by the derivations (each is a ``differs`` claim in the report):

1. eq 45 prints :math:`E_{ii}^{-1}`; the derivation gives :math:`(E^{-1})_{ii}`.
2. App. 5, eq 81 writes :math:`p_\theta(x|z)` for the posterior :math:`p_\theta(z|x)`, drops
   :math:`x` from the mean and uses N×N matrices :math:`(DD^\top+I_N)^{-1}`; the correct
   posterior is eq 44, :math:`\mathcal N((D^\top D+I_k)^{-1}D^\top x, (D^\top D+I_k)^{-1})`.
   App. 4, eq 77 also writes :math:`p_\theta(x|z)` for :math:`p_\theta(z|x)`.
3. eq 40 prints the exponent :math:`\tfrac12[W^\sigma\Sigma]_{ab}W^\sigma_{ab}`; the derivative
   of eq 34 has :math:`\tfrac12[W^\sigma\Sigma W^{\sigma\top}]_{aa}` (the same exponent as eq 41).
4. eq 34 and App. 1 drop the constants :math:`-\tfrac N2\log 2\pi` (reconstruction) and
   :math:`+\tfrac{\beta k}{2}` (KL); they are restored here so the values are in nats.
"""

from __future__ import annotations

__all__ = ["LOG2PI", "LinearVAEParams", "check_beta", "check_sigma_x", "check_mixing",
           "check_params", "data_covariance", "thesis_mixing", "encoder_moments",
           "objective_terms", "objective", "gradients", "optimality_residual",
           "model_posterior", "true_posterior", "model_log_likelihood",
           "inference_error", "gaussian_kl", "symbolic_setup", "lognormal_mgf",
           "gaussian_expectation", "derive_per_point_objective",
           "derive_averaged_objective", "printed_eq34", "printed_gradient_conditions",
           "derive_posterior", "derive_inference_error"]

from typing import NamedTuple

import numpy as np

from validation import as_float_array, check_int, check_real

LOG2PI = float(np.log(2.0 * np.pi))


# =============================================================================== containers
class LinearVAEParams(NamedTuple):
    """Encoder and decoder parameters of the linear β-VAE (Sikka 2020, eqs 29–32).

    W_mu : ndarray of shape (k, N)      b_mu : ndarray of shape (k,)
    W_sigma : ndarray of shape (k, N)   b_sigma : ndarray of shape (k,)
    D : ndarray of shape (N, k)         b_D : ndarray of shape (N,)
    """

    W_mu: np.ndarray
    b_mu: np.ndarray
    W_sigma: np.ndarray
    b_sigma: np.ndarray
    D: np.ndarray
    b_D: np.ndarray

    @property
    def N(self) -> int:
        return self.D.shape[0]

    @property
    def k(self) -> int:
        return self.D.shape[1]


# =============================================================================== validation
#: the accepted magnitude of matrix entries and the accepted range of β (documented limits of
#: the float64 formulas; rejected by name outside)
MAX_ENTRY = 1e100
BETA_RANGE = (1e-300, 1e300)


def _array(value, name: str, shape: tuple) -> np.ndarray:
    arr = as_float_array(value, name, finite=False)
    if arr.ndim != len(shape) or any(s is not None and a != s for a, s in zip(arr.shape, shape)):
        want = tuple("*" if s is None else s for s in shape)
        raise ValueError(f"{name} must have shape {want}, got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite (found NaN or inf)")
    if arr.size and np.abs(arr).max() > MAX_ENTRY:
        # products and sums of two such entries (Σ_x = AAᵀ + I, Tr Σ_x) must stay in float64
        raise ValueError(f"{name} entries must lie within ±{MAX_ENTRY:g}, got {np.abs(arr).max():g}")
    return arr


def check_beta(beta, name: str = "beta") -> float:
    """β as a float, or ValueError/TypeError naming ``name`` (β must be finite and > 0)."""
    if isinstance(beta, bool) or not np.isscalar(beta) or not np.isreal(beta):
        raise TypeError(f"{name} must be a real number, got {type(beta).__name__}")
    beta = float(beta)
    if not np.isfinite(beta) or beta <= 0:
        raise ValueError(f"{name} must be finite and > 0, got {beta}")
    if not BETA_RANGE[0] <= beta <= BETA_RANGE[1]:
        # β log β and β / (λ + β) terms: outside this range they round to 0 or overflow
        raise ValueError(f"{name} must lie in [{BETA_RANGE[0]:g}, {BETA_RANGE[1]:g}], got {beta:g}")
    return beta


def check_sigma_x(Sigma_x, name: str = "Sigma_x") -> np.ndarray:
    """Σ_x as a float64 (N, N) array; ValueError unless symmetric positive definite."""
    S = _array(Sigma_x, name, (None, None))
    if S.shape[0] != S.shape[1]:
        raise ValueError(f"{name} must be square, got shape {S.shape}")
    if not np.allclose(S, S.T, rtol=1e-10, atol=1e-12 * max(1.0, np.abs(S).max())):
        raise ValueError(f"{name} must be symmetric")
    if np.linalg.eigvalsh(0.5 * (S + S.T))[0] <= 0:
        raise ValueError(f"{name} must be positive definite")
    return 0.5 * (S + S.T)


def check_mixing(A, name: str = "A") -> np.ndarray:
    """The mixing matrix A as a float64 (N, k) array with k ≤ N."""
    A = _array(A, name, (None, None))
    N, k = A.shape
    if k < 1 or k > N:
        raise ValueError(f"{name} must have shape (N, k) with 1 <= k <= N, got {A.shape}")
    return A


def check_params(params: LinearVAEParams, N: int | None = None) -> LinearVAEParams:
    """Validate the shapes of a :class:`LinearVAEParams` (against ``N`` if given)."""
    if not isinstance(params, LinearVAEParams):
        raise TypeError(f"params must be a LinearVAEParams, got {type(params).__name__}")
    if N is not None:
        N = check_int(N, "N", low=1)
    D = _array(params.D, "params.D", (N, None))
    n, k = D.shape
    if k > n:
        raise ValueError(f"params.D must have k <= N, got shape {D.shape}")
    return LinearVAEParams(
        W_mu=_array(params.W_mu, "params.W_mu", (k, n)), b_mu=_array(params.b_mu, "params.b_mu", (k,)),
        W_sigma=_array(params.W_sigma, "params.W_sigma", (k, n)),
        b_sigma=_array(params.b_sigma, "params.b_sigma", (k,)), D=D,
        b_D=_array(params.b_D, "params.b_D", (n,)))


# =============================================================================== data model
def data_covariance(A) -> np.ndarray:
    r""":math:`\Sigma_x = AA^\top + I_N` (Sikka 2020, eq 27). A : (N, k) → (N, N)."""
    A = check_mixing(A)
    return A @ A.T + np.eye(A.shape[0])


def thesis_mixing(N: int = 128, k: int = 2, offdiag: float = 0.5) -> np.ndarray:
    r"""The thesis' mixing matrix :math:`A_{ij} = \tfrac12(1 + \delta_{ij})` (Sikka 2020, §Numerical
    Verification; N = 128, k = 2), generalised to :math:`A_{ij} = \delta_{ij}(1-m) + m`, m = ``offdiag``
    (so the diagonal is 1 and every other entry m). Returns shape (N, k)."""
    N = check_int(N, "N", low=1)
    k = check_int(k, "k", low=1)
    if k > N:
        raise ValueError(f"k must satisfy 1 <= k <= N, got N={N!r}, k={k!r}")
    offdiag = check_real(offdiag, "offdiag", low=-MAX_ENTRY, high=MAX_ENTRY)
    return np.eye(N, k) * (1.0 - offdiag) + offdiag


# =============================================================================== objective
def encoder_moments(params: LinearVAEParams, Sigma_x):
    r"""Data averages of the encoder outputs for x ~ N(0, Σ_x).

    E[σ²_i] = exp(½[W^σ Σ_x W^σᵀ]_ii + b^σ_i) (log-normal mean), E[log σ²_i] = b^σ_i,
    E[μ μᵀ] = W^μ Σ_x W^μᵀ + b^μ b^μᵀ (Sikka 2020, App. 1, the step from eq 67 to eq 34).

    Returns
    -------
    mean_var : ndarray of shape (k,)   E_x[σ_i²(x)]
    mean_mu2 : ndarray of shape (k, k) E_x[μ(x) μ(x)ᵀ]
    """
    S = check_sigma_x(Sigma_x)
    return _encoder_moments(check_params(params, S.shape[0]), S)


def _encoder_moments(params: LinearVAEParams, Sigma_x):
    S = Sigma_x
    mean_var = np.exp(0.5 * np.einsum("in,nm,im->i", params.W_sigma, S, params.W_sigma) + params.b_sigma)
    mean_mu2 = params.W_mu @ S @ params.W_mu.T + np.outer(params.b_mu, params.b_mu)
    return mean_var, mean_mu2


def objective_terms(params: LinearVAEParams, Sigma_x) -> dict[str, float]:
    r"""Data-averaged reconstruction and KL, per data point, in nats (Sikka 2020, eq 34 + constants).

    .. math::

        \mathrm{rec} = -\tfrac N2\log 2\pi - \tfrac12\Big\{\mathrm{Tr}[(DW^\mu-I)\Sigma_x(DW^\mu-I)^\top]
            + \|Db^\mu+b^D\|^2 + \sum_i [D^\top D]_{ii}\, e^{\frac12[W^\sigma\Sigma_xW^{\sigma\top}]_{ii}+b^\sigma_i}\Big\}

        \mathrm{KL} = \tfrac12\Big\{\mathrm{Tr}[W^\mu\Sigma_xW^{\mu\top}] + \|b^\mu\|^2
            + \sum_i e^{\frac12[W^\sigma\Sigma_xW^{\sigma\top}]_{ii}+b^\sigma_i} - \sum_i b^\sigma_i - k\Big\}

    so that :math:`\mathcal L_\beta = \mathrm{rec} - \beta\,\mathrm{KL}` is eq 34 plus
    :math:`-\tfrac N2\log2\pi + \tfrac{\beta k}2`.

    Returns
    -------
    dict with keys ``"reconstruction"``, ``"kl"`` (floats).
    """
    S = check_sigma_x(Sigma_x)
    return _objective_terms(check_params(params, S.shape[0]), S)


def _objective_terms(p: LinearVAEParams, S: np.ndarray) -> dict[str, float]:
    """:func:`objective_terms` without input checks (for solver inner loops)."""
    N, k = p.D.shape
    mean_var, mean_mu2 = _encoder_moments(p, S)
    R = p.D @ p.W_mu - np.eye(N)
    r = p.D @ p.b_mu + p.b_D
    dtd = np.einsum("ni,ni->i", p.D, p.D)
    rec = -0.5 * N * LOG2PI - 0.5 * (np.trace(R @ S @ R.T) + r @ r + dtd @ mean_var)
    kl = 0.5 * (np.trace(mean_mu2) + mean_var.sum() - p.b_sigma.sum() - k)
    return {"reconstruction": float(rec), "kl": float(kl)}


def objective(params: LinearVAEParams, Sigma_x, beta) -> float:
    r"""The data-averaged β-objective :math:`\mathcal L_\beta` = rec − β·KL, per point (eq 34)."""
    beta = check_beta(beta)
    t = objective_terms(params, Sigma_x)
    return t["reconstruction"] - beta * t["kl"]


def gradients(params: LinearVAEParams, Sigma_x, beta) -> LinearVAEParams:
    r"""Gradient of :func:`objective` with respect to every parameter (Sikka 2020, eqs 36–41).

    The thesis prints the conditions ∂L/∂θ = 0 up to a non-zero factor (−1 or −2); the
    gradients here carry the factors, and eq 40's exponent is the corrected
    :math:`\tfrac12[W^\sigma\Sigma W^{\sigma\top}]_{aa} + b^\sigma_a`:

    * ∂L/∂W^μ = −[Dᵀ(DW^μ − I) + βW^μ] Σ_x                                      (eq 36)
    * ∂L/∂b^μ = −[Dᵀ(Db^μ + b^D) + βb^μ]                                         (eq 37)
    * ∂L/∂D  = −[(DW^μ − I)Σ_x W^μᵀ + (Db^μ + b^D) b^μᵀ + D diag(E σ²)]           (eq 38)
    * ∂L/∂b^D = −(Db^μ + b^D)                                                     (eq 39)
    * ∂L/∂W^σ_ab = −½([DᵀD]_aa + β) E[σ_a²] [W^σ Σ_x]_ab                          (eq 40)
    * ∂L/∂b^σ_a = −½{([DᵀD]_aa + β) E[σ_a²] − β}                                  (eq 41)

    Returns a :class:`LinearVAEParams` of gradients (same shapes as ``params``).
    """
    S = check_sigma_x(Sigma_x)
    return _gradients(check_params(params, S.shape[0]), S, check_beta(beta))


def _gradients(p: LinearVAEParams, S: np.ndarray, beta: float) -> LinearVAEParams:
    """:func:`gradients` without input checks (for solver inner loops)."""
    N, k = p.D.shape
    mean_var, _ = _encoder_moments(p, S)
    R = p.D @ p.W_mu - np.eye(N)
    r = p.D @ p.b_mu + p.b_D
    dtd = np.einsum("ni,ni->i", p.D, p.D)
    g_Wmu = -(p.D.T @ R + beta * p.W_mu) @ S
    g_bmu = -(p.D.T @ r + beta * p.b_mu)
    g_D = -(R @ S @ p.W_mu.T + np.outer(r, p.b_mu) + p.D * mean_var)
    g_bD = -r
    coef = (dtd + beta) * mean_var
    g_Wsig = -0.5 * coef[:, None] * (p.W_sigma @ S)
    g_bsig = -0.5 * (coef - beta)
    return LinearVAEParams(g_Wmu, g_bmu, g_Wsig, g_bsig, g_D, g_bD)


def optimality_residual(params: LinearVAEParams, Sigma_x, beta) -> float:
    """Largest absolute entry of the gradient: 0 exactly at a solution of eq 43 (with eqs 37, 39)."""
    g = gradients(params, Sigma_x, beta)
    return float(max(np.max(np.abs(x)) if x.size else 0.0 for x in g))


# =============================================================================== posteriors
def model_posterior(D) -> tuple[np.ndarray, np.ndarray]:
    r"""Model posterior :math:`p_\theta(z|x) = \mathcal N(Fx, E)` for b^D = 0 (Sikka 2020, eq 44).

    :math:`E = (D^\top D + I_k)^{-1}`, :math:`F = (D^\top D + I_k)^{-1}D^\top` (eq 47). The thesis'
    App. 5 (eq 81) prints this with N×N matrices and without x; see the module docstring.

    D : (N, k) → F : (k, N), E : (k, k).
    """
    D = check_mixing(D, "D")
    E = np.linalg.inv(D.T @ D + np.eye(D.shape[1]))
    return E @ D.T, E


def true_posterior(A) -> tuple[np.ndarray, np.ndarray]:
    r"""Ground-truth posterior :math:`p_{g\text{-}t}(s|x) = \mathcal N(Fx, E)` (Sikka 2020, eq 28, App. 2).

    :math:`E = (A^\top A + I_k)^{-1}`, :math:`F = (A^\top A + I_k)^{-1}A^\top` (eq 46); the same
    function as :func:`model_posterior` with D = A, since the decoder family contains the
    generative process.
    """
    A = check_mixing(A, "A")
    return model_posterior(A)


def model_log_likelihood(D, Sigma_x, b_D=None) -> float:
    r"""Data-averaged model log-likelihood :math:`\mathbb E_{p(x)}\log p_\theta(x)`, per point.

    :math:`p_\theta(x) = \mathcal N(b^D, C)`, :math:`C = DD^\top + I_N` (Sikka 2020, eqs 78–80), so
    :math:`\mathbb E\log p_\theta = -\tfrac12[N\log2\pi + \log\det C + \mathrm{Tr}(C^{-1}\Sigma_x) + b^{D\top}C^{-1}b^D]`.
    """
    S = check_sigma_x(Sigma_x)
    D = _array(D, "D", (S.shape[0], None))
    N = S.shape[0]
    b = np.zeros(N) if b_D is None else _array(b_D, "b_D", (N,))
    C = D @ D.T + np.eye(N)
    L = np.linalg.cholesky(C)
    logdet = 2.0 * np.log(np.diag(L)).sum()
    Cinv_S = np.linalg.solve(C, S)
    return float(-0.5 * (N * LOG2PI + logdet + np.trace(Cinv_S) + b @ np.linalg.solve(C, b)))


def inference_error(params: LinearVAEParams, Sigma_x, F, E, *, printed: bool = False) -> float:
    r"""Data-averaged :math:`\mathbb E_{p(x)}\mathrm{KL}(q(z|x)\,\|\,\mathcal N(Fx, E))` (Sikka 2020, eq 45).

    With F, E from :func:`model_posterior` this is the MIE (eqs 4, 47), from :func:`true_posterior`
    the TIE (eqs 5, 46). Corrected eq 45 (App. 4, eq 77 averaged over x; b^μ kept):

    .. math::

        \tfrac12\Big\{\sum_i (E^{-1})_{ii}\, e^{\frac12[W^\sigma\Sigma_xW^{\sigma\top}]_{ii}+b^\sigma_i}
        - \sum_i b^\sigma_i + \log\det E
        + \mathrm{Tr}[(F-W^\mu)^\top E^{-1}(F-W^\mu)\Sigma_x] + b^{\mu\top}E^{-1}b^\mu - k\Big\}

    ``printed=True`` evaluates the thesis' printed eq 45 instead (:math:`1/E_{ii}` in place of
    :math:`(E^{-1})_{ii}`), for the erratum claim.

    F : (k, N), E : (k, k) symmetric positive definite.
    """
    S = check_sigma_x(Sigma_x)
    p = check_params(params, S.shape[0])
    N, k = p.D.shape
    F = _array(F, "F", (k, N))
    E = check_sigma_x(E, "E")
    if E.shape != (k, k):
        raise ValueError(f"E must have shape {(k, k)}, got {E.shape}")
    Einv = np.linalg.inv(E)
    mean_var, _ = _encoder_moments(p, S)
    diag = 1.0 / np.diag(E) if printed else np.diag(Einv)
    G = F - p.W_mu
    quad = np.trace(G.T @ Einv @ G @ S) + p.b_mu @ Einv @ p.b_mu
    logdetE = np.linalg.slogdet(E)[1]
    return float(0.5 * (diag @ mean_var - p.b_sigma.sum() + logdetE + quad - k))


def gaussian_kl(mu_q, var_q, mu_p, cov_p) -> np.ndarray:
    r"""KL(N(μ_q, diag var_q) ‖ N(μ_p, Σ_p)) for a batch (App. 4, eq 77 before averaging).

    mu_q, mu_p : (n, k); var_q : (n, k) or (k,); cov_p : (k, k). Returns shape (n,).
    Used by the tests as the per-data-point oracle for :func:`inference_error`.
    """
    mu_q = np.atleast_2d(as_float_array(mu_q, "mu_q", (1, 2), low=-MAX_ENTRY, high=MAX_ENTRY, min_size=1))
    mu_p = np.atleast_2d(as_float_array(mu_p, "mu_p", (1, 2), low=-MAX_ENTRY, high=MAX_ENTRY, min_size=1))
    k = mu_q.shape[1]
    if mu_p.shape[1] != k:
        raise ValueError(f"mu_p must have {k} columns (those of mu_q), got shape {mu_p.shape}")
    var_q = as_float_array(var_q, "var_q", (1, 2), low=0.0, high=MAX_ENTRY, closed="right")
    try:
        var_q = np.broadcast_to(var_q, mu_q.shape)
    except ValueError:
        raise ValueError(f"var_q must broadcast to mu_q's shape {mu_q.shape}, got {var_q.shape}") from None
    cov_p = check_sigma_x(cov_p, "cov_p")
    if cov_p.shape != (k, k):
        raise ValueError(f"cov_p must have shape {(k, k)}, got {cov_p.shape}")
    P = np.linalg.inv(cov_p)
    d = mu_p - mu_q
    return 0.5 * (var_q @ np.diag(P) + np.einsum("ni,ij,nj->n", d, P, d) - k
                  + np.linalg.slogdet(cov_p)[1] - np.log(var_q).sum(axis=1))


# =============================================================================== sympy derivations
#: the largest sizes of the symbolic derivations (exact algebra; its cost grows quickly)
MAX_SYMBOLIC_SIZE = 6
_SYM_KEYS = ("W_mu", "W_sigma", "D", "b_mu", "b_sigma", "b_D", "S", "x", "beta", "N", "k")


def _check_sym(sym):
    """``sym`` as returned by :func:`symbolic_setup` (a dict with its keys), else TypeError."""
    if not isinstance(sym, dict) or any(key not in sym for key in _SYM_KEYS):
        raise TypeError(f"sym must be the dict returned by symbolic_setup (keys {_SYM_KEYS}), got "
                        f"{type(sym).__name__}")
    return sym


def _sym():
    import sympy as sp

    return sp


def symbolic_setup(N: int, k: int):
    """Symbols of the linear β-VAE at size (N, k): matrices W_mu, b_mu, W_sigma, b_sigma, D, b_D,
    a symmetric Σ (entries ``S_ij``), β and the data vector x. Returns a dict of sympy objects."""
    sp = _sym()
    N = check_int(N, "N", low=1, high=MAX_SYMBOLIC_SIZE)
    k = check_int(k, "k", low=1, high=MAX_SYMBOLIC_SIZE)
    if not (1 <= k <= N):
        raise ValueError(f"k must satisfy 1 <= k <= N, got N={N}, k={k}")
    Wm = sp.Matrix(k, N, lambda i, j: sp.Symbol(f"Wm_{i}{j}", real=True))
    Ws = sp.Matrix(k, N, lambda i, j: sp.Symbol(f"Ws_{i}{j}", real=True))
    D = sp.Matrix(N, k, lambda i, j: sp.Symbol(f"D_{i}{j}", real=True))
    bm = sp.Matrix(k, 1, lambda i, j: sp.Symbol(f"bm_{i}", real=True))
    bs = sp.Matrix(k, 1, lambda i, j: sp.Symbol(f"bs_{i}", real=True))
    bD = sp.Matrix(N, 1, lambda i, j: sp.Symbol(f"bD_{i}", real=True))
    S = sp.Matrix(N, N, lambda i, j: sp.Symbol(f"S_{min(i, j)}{max(i, j)}", real=True))
    x = sp.Matrix(N, 1, lambda i, j: sp.Symbol(f"x_{i}", real=True))
    beta = sp.Symbol("beta", positive=True)
    return dict(W_mu=Wm, W_sigma=Ws, D=D, b_mu=bm, b_sigma=bs, b_D=bD, S=S, x=x, beta=beta, N=N, k=k)


def lognormal_mgf():
    r"""Derive :math:`\mathbb E[e^{v}] = e^{\frac12 s^2}` for v ~ N(0, s²) by sympy integration.

    This is the one integral behind every exponential term of eq 34 and eq 45
    (w·x ~ N(0, wᵀΣw) for x ~ N(0, Σ)). Returns the sympy expression in the symbol ``s``.
    """
    sp = _sym()
    u = sp.Symbol("u", real=True)
    s = sp.Symbol("s", positive=True)
    return sp.simplify(sp.integrate(sp.exp(s * u) * sp.exp(-u**2 / 2) / sp.sqrt(2 * sp.pi),
                                    (u, -sp.oo, sp.oo))), s


def gaussian_expectation(expr, x, S):
    r"""E over x ~ N(0, S) of ``expr`` = (polynomial of degree ≤ 2 in x) + Σ c·exp(affine in x).

    Polynomial part: Isserlis, E[x_i] = 0, E[x_i x_j] = S_ij. Exponential part: the moment
    generating function from :func:`lognormal_mgf`, :math:`\mathbb E e^{w^\top x + b} =
    e^{b + \frac12 w^\top S w}`. ``x`` : sympy (N, 1) Matrix, ``S`` : sympy (N, N) Matrix.
    """
    sp = _sym()
    if not isinstance(x, sp.MatrixBase) or x.shape[1] != 1 or x.shape[0] < 1:
        raise TypeError(f"x must be a sympy column Matrix (N, 1), got {getattr(x, 'shape', type(x).__name__)}")
    if not isinstance(S, sp.MatrixBase) or S.shape != (x.shape[0],) * 2:
        raise TypeError(f"S must be a sympy Matrix of shape {(x.shape[0],) * 2}, got "
                        f"{getattr(S, 'shape', type(S).__name__)}")
    if not isinstance(expr, sp.Expr):
        raise TypeError(f"expr must be a sympy expression, got {type(expr).__name__}")
    mgf, s = lognormal_mgf()
    xs = list(x)
    out = sp.Integer(0)
    for term in sp.Add.make_args(sp.expand(expr, power_exp=False)):
        factors = sp.Mul.make_args(term)
        exps = [f for f in factors if isinstance(f, sp.exp)]
        if exps:
            # one exponential per term: exp(a)·exp(b) = exp(a + b)
            arg = sp.expand(sum(f.args[0] for f in exps))
            coef = sp.Mul(*[f for f in factors if not isinstance(f, sp.exp)])
            if any(coef.has(xi) for xi in xs):
                raise ValueError("expr: exponential terms must have x-free coefficients")
            w = sp.Matrix([arg.coeff(xi) for xi in xs])
            b = arg.subs({xi: 0 for xi in xs})
            if sp.expand(arg - b - (w.T * x)[0]) != 0:
                raise ValueError("expr: exponent must be affine in x")
            var = sp.expand((w.T * S * w)[0])
            out += coef * sp.exp(b) * mgf.subs(s, sp.sqrt(var))
            continue
        poly = sp.Poly(term, *xs)
        for monom, c in poly.terms():
            deg = sum(monom)
            if deg == 0:
                out += c
            elif deg == 1:
                pass
            elif deg == 2:
                idx = [i for i, m in enumerate(monom) for _ in range(m)]
                out += c * S[idx[0], idx[1]]
            else:
                raise ValueError("expr: polynomial part must have degree <= 2 in x")
    return sp.expand(out)


def derive_per_point_objective(N: int, k: int):
    r"""Per-data-point β-objective (Sikka 2020, eq 33) derived with sympy from its definition.

    The reconstruction :math:`\mathbb E_{q}\log\mathcal N(x; Dz+b^D, I)` is computed with z a
    vector of independent ``sympy.stats`` normals (the reparameterisation of App. 1, eqs 56–64),
    the KL from the Gaussian density ratio integrated the same way. Returns ``(rec, kl, sym)``
    as expressions in x and the parameters (σ²_i written as exp(W^σ_i x + b^σ_i)).
    """
    sp = _sym()
    from sympy.stats import E as Expect
    from sympy.stats import Normal

    sym = symbolic_setup(N, k)
    x, Wm, Ws, bm, bs, D, bD = (sym[n] for n in ("x", "W_mu", "W_sigma", "b_mu", "b_sigma", "D", "b_D"))
    mu = Wm * x + bm
    logvar = Ws * x + bs
    # independent standard normals ε_i and q = N(μ, diag σ²) through z = μ + σ ε (App. 1, eq 56)
    m = sp.symbols(f"m0:{k}", real=True)
    v = sp.symbols(f"v0:{k}", positive=True)
    eps = [Normal(f"eps{i}", 0, 1) for i in range(k)]
    z = sp.Matrix([m[i] + sp.sqrt(v[i]) * eps[i] for i in range(k)])
    resid = x - D * z - bD
    log_lik = -sp.Rational(N, 2) * sp.log(2 * sp.pi) - (resid.T * resid)[0] / 2
    rec = sp.expand(Expect(sp.expand(log_lik)))
    log_q = sum(-sp.log(2 * sp.pi * v[i]) / 2 - (z[i] - m[i]) ** 2 / (2 * v[i]) for i in range(k))
    log_p = sum(-sp.log(2 * sp.pi) / 2 - z[i] ** 2 / 2 for i in range(k))
    kl = sp.expand(Expect(sp.expand(log_q - log_p)))
    subs = {m[i]: mu[i] for i in range(k)}
    subs.update({v[i]: sp.exp(logvar[i]) for i in range(k)})
    rec = sp.expand(rec.subs(subs))
    kl = sp.expand(sp.expand_log(kl.subs(subs), force=True))
    return rec, kl, sym


def derive_averaged_objective(N: int, k: int):
    r"""Eq 34 (with constants) derived from eq 33 by averaging over x ~ N(0, Σ) (App. 1).

    Returns ``(rec, kl, sym)``: the data-averaged reconstruction and KL as sympy expressions in
    the parameters and the entries of Σ; the tests compare them with the printed eq 34 (plus
    constants) transcribed in :func:`printed_eq34`.
    """
    rec, kl, sym = derive_per_point_objective(N, k)
    return (gaussian_expectation(rec, sym["x"], sym["S"]),
            gaussian_expectation(kl, sym["x"], sym["S"]), sym)


def printed_eq34(sym):
    r"""Sikka 2020, eq 34, transcribed as printed, split into reconstruction and KL, plus the dropped constants.

    Returns ``(rec, kl)`` such that rec − β·kl is eq 34 + (−N/2 log 2π + βk/2), so that it can be
    compared with :func:`derive_averaged_objective`.
    """
    sp = _sym()
    N, k = _check_sym(sym)["N"], sym["k"]
    Wm, Ws, bm, bs, D, bD, S = (sym[n] for n in ("W_mu", "W_sigma", "b_mu", "b_sigma", "D", "b_D", "S"))
    I = sp.eye(N)
    R = D * Wm - I
    expo = [sp.exp((Ws * S * Ws.T)[i, i] / 2 + bs[i]) for i in range(k)]
    DtD = D.T * D
    r = D * bm + bD
    rec = -sp.Rational(N, 2) * sp.log(2 * sp.pi) - ((R * S * R.T).trace()
                                                     + sum(DtD[i, i] * expo[i] for i in range(k))
                                                     + (r.T * r)[0]) / 2
    kl = ((Wm * S * Wm.T).trace() + sum(expo) + (bm.T * bm)[0] - sum(bs) - k) / 2
    return sp.expand(rec), sp.expand(kl)


def printed_gradient_conditions(sym, *, eq40_as_printed: bool = False):
    r"""The left-hand sides of eqs 36–41 as printed (up to their non-zero factors), as sympy Matrices.

    Returns a dict keyed ``"W_mu"``, ``"b_mu"``, ``"D"``, ``"b_D"``, ``"W_sigma"``, ``"b_sigma"``,
    each equal to (factor) × ∂L/∂θ where the factor is −1 (eqs 36–39) or −2 (eqs 40–41).
    ``eq40_as_printed=True`` uses eq 40's printed exponent ½[W^σΣ]_ab W^σ_ab + b^σ_a.
    """
    sp = _sym()
    N, k = _check_sym(sym)["N"], sym["k"]
    Wm, Ws, bm, bs, D, bD, S, beta = (sym[n] for n in
                                      ("W_mu", "W_sigma", "b_mu", "b_sigma", "D", "b_D", "S", "beta"))
    I = sp.eye(N)
    DtD = D.T * D
    WsS = Ws * S
    e = [sp.exp((Ws * S * Ws.T)[a, a] / 2 + bs[a]) for a in range(k)]
    r = D * bm + bD
    out = {
        "W_mu": (D.T * (D * Wm - I) + beta * Wm) * S,                                      # eq 36
        "b_mu": D.T * r + beta * bm,                                                       # eq 37
        "D": (D * Wm - I) * S * Wm.T + r * bm.T + D * sp.diag(*e),                         # eq 38
        "b_D": r,                                                                          # eq 39
        "b_sigma": sp.Matrix([(DtD[a, a] + beta) * e[a] - beta for a in range(k)]),        # eq 41
    }
    if eq40_as_printed:
        out["W_sigma"] = sp.Matrix(k, N, lambda a, b: (DtD[a, a] + beta)
                                   * sp.exp(WsS[a, b] * Ws[a, b] / 2 + bs[a]) * WsS[a, b])
    else:
        out["W_sigma"] = sp.Matrix(k, N, lambda a, b: (DtD[a, a] + beta) * e[a] * WsS[a, b])  # eq 40
    return out


def derive_posterior(N: int, k: int):
    r"""Model posterior by completing the square (Sikka 2020, eq 44; App. 5 corrected).

    Returns ``(residual, sym)`` where ``residual`` is the z-gradient of
    log p_θ(x|z) + log p(z) − log N(z; Fx, E) with F, E from eq 44 (b^D = 0). It vanishes
    identically iff eq 44 is the posterior (log-densities differing by a z-free constant).
    """
    sp = _sym()
    sym = symbolic_setup(N, k)
    D, x = sym["D"], sym["x"]
    z = sp.Matrix(k, 1, lambda i, j: sp.Symbol(f"z_{i}", real=True))
    P = D.T * D + sp.eye(k)  # E^{-1}
    mean = P.LUsolve(D.T * x)
    log_joint = -((x - D * z).T * (x - D * z))[0] / 2 - (z.T * z)[0] / 2
    log_post = -((z - mean).T * P * (z - mean))[0] / 2
    diff = log_joint - log_post
    residual = sp.Matrix([sp.simplify(sp.diff(diff, zi)) for zi in z])
    return residual, sym


def derive_inference_error(N: int, k: int):
    r"""E_x KL(q(z|x) ‖ N(Fx, E)) derived with sympy (App. 4, eq 77 averaged over x), for symbolic
    F (k×N) and symmetric E (k×k) given through its inverse P = E⁻¹ (entries ``P_ij``).

    Returns ``(derived, printed, corrected, sym)``: the derivation, eq 45 as printed
    (:math:`E_{ii}^{-1}` read as :math:`1/E_{ii}`) and eq 45 corrected (:math:`(E^{-1})_{ii}`);
    all three include the term b^μᵀE⁻¹b^μ that eq 45 omits (it vanishes at the optimum, eq 42).
    """
    sp = _sym()
    sym = symbolic_setup(N, k)
    x, Wm, Ws, bm, bs, S = (sym[n] for n in ("x", "W_mu", "W_sigma", "b_mu", "b_sigma", "S"))
    F = sp.Matrix(k, N, lambda i, j: sp.Symbol(f"F_{i}{j}", real=True))
    P = sp.Matrix(k, k, lambda i, j: sp.Symbol(f"P_{min(i, j)}{max(i, j)}", real=True))
    E = P.inv()
    mu = Wm * x + bm
    var = [sp.exp((Ws * x)[i] + bs[i]) for i in range(k)]
    d = F * x - mu
    # KL(N(μ, diag σ²) ‖ N(Fx, E)) = ½[tr(E⁻¹Σ_q) + dᵀE⁻¹d − k + log det E − log det Σ_q]
    kl = (sum(P[i, i] * var[i] for i in range(k)) + (d.T * P * d)[0] - k
          - sp.log(P.det()) - sum((Ws * x)[i] + bs[i] for i in range(k))) / 2
    derived = gaussian_expectation(kl, x, S)
    expo = [sp.exp((Ws * S * Ws.T)[i, i] / 2 + bs[i]) for i in range(k)]
    common = (-sum(bs) - sp.log(P.det()) + ((F - Wm).T * P * (F - Wm) * S).trace()
              + (bm.T * P * bm)[0] - k)
    corrected = sp.expand((sum(P[i, i] * expo[i] for i in range(k)) + common) / 2)
    printed = sp.expand((sum(expo[i] / E[i, i] for i in range(k)) + common) / 2)
    return derived, printed, corrected, sym
