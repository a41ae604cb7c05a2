r"""Implicit regularization in β-VAEs — Kumar & Poole 2020, secs. 4–5 and 7 (eqs 3–14).

Two layers, as everywhere in :mod:`theory`:

* **sympy derivations** (:func:`derive_hessian_chain_rule`, :func:`derive_optimal_covariance`,
  :func:`derive_taylor_grae_gap`, :func:`derive_bernoulli_hessian`): the algebra of the paper
  redone symbolically for small fixed sizes, so the tests can check the closed forms below
  against it;
* **numpy closed forms** for any size: the second-order (Taylor) objective (eq 8, with
  H = JᵀH_pJ it is eq 7), its maximiser in Σ (eqs 9, 11), the deterministic objectives
  (eqs 10, 12, GRAE eq 13), the Hadamard bound (eq 14), the first-order (Frobenius)
  regularizer (end of sec. 5.3), the observation Hessians H_p (sec. 5.1) and the corrected
  Taylor–GRAE gap (sec. 7).

Notation (paper, sec. 4): latent dimension d, observation dimension D, decoder mean g(z),
its Jacobian J = J_g(h(x)) of shape (D, d), the observation Hessian
H_p = ∇²_g log p(x; g) (diagonal for pixel-wise independent observations, passed as its
diagonal ``hess_diag`` of shape (D,)), the posterior mean μ = h(x) and covariance Σ.

Objectives here are *maximisation* objectives (ELBO-like, "larger is better"), as in the
paper's eqs 4–12; GRAE (eq 13) is the *minimisation* form and is named ``grae_loss``.

Erratum (sec. 7 and App. F). The printed gap between the Taylor objective (eq 7) and GRAE,
``β/2 [tr(I + JᵀJΣ/β) − log|(I + JᵀJΣ/β) − d|]``, is malformed (d inside the log-det,
the parenthesisation makes tr(I + …) = d + …). The correct gap, derived in
:func:`derive_taylor_grae_gap`, is

.. math::
    \mathrm{GRAE\ objective} - \mathrm{Taylor}(\Sigma)
    = \frac{\beta}{2}\left[\operatorname{tr}(M\Sigma) - \log|M\Sigma| - d\right]
    = \beta\,\mathrm{KL}\big(\mathcal N(0,\Sigma)\,\|\,\mathcal N(0, M^{-1})\big) \ge 0,
    \qquad M = I - \tfrac{1}{\beta} J^\top H_p J ,

which vanishes exactly at the optimal Σ = M⁻¹ of eq 11 (and for Gaussian observations
M = I + JᵀJ/β).

Accepted ranges. The closed forms build JᵀH_pJ/β, ‖μ‖² and ‖x − g‖² in float64, so every
input is bounded such that these stay below 1e308: Jacobian entries ``|J| <= 1e50``
(:data:`J_BOUND`), Hessian entries H_p >= −1e100 and other arrays (x, g, μ, Σ, H,
log p(x|μ)) with ``|entries| <= 1e100`` (:data:`VALUE_BOUND`), and β in [1e-50, 1e50]
(:data:`BETA_RANGE`). Values outside are rejected by name (ValueError); batch shapes of the
arguments must broadcast together.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import sympy as sp

from validation import as_float_array, check_int, check_real

#: the largest symbolic sizes accepted (exact algebra; its cost grows quickly with the size)
MAX_SYMBOLIC_SIZE = 6

__all__ = [
    "derive_hessian_chain_rule", "derive_optimal_covariance", "derive_taylor_grae_gap",
    "derive_bernoulli_hessian", "gaussian_hess_diag", "bernoulli_hess_diag",
    "jacobian_hessian", "precision_matrix", "optimal_posterior_covariance",
    "optimal_covariance_from_hessian", "gaussian_kl", "taylor_objective",
    "deterministic_objective", "grae_regularizer", "hadamard_bound", "frobenius_regularizer",
    "grae_loss", "taylor_grae_gap",
]


# --------------------------------------------------------------------------- sympy


@lru_cache(maxsize=None)
def derive_hessian_chain_rule(d: int = 2, D: int = 2) -> sp.Matrix:
    r"""Symbolic check of the Hessian decomposition (eq 5).

    For generic smooth g : R^d → R^D and ℓ(g) = log p(x; g),

    .. math::
        \nabla_z^2 \ell(g(z)) = J_g^\top (\nabla_g^2 \ell) J_g
            + \sum_k (\partial_{g_k}\ell)\, \nabla_z^2 g_k(z) .

    Returns the difference between sympy's Hessian of the composition and the right-hand
    side, a (d, d) matrix that simplifies to zero. Eq 6 is the special case ∇²g = 0.
    """
    d = check_int(d, "d", low=1, high=MAX_SYMBOLIC_SIZE)
    D = check_int(D, "D", low=1, high=MAX_SYMBOLIC_SIZE)
    z = sp.symbols(f"z0:{d}", real=True)
    y = sp.symbols(f"y0:{D}", real=True)  # the argument of ℓ
    g = [sp.Function(f"g{k}")(*z) for k in range(D)]
    ell = sp.Function("ell")(*y)
    sub = dict(zip(y, g))
    comp = ell.subs(sub)
    lhs = sp.hessian(comp, z)
    J = sp.Matrix(D, d, lambda k, j: sp.diff(g[k], z[j]))
    Hl = sp.hessian(ell, y).subs(sub)
    grad = [sp.diff(ell, y[k]).subs(sub) for k in range(D)]
    rhs = J.T * Hl * J + sum((grad[k] * sp.hessian(g[k], z) for k in range(D)), sp.zeros(d, d))
    return (lhs - rhs).applyfunc(lambda e: sp.simplify(sp.expand(e.doit())))


def _split_logs(expr: sp.Expr) -> sp.Expr:
    """Simplify ``expr`` after factoring every log argument and splitting log(a·b), log(a^k).

    Determinants of products are polynomials that factor as products of determinants; sympy
    does not apply log|AB| = log|A| + log|B| by itself.
    """
    expr = expr.replace(lambda e: isinstance(e, sp.log),
                        lambda e: sp.expand_log(sp.log(sp.factor(e.args[0])), force=True))
    return sp.simplify(sp.expand(expr))


def _sym_matrix(name: str, d: int) -> sp.Matrix:
    return sp.Matrix(d, d, lambda i, j: sp.Symbol(f"{name}{min(i, j)}{max(i, j)}", real=True))


@lru_cache(maxsize=None)
def derive_optimal_covariance(d: int = 2) -> dict[str, sp.Expr]:
    r"""Derive eqs 8–10 symbolically for a d×d symmetric Hessian H and covariance Σ.

    The Σ-dependent part of eq 8 is

    .. math:: F(\Sigma) = \tfrac12\operatorname{tr}(H\Sigma)
              - \tfrac\beta2(\operatorname{tr}\Sigma - \log|\Sigma|).

    Returns ``F``, its ``gradient`` with respect to the free entries of Σ evaluated at
    Σ* = (I − H/β)⁻¹ (eq 9; simplifies to zero), and ``F_at_opt_minus_eq10``: F(Σ*) minus
    the Σ-terms of eq 10, −β/2·log|I − H/β| + βd/2 (simplifies to zero; the +βd/2 is the
    ``−d`` inside the KL of eq 8).
    """
    d = check_int(d, "d", low=1, high=MAX_SYMBOLIC_SIZE)
    beta = sp.Symbol("beta", positive=True)
    H = _sym_matrix("h", d)
    S = _sym_matrix("s", d)
    F = sp.Rational(1, 2) * (H * S).trace() - beta / 2 * (S.trace() - sp.log(S.det()))
    free = sorted(S.free_symbols, key=lambda s: s.name)
    M = sp.eye(d) - H / beta
    S_opt = M.inv()
    at = dict(zip([S[i, j] for i in range(d) for j in range(i, d)],
                  [S_opt[i, j] for i in range(d) for j in range(i, d)]))
    grad = sp.Matrix([sp.diff(F, s) for s in free]).subs(at)
    grad = grad.applyfunc(sp.simplify)
    F_opt = F.subs(at)
    resid = _split_logs(F_opt - (-beta / 2 * sp.log(M.det()) - beta * d / 2))
    return {"F": F, "gradient": grad, "F_at_opt_minus_eq10": resid, "beta": beta, "H": H,
            "Sigma": S}


@lru_cache(maxsize=None)
def derive_taylor_grae_gap(d: int = 2) -> dict[str, sp.Expr]:
    r"""Derive the gap between GRAE (eq 12/13) and the Taylor objective (eq 8 with H = JᵀH_pJ).

    With M = I − H/β,

    .. math::
        G - T(\Sigma) = \tfrac\beta2\,[\operatorname{tr}(M\Sigma) - \log|M\Sigma| - d].

    Returns ``residual`` = (G − T) − that expression, which simplifies to zero, and ``gap``.
    (The printed sec. 7 form puts d inside the log-determinant and is not checked here; see
    the module docstring.)
    """
    d = check_int(d, "d", low=1, high=MAX_SYMBOLIC_SIZE)
    beta = sp.Symbol("beta", positive=True)
    H = _sym_matrix("h", d)
    S = _sym_matrix("s", d)
    mu = sp.Matrix(sp.symbols(f"m0:{d}", real=True))
    ll = sp.Symbol("ll", real=True)  # log p(x | h(x))
    T = (ll + sp.Rational(1, 2) * (H * S).trace()
         - beta / 2 * ((mu.T * mu)[0] + S.trace() - sp.log(S.det()) - d))
    M = sp.eye(d) - H / beta
    G = ll - beta / 2 * (mu.T * mu)[0] - beta / 2 * sp.log(M.det())
    gap = beta / 2 * ((M * S).trace() - sp.log((M * S).det()) - d)
    return {"residual": _split_logs(G - T - gap), "gap": gap, "beta": beta}


@lru_cache(maxsize=None)
def derive_bernoulli_hessian() -> dict[str, sp.Expr]:
    r"""H_p for a Bernoulli pixel with probability g (sec. 5.1).

    ℓ(g) = x log g + (1 − x) log(1 − g); returns ``hessian`` = ∂²ℓ/∂g² and, for x ∈ {0, 1},
    ``residual_x0`` / ``residual_x1``: hessian + 1/(1 − x − g)² (both simplify to zero, which
    is the paper's formula −1/(1 − x_i − g_i)²).
    """
    x, g = sp.symbols("x g", real=True)
    ell = x * sp.log(g) + (1 - x) * sp.log(1 - g)
    h = sp.simplify(sp.diff(ell, g, 2))
    paper = -1 / (1 - x - g) ** 2
    return {"hessian": h,
            "residual_x0": sp.simplify((h - paper).subs(x, 0)),
            "residual_x1": sp.simplify((h - paper).subs(x, 1))}


# --------------------------------------------------------------------------- validation


#: ``|entries|`` of J; of H_p, x, g(h(x)), μ, Σ, H and log p(x|μ); the range of β (module docstring)
J_BOUND = 1e50
VALUE_BOUND = 1e100
BETA_RANGE = (1e-50, 1e50)
#: the range of σ in gaussian_hess_diag (−1/σ² stays a normal, non-zero float64)
SIGMA_RANGE = (1e-150, 1e150)


def _check_beta(beta) -> float:
    return check_real(beta, "beta", low=BETA_RANGE[0], high=BETA_RANGE[1])


def _batch_shapes_agree(named):
    """Batch shapes ``{name: shape}`` must broadcast together; the error names all of them."""
    try:
        return np.broadcast_shapes(*named.values())
    except ValueError:
        text = ", ".join(f"{k} {v}" for k, v in named.items())
        raise ValueError(f"{' and '.join(named)} have batch shapes that do not broadcast "
                         f"together: {text}") from None


def _as_float_array(a, name: str, ndim_min: int, bound: float = VALUE_BOUND) -> np.ndarray:
    arr = as_float_array(a, name, low=-bound, high=bound)
    if arr.ndim < ndim_min:
        raise ValueError(f"{name} must have at least {ndim_min} dimensions, got shape {arr.shape}")
    return arr


def _check_mu_matches_J(mu, J):
    """mu (..., d) must have the d of J (..., D, d) (Kumar & Poole 2020, eq 12: μ ∈ R^d)."""
    J = np.asarray(J)
    if mu.shape[-1] != J.shape[-1]:
        raise ValueError(f"mu must have d = {J.shape[-1]} entries (columns of J), got shape {mu.shape}")


def _check_J_hess(J, hess_diag):
    J = _as_float_array(J, "J", 2, bound=J_BOUND)
    if hess_diag is None:
        hess_diag = -np.ones(J.shape[:-1])
    hd = _as_float_array(hess_diag, "hess_diag", 1)
    if hd.shape != J.shape[:-1]:
        raise ValueError(f"hess_diag must have shape {J.shape[:-1]} (J.shape[:-1]), got {hd.shape}")
    if np.any(hd > 0):
        raise ValueError("hess_diag must be <= 0 (log-concave observation model, sec. 5.1)")
    return J, hd


def _check_spd(S, name: str) -> np.ndarray:
    S = _as_float_array(S, name, 2)
    if S.shape[-1] != S.shape[-2]:
        raise ValueError(f"{name} must be square in its last two axes, got {S.shape}")
    if not np.allclose(S, np.swapaxes(S, -1, -2), rtol=1e-10, atol=1e-12):
        raise ValueError(f"{name} must be symmetric")
    try:
        np.linalg.cholesky(S)
    except np.linalg.LinAlgError as err:
        raise ValueError(f"{name} must be positive definite") from err
    return S


# --------------------------------------------------------------------------- closed forms


def gaussian_hess_diag(D: int, sigma: float = 1.0) -> np.ndarray:
    r"""diag H_p for N(x; g, σ²I): −1/σ² for every pixel (sec. 4, end; sec. 5.1).

    Returns an ndarray of shape (D,).
    """
    D = check_int(D, "D", low=1)
    s = check_real(sigma, "sigma", low=SIGMA_RANGE[0], high=SIGMA_RANGE[1])
    return np.full(D, -1.0 / s**2)


def bernoulli_hess_diag(x, probs) -> np.ndarray:
    r"""diag H_p for Bernoulli pixels: −x/g² − (1−x)/(1−g)² (sec. 5.1).

    For binary x this is the paper's −1/(1 − x_i − g_i)² (checked by
    :func:`derive_bernoulli_hessian`). The Hessian is with respect to the *probabilities* g.

    Parameters
    ----------
    x : array of shape (..., D), values in [0, 1]
    probs : array of shape (..., D), values in (0, 1)
    """
    x = _as_float_array(x, "x", 1)
    p = _as_float_array(probs, "probs", 1)
    if x.shape != p.shape:
        raise ValueError(f"x and probs must have the same shape, got {x.shape} and {p.shape}")
    if np.any((p <= 0) | (p >= 1)):
        raise ValueError("probs must lie strictly in (0, 1)")
    if np.any((x < 0) | (x > 1)):
        raise ValueError("x must lie in [0, 1]")
    return -x / p**2 - (1 - x) / (1 - p) ** 2


def jacobian_hessian(J, hess_diag=None) -> np.ndarray:
    r"""H_f = Jᵀ H_p J (eq 6): the Hessian of log p(x|g(z)) for a decoder with ∇²g = 0.

    J : (..., D, d); hess_diag : (..., D) or None (standard Gaussian, H_p = −I).
    Returns (..., d, d).
    """
    J, hd = _check_J_hess(J, hess_diag)
    return np.einsum("...ki,...k,...kj->...ij", J, hd, J)


def precision_matrix(J, hess_diag, beta) -> np.ndarray:
    r"""M = I − JᵀH_pJ/β, the optimal posterior precision of eq 11 (shape (..., d, d))."""
    beta = _check_beta(beta)
    H = jacobian_hessian(J, hess_diag)
    d = H.shape[-1]
    return np.eye(d) - H / beta


def optimal_covariance_from_hessian(H, beta) -> np.ndarray:
    r"""Σ* = (I − H/β)⁻¹, the maximiser of eq 8 in Σ (eq 9).

    H : (..., d, d), symmetric with I − H/β positive definite (e.g. H negative semidefinite).
    """
    beta = _check_beta(beta)
    H = _as_float_array(H, "H", 2)
    if H.shape[-1] != H.shape[-2]:
        raise ValueError(f"H must be square in its last two axes, got {H.shape}")
    M = np.eye(H.shape[-1]) - H / beta
    M = _check_spd(M, "I - H/beta")
    return np.linalg.inv(M)


def optimal_posterior_covariance(J, hess_diag, beta) -> np.ndarray:
    r"""The optimal posterior covariance of Kumar & Poole 2020, eq 11.

    .. math::
        \Sigma_{z|x} = \Big(I - \tfrac{1}{\beta} J_g^\top H_{p_x} J_g\Big)^{-1},

    the maximiser of the concave second-order objective (eq 8 with H = JᵀH_pJ, eq 7).
    For standard Gaussian observations (hess_diag = −1) it is (I + JᵀJ/β)⁻¹ (sec. 5.2).

    Parameters
    ----------
    J : array of shape (..., D, d)
        Decoder Jacobian at the posterior mean.
    hess_diag : array of shape (..., D), entries <= 0, or None
        Diagonal of H_p = ∇²_g log p(x; g); None means −1 (standard Gaussian).
    beta : float > 0

    Returns
    -------
    Sigma : ndarray of shape (..., d, d)
    """
    return np.linalg.inv(precision_matrix(J, hess_diag, beta))


def gaussian_kl(mu, Sigma) -> np.ndarray:
    r"""KL(N(μ, Σ) ‖ N(0, I)) = ½(‖μ‖² + tr Σ − log|Σ| − d)  (eq 8, last term / β)."""
    mu = _as_float_array(mu, "mu", 1)
    S = _check_spd(Sigma, "Sigma")
    if S.shape[-1] != mu.shape[-1] or S.shape[:-2] != mu.shape[:-1]:
        raise ValueError(f"Sigma shape {S.shape} does not match mu shape {mu.shape}")
    d = mu.shape[-1]
    logdet = np.linalg.slogdet(S)[1]
    return 0.5 * (np.sum(mu**2, -1) + np.trace(S, axis1=-2, axis2=-1) - logdet - d)


def taylor_objective(log_lik_at_mean, H, mu, Sigma, beta) -> np.ndarray:
    r"""The second-order β-VAE objective for a Gaussian prior and posterior (eq 8; eq 4/7).

    .. math::
        T = \log p(x|\mu) + \tfrac12\operatorname{tr}(H\Sigma)
            - \beta\,\mathrm{KL}(\mathcal N(\mu,\Sigma)\|\mathcal N(0,I)).

    With H = JᵀH_pJ (:func:`jacobian_hessian`) this is eq 7. Maximisation objective.
    Shapes: log_lik_at_mean (...,), H (..., d, d), mu (..., d), Sigma (..., d, d).
    """
    beta = _check_beta(beta)
    ll = _as_float_array(log_lik_at_mean, "log_lik_at_mean", 0)
    H = _as_float_array(H, "H", 2)
    kl = gaussian_kl(mu, Sigma)
    S = np.asarray(Sigma, dtype=np.float64)
    if H.shape != S.shape:
        raise ValueError(f"H shape {H.shape} must equal Sigma shape {S.shape}")
    return ll + 0.5 * np.einsum("...ij,...ji->...", H, S) - beta * kl


def grae_regularizer(J, hess_diag, beta) -> np.ndarray:
    r"""log|I − JᵀH_pJ/β| (eq 12); for Gaussian observations log|I + JᵀJ/β| (eq 13).

    Shapes: J (..., D, d), hess_diag (..., D) or None. Returns (...,).
    """
    return np.linalg.slogdet(precision_matrix(J, hess_diag, beta))[1]


def deterministic_objective(log_lik_at_mean, J, hess_diag, mu, beta) -> np.ndarray:
    r"""The deterministic objective at the optimal Σ (eq 12; eq 10 with H = JᵀH_pJ).

    .. math::
        \log p(x|\mu) - \tfrac\beta2\|\mu\|^2 - \tfrac\beta2\log|I - J^\top H_p J/\beta| .

    Maximisation objective; shapes as in :func:`taylor_objective`, J (..., D, d).
    """
    beta = _check_beta(beta)
    ll = _as_float_array(log_lik_at_mean, "log_lik_at_mean", 0)
    mu = _as_float_array(mu, "mu", 1)
    reg = grae_regularizer(J, hess_diag, beta)
    _check_mu_matches_J(mu, J)
    _batch_shapes_agree({"log_lik_at_mean": ll.shape, "mu": mu.shape[:-1],
                         "J": np.shape(J)[:-2]})
    return ll - beta / 2 * np.sum(mu**2, -1) - beta / 2 * reg


def grae_loss(x, recon, mu, J, beta) -> np.ndarray:
    r"""The GRAE loss (eq 13, minimised), for standard Gaussian observations.

    .. math::
        \tfrac12\|x - g(h(x))\|^2 + \tfrac\beta2\|h(x)\|^2
        + \tfrac\beta2\log|I + J^\top J/\beta| .

    It equals −eq 12 up to the constant D/2·log 2π of log N(x; g, I).
    Shapes: x, recon (..., D); mu (..., d); J (..., D, d).
    """
    beta = _check_beta(beta)
    x = _as_float_array(x, "x", 1)
    recon = _as_float_array(recon, "recon", 1)
    mu = _as_float_array(mu, "mu", 1)
    if x.shape != recon.shape:
        raise ValueError(f"recon shape {recon.shape} must equal x shape {x.shape}")
    reg = grae_regularizer(J, None, beta)
    J = np.asarray(J, dtype=np.float64)
    _check_mu_matches_J(mu, J)
    if J.shape[-2] != x.shape[-1]:
        raise ValueError(f"J must have D = {x.shape[-1]} rows (the length of x), got shape {J.shape}")
    _batch_shapes_agree({"x": x.shape[:-1], "mu": mu.shape[:-1], "J": J.shape[:-2]})
    return (0.5 * np.sum((x - recon) ** 2, -1) + beta / 2 * np.sum(mu**2, -1)
            + beta / 2 * reg)


def hadamard_bound(J, hess_diag, beta) -> np.ndarray:
    r"""Σ_i log(1 + ‖J̃_{:,i}‖²/β) ≥ log|I + J̃ᵀJ̃/β| (Hadamard's inequality, eq 14).

    J̃ = (−H_p)^{1/2} J; for Gaussian observations J̃ = J. Equality iff J̃ has orthogonal
    columns. Shapes: J (..., D, d) → (...,).
    """
    beta = _check_beta(beta)
    J, hd = _check_J_hess(J, hess_diag)
    col_sq = np.einsum("...ki,...k->...i", J**2, -hd)
    return np.sum(np.log1p(col_sq / beta), -1)


def frobenius_regularizer(J, hess_diag, beta) -> np.ndarray:
    r"""First-order Taylor term of eq 12/13's regularizer: ‖(−H_p)^{1/2} J‖_F² / β.

    log|I + A| = tr A − tr A²/2 + … (converges when the singular values of J̃ are below
    √β, sec. 5.3), so β/2·log|I + J̃ᵀJ̃/β| ≈ ½‖J̃‖_F² — β cancels (sec. 5.3). Because
    log(1+s) ≤ s this is an upper bound of :func:`grae_regularizer`. Shapes: J (..., D, d).

    Note: the paper prints the Bernoulli/general form as ‖J[−H_p^{1/2}]‖_F², whose factors
    do not conform (J is D×d, H_p is D×D); the weighting acts on J's rows: (−H_p)^{1/2}J.
    """
    beta = _check_beta(beta)
    J, hd = _check_J_hess(J, hess_diag)
    return np.einsum("...ki,...k->...", J**2, -hd) / beta


def taylor_grae_gap(J, hess_diag, Sigma, beta) -> np.ndarray:
    r"""Deterministic objective (eq 12) minus Taylor objective (eq 7) at covariance Σ.

    Corrected form of the sec. 7 / App. F expression (see the module docstring):

    .. math::
        \tfrac\beta2[\operatorname{tr}(M\Sigma) - \log|M\Sigma| - d]
        = \beta\,\mathrm{KL}(\mathcal N(0,\Sigma)\|\mathcal N(0,M^{-1})),\quad
        M = I - J^\top H_p J/\beta .

    Shapes: J (..., D, d), hess_diag (..., D) or None, Sigma (..., d, d). Returns (...,) ≥ 0.
    """
    beta = _check_beta(beta)
    M = precision_matrix(J, hess_diag, beta)
    S = _check_spd(Sigma, "Sigma")
    if S.shape != M.shape:
        raise ValueError(f"Sigma must have shape {M.shape}, got {S.shape}")
    MS = M @ S
    d = M.shape[-1]
    logdet = np.linalg.slogdet(M)[1] + np.linalg.slogdet(S)[1]
    return beta / 2 * (np.trace(MS, axis1=-2, axis2=-1) - logdet - d)
