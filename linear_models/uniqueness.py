r"""Uniqueness and non-uniqueness of latent-variable models — Kumar & Poole 2020, App. A and C.

* :func:`rotation_angle` — the rotation between true and inferred latents, after removing
  permutation and reflection of axes (App. C: orthogonal Procrustes, angle in (−45°, 45°]).
* :func:`sample_uniqueness_data` — the 2-D data of sec. 3.2 / App. C, x = ν(Wz) + ε.
* :func:`mixing_transform` — the Locatello et al. (2019) construction summarised in App. A,
  r = F⁻¹ ∘ Φ ∘ U ∘ Φ⁻¹ ∘ F for a factorised prior, which leaves the prior invariant while
  mixing the latents; :func:`darmois_mixing_transform` its extension to correlated priors
  via the conditional c.d.f.s F_{i|1..i−1} (App. A, last paragraph), here for the bivariate
  Student-t prior (:class:`BivariateStudentT`).
* :func:`mixing_jacobian_logdet` — ``log|det J_r(z)|`` in closed form.

Erratum (App. A). The paper states :math:`|\det J_r(z)| = 1`. The chain rule gives instead

.. math::
    |\det J_r(z)| = \frac{p(z)}{p(r(z))},

because the Gaussian factors φ(n)/φ(Un) cancel (‖Un‖ = ‖n‖) but the prior-density factors
do not. It equals 1 only where p(r(z)) = p(z) (everywhere iff the prior is the isotropic
Gaussian, where r = U). What the construction needs — and has — is r#p = p (the prior is
*invariant as a distribution*), i.e. p(r⁻¹(z'))|det J_{r⁻¹}(z')| = p(z'). Also the text writes
n_i = ψ⁻¹(z_i) where ψ⁻¹(u_i) is meant.
"""

from __future__ import annotations

import numpy as np
from scipy import linalg, stats

from validation import Real, as_float_array, check_int, check_real, check_rng

#: largest ``|noise_std|`` and column norm of sample_uniqueness_data (the data stay in float64)
VALUE_BOUND = 1e100
#: degrees of freedom of BivariateStudentT: below 0.1 or above 1e12 its log-density leaves float64
_DF = Real(0.1, 1e12)

__all__ = ["rotation_angle", "rotation_matrix", "sample_uniqueness_data", "NONLINEARITIES",
           "to_gaussian", "from_gaussian", "mixing_transform", "mixing_jacobian_logdet",
           "BivariateStudentT", "darmois_mixing_transform", "numerical_jacobian"]


def _elu(a):
    return np.where(a > 0, a, np.expm1(np.minimum(a, 0)))


NONLINEARITIES = {
    "identity": lambda a: a,
    "tanh": np.tanh,
    "sigmoid": lambda a: 1.0 / (1.0 + np.exp(-a)),
    "elu": _elu,
}


def rotation_matrix(theta) -> np.ndarray:
    """2×2 rotation by ``theta`` radians (counter-clockwise); shape (2, 2)."""
    theta = check_real(theta, "theta")
    c, s = np.cos(theta), np.sin(theta)
    return np.array([[c, -s], [s, c]])


def _check_2d(a, name: str) -> np.ndarray:
    a = as_float_array(a, name, finite=False)
    if a.ndim != 2 or a.shape[1] != 2 or a.shape[0] < 2:
        raise ValueError(f"{name} must have shape (n_samples, 2) with n_samples >= 2, got {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} must be finite")
    return a


def _largest(A: np.ndarray) -> float:
    top = float(np.max(np.abs(A)))
    return top if top > 0.0 else 1.0


def rotation_angle(Z, M) -> float:
    r"""Rotation angle (degrees, in (−45, 45]) between true latents Z and inferred latents M.

    Solves the orthogonal Procrustes problem of Kumar & Poole 2020, App. C,

    .. math:: \min_{O^\top O = I} \|Z - O M\|_F^2 ,\qquad O = U V^\top,\ U S V^\top = Z M^\top

    (``scipy.linalg.orthogonal_procrustes``), writes O = R(θ)·P with P a signed permutation
    of the inferred axes (P acts first on M), and returns θ reduced modulo 90°: a rotation by
    a multiple of 90° and a reflection of one axis are both signed permutations, so θ is
    defined up to multiples of 90° and −45° is the same as 45°.

    Parameters
    ----------
    Z : array of shape (n_samples, 2)
        True latents (the paper's Z ∈ R^{2×n}, transposed).
    M : array of shape (n_samples, 2)
        Inferred latents (posterior means), same sample order.

    Returns
    -------
    float, the angle in degrees in (−45, 45].
    """
    Z = _check_2d(Z, "Z")
    M = _check_2d(M, "M")
    if Z.shape != M.shape:
        raise ValueError(f"Z and M must have the same shape, got {Z.shape} and {M.shape}")
    # The rotation does not depend on the scale of either set: divide each by its largest
    # magnitude first, so entries near the edge of float64 (1e308, or subnormal) neither
    # overflow Mᵀ Z nor vanish in it.
    Z, M = Z / _largest(Z), M / _largest(M)
    # orthogonal_procrustes(A, B) minimises ‖A R − B‖: with A = M, B = Z we get Mᵀ-side R = Oᵀ
    R, _ = linalg.orthogonal_procrustes(M, Z)
    O = R.T
    if np.linalg.det(O) < 0:  # remove a reflection of the inferred axes: O·diag(1, −1)
        O = O @ np.diag([1.0, -1.0])
    theta = np.degrees(np.arctan2(O[1, 0], O[0, 0]))
    # reduce modulo 90° into (−45, 45]
    angle = -((-theta + 45.0) % 90.0 - 45.0)
    return float(angle)


def sample_uniqueness_data(n_samples: int, nonlinearity: str, rng: np.random.Generator,
                           noise_std: float = 0.05, column_norms=(2.0, 1.0),
                           orthogonal: bool = True):
    r"""Data of Kumar & Poole 2020, sec. 3.2 / App. C: x = ν(Wz) + ε.

    z ~ N(0, I₂), ε ~ N(0, noise_std² I₂), W has N(0, 1) entries with columns rescaled to
    ℓ₂ norms ``column_norms`` (2 and 1 in the paper).

    ``orthogonal=True`` (default) first orthogonalises W's columns (QR of the Gaussian matrix,
    signs fixed by R's diagonal, so Q is Haar-distributed). The paper does not say so, but it
    is needed for the true latents to be the identifiable ones: for ν = identity the model is
    probabilistic PCA, whose mean-field solution recovers the principal axes Vᵀz of
    W = U S Vᵀ, at a rotation angle from z that is random when W's columns are not orthogonal.

    Returns
    -------
    x : (n_samples, 2), z : (n_samples, 2), W : (2, 2)
    """
    if nonlinearity not in NONLINEARITIES:
        raise ValueError(f"nonlinearity must be one of {tuple(NONLINEARITIES)}, got {nonlinearity!r}")
    n_samples = check_int(n_samples, "n_samples", low=2)
    rng = check_rng(rng, "rng")
    noise_std = check_real(noise_std, "noise_std", low=0.0, high=VALUE_BOUND, closed="right")
    column_norms = as_float_array(column_norms, "column_norms", shape=(2,), low=0.0, high=VALUE_BOUND,
                                  closed="right")
    W = rng.normal(size=(2, 2))
    if orthogonal:
        Q, Rq = np.linalg.qr(W)
        W = Q * np.sign(np.diag(Rq))
    W = W / np.linalg.norm(W, axis=0) * column_norms
    z = rng.normal(size=(n_samples, 2))
    x = NONLINEARITIES[nonlinearity](z @ W.T) + noise_std * rng.normal(size=(n_samples, 2))
    return x, z, W


# --------------------------------------------------------------------------- App. A


def _check_dist(dist, name: str = "marginal"):
    for attr in ("cdf", "sf", "ppf", "isf", "logpdf", "median"):
        if not hasattr(dist, attr):
            raise TypeError(f"{name} must be a frozen continuous scipy.stats distribution, got "
                            f"{type(dist).__name__}")
    return dist


def _finite_result(out: np.ndarray, name: str) -> np.ndarray:
    """The Gaussian quantile of a tail probability that underflows is ±inf: name the input."""
    if not np.all(np.isfinite(out)):
        raise ValueError(f"{name} lies too far in a tail: its Gaussian quantile leaves float64")
    return out


def to_gaussian(z, dist) -> np.ndarray:
    r"""n = Φ⁻¹(F(z)) elementwise (App. A, steps 1–2), accurate in both tails.

    Uses Φ⁻¹(F(z)) below the median and −Φ⁻¹(1 − F(z)) = −Φ⁻¹(S(z)) above it, so neither
    tail loses precision to 1 − F rounding (cf. scipy's gennorm._cdf).
    """
    dist = _check_dist(dist, "dist")
    z = as_float_array(z, "z")
    lower = z <= dist.median()
    return _finite_result(np.where(lower, stats.norm.ppf(dist.cdf(z)), -stats.norm.ppf(dist.sf(z))), "z")


def from_gaussian(n, dist) -> np.ndarray:
    """z = F⁻¹(Φ(n)) elementwise, the inverse of :func:`to_gaussian`."""
    dist = _check_dist(dist, "dist")
    n = as_float_array(n, "n")
    return _finite_result(np.where(n <= 0, dist.ppf(stats.norm.cdf(n)), dist.isf(stats.norm.sf(n))), "n")


def _check_orthogonal(U, d: int) -> np.ndarray:
    U = as_float_array(U, "U", low=-1.5, high=1.5)    # an orthogonal matrix has |entries| <= 1
    if U.shape != (d, d):
        raise ValueError(f"U must have shape ({d}, {d}), got {U.shape}")
    if not np.allclose(U.T @ U, np.eye(d), atol=1e-10):
        raise ValueError("U must be orthogonal")
    return U


def mixing_transform(z, U, marginal) -> np.ndarray:
    r"""r(z) = (F⁻¹ ∘ Φ ∘ U ∘ Φ⁻¹ ∘ F)(z) for the factorised prior Π_i p(z_i) (App. A).

    Parameters
    ----------
    z : array of shape (n_samples, d)
    U : orthogonal array of shape (d, d)
    marginal : frozen scipy.stats continuous distribution, the common marginal p_i

    Returns
    -------
    array of shape (n_samples, d), distributed as the prior when z is.
    """
    z = as_float_array(z, "z", 2, min_size=1)
    U = _check_orthogonal(U, z.shape[1])
    marginal = _check_dist(marginal)
    n = to_gaussian(z, marginal) @ U.T
    return _finite_result(from_gaussian(_finite_result(n, "z"), marginal), "z")


def mixing_jacobian_logdet(z, U, marginal) -> np.ndarray:
    r"""log|det J_r(z)| = Σ_i log p(z_i) − Σ_i log p(r_i(z)) (App. A, corrected).

    From J_r = diag(φ(n')/p(r)) · U · diag(p(z)/φ(n)) with n' = Un and ‖n'‖ = ‖n‖.
    Shape (n_samples,).
    """
    z = as_float_array(z, "z", 2, min_size=1)
    r = mixing_transform(z, U, marginal)
    return marginal.logpdf(z).sum(-1) - marginal.logpdf(r).sum(-1)


def numerical_jacobian(f, z, h: float = 1e-6) -> np.ndarray:
    """Central-difference Jacobian of f : (n, d) → (n, d); returns (n, d, d), J[b, i, j] = ∂f_i/∂z_j."""
    if not callable(f):
        raise TypeError(f"f must be callable, got {type(f).__name__}")
    z = as_float_array(z, "z", 2, min_size=1)
    h = check_real(h, "h", low=0.0, closed="right")
    d = z.shape[1]
    cols = []
    for j in range(d):
        e = np.zeros(d)
        e[j] = h
        cols.append((f(z + e) - f(z - e)) / (2 * h))
    return np.stack(cols, -1)


class BivariateStudentT:
    r"""A correlated prior: the bivariate Student-t with ν degrees of freedom and correlation ρ
    (unit scale), with the conditional c.d.f.s the Darmois construction needs.

    z₁ ~ t_ν; z₂ | z₁ ~ t_{ν+1}(loc ρz₁, scale² (ν + z₁²)(1 − ρ²)/(ν + 1))
    (the standard conditional of the multivariate t). Marginals are t_ν; for ν > 2 the
    correlation is ρ.
    """

    def __init__(self, df: float, rho: float):
        self.df = _DF.check(df, "df")
        self.rho = check_real(rho, "rho", low=-1.0, high=1.0, closed="neither")

    def _cond(self, z1):
        scale = np.sqrt((self.df + z1**2) * (1 - self.rho**2) / (self.df + 1))
        return stats.t(self.df + 1, loc=self.rho * z1, scale=scale)

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        cov = np.array([[1.0, self.rho], [self.rho, 1.0]])
        return stats.multivariate_t(np.zeros(2), cov, df=self.df).rvs(n, random_state=rng)

    def logpdf(self, z) -> np.ndarray:
        z = as_float_array(z, "z", (1, 2), low=-VALUE_BOUND, high=VALUE_BOUND)
        if z.shape[-1] != 2:
            raise ValueError(f"z must have shape (n, 2) or (2,), got {z.shape}")
        cov = np.array([[1.0, self.rho], [self.rho, 1.0]])
        return stats.multivariate_t(np.zeros(2), cov, df=self.df).logpdf(z)

    def to_gaussian(self, z) -> np.ndarray:
        """n_i = Φ⁻¹(F_{i|1..i−1}(z_i | z_<i)); (n, 2) → (n, 2)."""
        z = np.asarray(z, dtype=np.float64)
        n1 = to_gaussian(z[:, 0], stats.t(self.df))
        c = self._cond(z[:, 0])
        u2c, s2c = c.cdf(z[:, 1]), c.sf(z[:, 1])
        n2 = np.where(z[:, 1] <= c.median(), stats.norm.ppf(u2c), -stats.norm.ppf(s2c))
        return np.stack([n1, n2], -1)

    def from_gaussian(self, n) -> np.ndarray:
        n = np.asarray(n, dtype=np.float64)
        z1 = from_gaussian(n[:, 0], stats.t(self.df))
        c = self._cond(z1)
        z2 = np.where(n[:, 1] <= 0, c.ppf(stats.norm.cdf(n[:, 1])), c.isf(stats.norm.sf(n[:, 1])))
        return np.stack([z1, z2], -1)


def darmois_mixing_transform(z, U, prior: BivariateStudentT) -> np.ndarray:
    r"""r = D⁻¹ ∘ U ∘ D for a correlated prior, D the Darmois map z ↦ Φ⁻¹(F_{i|<i}(z_i|z_<i))
    (Kumar & Poole 2020, App. A, "Non-uniqueness for correlated priors").

    z : (n_samples, 2); U orthogonal (2, 2). Returns (n_samples, 2), distributed as the prior.
    """
    z = as_float_array(z, "z", 2)
    if z.shape[1] != 2:
        raise ValueError(f"z must have shape (n_samples, 2), got {z.shape}")
    U = _check_orthogonal(U, 2)
    if not isinstance(prior, BivariateStudentT):
        raise TypeError(f"prior must be a BivariateStudentT, got {type(prior).__name__}")
    n = _finite_result(prior.to_gaussian(z), "z")
    return _finite_result(prior.from_gaussian(n @ U.T), "z")
