r"""Symbolic derivation of factor analysis under (β-)VI — Stühmer et al. 2020, App. B.1–B.2.

Everything here is derived by sympy from the model, not typed in: the free energy's
reconstruction and KL terms (eq 16) are Gaussian expectations computed with
:mod:`sympy.stats`; the exact (β-)posterior (eq 15, App. B.2) by completing the square in the
log of :math:`p(x|z)^M p(z)` (Hessian and stationary point); the mean-field optimum by solving
the stationarity conditions of the free energy in the q parameters.

:func:`derive` returns the expressions; :func:`lambdified` turns them into numpy functions that
the tests compare with the closed forms of :mod:`linear_models.factor_analysis`.

Sizes are small and fixed per call (default L = 2 observations, K = 2 latents): the derivation
is exact algebra for those sizes, and the numerical agreement at random parameters with the
general closed forms is what ties the two together.
"""

from __future__ import annotations

__all__ = ["symbols", "log_lik_given_z", "log_prior", "derive", "lambdified"]

from functools import lru_cache

import sympy as sp
from sympy.stats import E, Normal

from validation import check_int

#: the largest sizes accepted (the derivation is exact algebra; its cost grows quickly)
MAX_SIZE = 8


def _check_sizes(L, K):
    return check_int(L, "L", low=1, high=MAX_SIZE), check_int(K, "K", low=1, high=MAX_SIZE)


def _check_column(value, name: str, length: int | None = None):
    """A sympy column vector (an (n, 1) Matrix), optionally of a given length."""
    if not isinstance(value, sp.MatrixBase) or value.shape[1] != 1 or value.shape[0] < 1:
        raise TypeError(f"{name} must be a sympy column Matrix of shape (n, 1), got "
                        f"{getattr(value, 'shape', type(value).__name__)}")
    if length is not None and value.shape[0] != length:
        raise ValueError(f"{name} must have {length} rows, got shape {value.shape}")
    return value


def symbols(L: int = 2, K: int = 2):
    """The symbols of one data point: x (L), W (L×K), ψ (L), q means m (K), variances s (K), M."""
    L, K = _check_sizes(L, K)
    x = sp.Matrix(sp.symbols(f"x0:{L}", real=True))
    W = sp.Matrix(L, K, lambda i, j: sp.Symbol(f"W{i}{j}", real=True))
    psi = sp.Matrix(sp.symbols(f"psi0:{L}", positive=True))
    m = sp.Matrix(sp.symbols(f"m0:{K}", real=True))
    s = sp.Matrix(sp.symbols(f"s0:{K}", positive=True))
    M = sp.Symbol("M", positive=True)  # M = 1/β replicated observations (App. B.1)
    return x, W, psi, m, s, M


def log_lik_given_z(x, W, psi, z):
    r""":math:`\log\mathcal N(x; Wz, \Psi)` (eq 14), as a sympy expression in ``z``."""
    x = _check_column(x, "x")
    L = x.shape[0]
    z = _check_column(z, "z")
    psi = _check_column(psi, "psi", L)
    if not isinstance(W, sp.MatrixBase) or W.shape != (L, z.shape[0]):
        raise TypeError(f"W must be a sympy Matrix of shape {(L, z.shape[0])}, got "
                        f"{getattr(W, 'shape', type(W).__name__)}")
    r = x - W * z
    return -sp.Rational(1, 2) * (sum(r[i] ** 2 / psi[i] for i in range(L))
                                 + sum(sp.log(2 * sp.pi * psi[i]) for i in range(L)))


def log_prior(z):
    K = _check_column(z, "z").shape[0]
    return -sp.Rational(1, 2) * (sum(z[k] ** 2 for k in range(K)) + K * sp.log(2 * sp.pi))


@lru_cache(maxsize=None)
def derive(L: int = 2, K: int = 2) -> dict[str, sp.Expr]:
    """Derive, per data point, the pieces of the β-VI free energy for factor analysis.

    Returns a dict of sympy expressions in the symbols of :func:`symbols`:

    ``reconstruction``  E_q[log p(x|z)] for q = Π_k N(m_k, s_k)   (eq 16, first term, times β)
    ``kl``              KL(q ‖ N(0, I))                            (eq 16, second term)
    ``free_energy_eq16`` M·reconstruction − kl                    (eq 16 normalisation)
    ``precision``       the β-posterior precision (K×K)            (App. B.2; eq 15 at M = 1)
    ``mean``            the β-posterior mean (K)                   (App. B.2; eq 15 at M = 1)
    ``mf_mean``, ``mf_var``  the mean-field optimum of free_energy_eq16 in (m, s)
    ``mean_as_printed`` the mean as printed in App. B.2, Σ̃⁻¹ M Wᵀ D⁻¹ x (an erratum)
    """
    x, W, psi, m, s, M = symbols(L, K)
    L, K = x.shape[0], m.shape[0]
    zs = [Normal(f"z{k}", m[k], sp.sqrt(s[k])) for k in range(K)]
    z = sp.Matrix(zs)
    recon = sp.simplify(sp.expand(E(sp.expand(log_lik_given_z(x, W, psi, z)))))
    # KL(q‖p) = E_q[log q] − E_q[log p]; log q of independent normals, expectation by sympy.stats.
    log_q = sum(-sp.Rational(1, 2) * ((z[k] - m[k]) ** 2 / s[k] + sp.log(2 * sp.pi * s[k])) for k in range(K))
    kl = sp.simplify(sp.expand(E(sp.expand(log_q)) - E(sp.expand(log_prior(z)))))
    F16 = M * recon - kl

    # β-posterior ∝ p(x|z)^M p(z): a quadratic in z; precision = −Hessian, mean = stationary point.
    zz = sp.Matrix(sp.symbols(f"zeta0:{K}", real=True))
    log_joint = M * log_lik_given_z(x, W, psi, zz) + log_prior(zz)
    precision = -sp.hessian(log_joint, list(zz))
    grad0 = sp.Matrix([sp.diff(log_joint, v) for v in zz]).subs({v: 0 for v in zz})
    mean = sp.simplify(precision.inv() * grad0)
    D_inv = sp.diag(*[1 / psi[i] for i in range(L)])
    mean_as_printed = precision * M * W.T * D_inv * x  # App. B.2 as printed: Σ̃^{-1} M Wᵀ D^{-1} x

    # Mean-field optimum: ∂F/∂m = 0 (linear in m) and ∂F/∂s_k = 0.
    sol_m = sp.solve([sp.diff(F16, m[k]) for k in range(K)], list(m), dict=True)[0]
    mf_mean = sp.Matrix([sp.simplify(sol_m[m[k]]) for k in range(K)])
    mf_var = sp.Matrix([sp.solve(sp.diff(F16, s[k]), s[k])[0] for k in range(K)])
    return {"reconstruction": recon, "kl": kl, "free_energy_eq16": F16, "precision": precision,
            "mean": mean, "mean_as_printed": mean_as_printed, "mf_mean": mf_mean, "mf_var": mf_var}


@lru_cache(maxsize=None)
def lambdified(L: int = 2, K: int = 2) -> dict:
    """numpy functions of the derived expressions.

    Each takes ``(x, W, psi, m, s, M)`` as flat sequences/arrays in the order of
    :func:`symbols` (x: (L,), W: (L, K), psi: (L,), m: (K,), s: (K,), M: scalar) and returns a
    float or an ndarray.
    """
    x, W, psi, m, s, M = symbols(L, K)
    L, K = x.shape[0], m.shape[0]
    args = [list(x), list(W), list(psi), list(m), list(s), M]
    out = {}
    for name, expr in derive(L, K).items():
        f = sp.lambdify(args, expr, modules="numpy")
        out[name] = _flatten_args(f, L, K)
    return out


def _flatten_args(f, L, K):
    import numpy as np

    sizes = {"x": L, "W": L * K, "psi": L, "m": K, "s": K}

    def g(x, W, psi, m, s, M):
        args = {"x": x, "W": W, "psi": psi, "m": m, "s": s}
        flat = {}
        for name, value in args.items():     # checked here: sympy's lambdified call would only
            try:                              # say "too many values to unpack"
                a = np.asarray(value, dtype=float)
            except (TypeError, ValueError):
                raise TypeError(f"{name} must be an array of real numbers, got "
                                f"{type(value).__name__}") from None
            if a.size != sizes[name] or (name == "W" and a.ndim == 2 and a.shape != (L, K)):
                want = f"({L}, {K})" if name == "W" else f"({sizes[name]},)"
                raise ValueError(f"{name} must have shape {want} (L = {L}, K = {K}), got {a.shape}")
            flat[name] = list(a.ravel())
        if isinstance(M, (bool, np.bool_)) or np.ndim(M) != 0:
            raise TypeError(f"M must be a scalar (the number of data points), got {M!r}")
        r = f(flat["x"], flat["W"], flat["psi"], flat["m"], flat["s"], M)
        return np.asarray(r, dtype=float).squeeze() if not np.isscalar(r) else float(r)

    return g
