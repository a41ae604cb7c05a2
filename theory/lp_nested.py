r"""Lp-nested symmetric distributions and the ISA prior — Stühmer et al. 2020, sec. 3, eqs 5–11,
App. A.1 (Algorithm 1); Sinz & Bethge 2010 (ref. [33] of the paper).

Tree notation (an interface shared with :mod:`deep.priors`)
-----------------------------------------------------------
A *leaf* is ``None`` and stands for one coordinate :math:`|z_j|`; an *inner node* is a tuple
``(p, [child, child, ...])`` and computes the :math:`L_p` norm of its children's values
(eq 6):

.. math::  v_i = \Big(\sum_{k=1}^{l_i} v_{i,k}^{p_i}\Big)^{1/p_i}.

Leaves are numbered left to right (depth first), so the leaves under any node are contiguous
coordinates. The example of eq 6 is ``(p0, [None, (p1, [None, None])])``; the ISA trees of
eq 9–10 (depth two, subspaces :math:`V_i`) are built by :func:`isa_tree`. Inner nodes are
listed in *pre-order* (root first, then each child's subtree left to right) wherever a flat
vector of exponents is used (:func:`exponents`, :func:`with_exponents`).

The density (eq 7 with the radial law of eq 11)
-----------------------------------------------
.. math::

    p(z) = \frac{\psi_0(f(z))}{f(z)^{n-1} S_f(1)},\qquad
    \psi_0(v) = \frac{p_0 v^{n-1}}{\Gamma(n/p_0)\, s^{n/p_0}} e^{-v^{p_0}/s},

so that the :math:`f^{n-1}` factors cancel and, in log space,

.. math::  \log p(z) = \log p_0 - \log\Gamma(n/p_0) - \tfrac{n}{p_0}\log s
           - \log S_f(1) - f(z)^{p_0}/s .

This is finite and continuous at :math:`z = 0` (the 0/0 of eq 7 has the limit above).
:math:`S_f(1)` (eq 8, Sinz & Bethge 2010, Prop. 1) is the *Lp-nested surface measure* of the
unit sphere, i.e. the constant in :math:`\int g(f(z))\,dz = S_f(1)\int_0^\infty g(r) r^{n-1}dr`;
it equals the Euclidean surface area only when every exponent is 2. Hence the volume of the
unit ball :math:`\{f\le 1\}` is :math:`S_f(1)/n` (tested by Monte Carlo).

Exactly as printed, eq 8 runs the product over children to :math:`l_1`; it must be
:math:`l_i` (the number of children of node ``i``), see :func:`log_surface_area`.
"""

from __future__ import annotations

import math
from numbers import Real

import numpy as np
from scipy import special

from validation import as_float_array, check_real

__all__ = [
    "isa_tree", "validate_tree", "n_leaves", "inner_nodes", "exponents", "with_exponents",
    "evaluate", "log_evaluate", "log_surface_area", "log_radial_density", "log_normalizer",
    "log_prob", "sample", "sample_unit_sphere", "kappa_from_p", "p_from_kappa",
    "gennorm_excess_kurtosis", "expected_abs_power_rotated_square", "isa_leaf_marginal_logpdf",
    "isa_subspaces", "coordinate_second_moments", "unit_variance_scale",
]


# --------------------------------------------------------------------------- tree utilities

def _check_exponent(p, name="tree"):
    if isinstance(p, bool) or not isinstance(p, Real) or not math.isfinite(float(p)) or p <= 0:
        raise ValueError(f"{name}: every exponent must be a finite real > 0, got {p!r}")


def validate_tree(tree) -> int:
    """Check that ``tree`` is a well-formed Lp-nested tree; return its number of leaves.

    Raises
    ------
    ValueError
        naming ``tree`` when a node is not ``None`` or ``(p, [children])``, an inner node has
        no child, or an exponent is not a finite real > 0. The root must be an inner node.
    """
    if tree is None:
        raise ValueError("tree: the root must be an inner node (p, [children]), not a leaf")

    def rec(node, depth):
        if node is None:
            return 1
        if depth > 64:
            raise ValueError("tree: nesting deeper than 64 levels")
        if not isinstance(node, tuple) or len(node) != 2:
            raise ValueError(f"tree: an inner node must be a tuple (p, [children]), got {node!r}")
        p, children = node
        _check_exponent(p)
        if not isinstance(children, (list, tuple)) or len(children) == 0:
            raise ValueError(f"tree: the children of a node must be a non-empty list, got {children!r}")
        return sum(rec(c, depth + 1) for c in children)

    return rec(tree, 0)


def n_leaves(tree) -> int:
    """Number of leaves n (the dimension of z) of a validated tree."""
    return validate_tree(tree)


def inner_nodes(tree) -> list[tuple[float, int, list[int]]]:
    """Pre-order list of the inner nodes as ``(p_i, n_i, [n_{i,1}, ..., n_{i,l_i}])``.

    ``n_i`` is the number of leaves under node ``i`` and ``n_{i,k}`` the number of leaves
    under its ``k``-th child (the quantities of eq 8).
    """
    validate_tree(tree)
    out: list[tuple[float, int, list[int]]] = []

    def count(node):
        return 1 if node is None else sum(count(c) for c in node[1])

    def rec(node):
        if node is None:
            return
        p, children = node
        out.append((float(p), count(node), [count(c) for c in children]))
        for c in children:
            rec(c)

    rec(tree)
    return out


def exponents(tree) -> np.ndarray:
    """Exponents of the inner nodes in pre-order, shape (n_inner,)."""
    return np.array([p for p, _, _ in inner_nodes(tree)], dtype=float)


def with_exponents(tree, ps):
    """The same tree shape with the pre-order exponents replaced by ``ps`` (n_inner,)."""
    validate_tree(tree)
    ps = list(as_float_array(ps, "ps", (0, 1), low=0.0, closed="neither").ravel())
    if len(ps) != len(inner_nodes(tree)):
        raise ValueError(f"ps: need {len(inner_nodes(tree))} exponents, got {len(ps)}")
    it = iter(ps)

    def rec(node):
        if node is None:
            return None
        p = next(it)
        return (p, [rec(c) for c in node[1]])

    out = rec(tree)
    validate_tree(out)
    return out


def isa_tree(p0, subspaces):
    r"""The ISA tree of eq 9: root exponent ``p0`` over subspaces ``[(p1, n1), (p2, n2), ...]``.

    Subspace ``i`` holds ``n_i`` consecutive coordinates (eq 10) under an inner node of
    exponent ``p_i``. A one-coordinate subspace is kept as a node ``(p_i, [None])`` (its
    exponent then has no effect), so the tree always has depth two.

    Example: the dSprites layout of the paper (sec. 4, Fig. 5 caption: :math:`l_0 = 5`,
    :math:`l_{1..5} = 4`, :math:`p_0 = 2.1`, :math:`p_{1..5} = 2.2`) is
    ``isa_tree(2.1, [(2.2, 4)] * 5)``.
    """
    _check_exponent(p0, "p0")
    if not isinstance(subspaces, (list, tuple)) or len(subspaces) == 0:
        raise ValueError(f"subspaces: need a non-empty list of (p_i, n_i), got {subspaces!r}")
    children = []
    for i, item in enumerate(subspaces):
        if not isinstance(item, (list, tuple)) or len(item) != 2:
            raise ValueError(f"subspaces[{i}]: need a pair (p_i, n_i), got {item!r}")
        p, n = item
        _check_exponent(p, f"subspaces[{i}]")
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f"subspaces[{i}]: n_i must be a positive int, got {n!r}")
        children.append((float(p), [None] * int(n)))
    return (float(p0), children)


def isa_subspaces(tree) -> list[tuple[float, int]] | None:
    """``[(p_i, n_i), ...]`` if ``tree`` is an ISA tree (every child of the root is a node
    whose children are all leaves), else ``None``."""
    validate_tree(tree)
    out = []
    for c in tree[1]:
        if c is None or any(g is not None for g in c[1]):
            return None
        out.append((float(c[0]), len(c[1])))
    return out


# --------------------------------------------------------------------------- evaluation

_LOG_MAX = math.log(np.finfo(np.float64).max)

def _check_z(z, n):
    z = as_float_array(z, "z", finite=False)
    if z.ndim == 0 or z.shape[-1] != n:
        raise ValueError(f"z: last axis must have length {n} (the number of leaves), got shape {z.shape}")
    if not np.all(np.isfinite(z)):
        raise ValueError("z: contains non-finite values")
    return z


def _logsumexp_last(a: np.ndarray) -> np.ndarray:
    """log Σ exp(a) over the last axis, with an all −inf row giving −inf (no warnings)."""
    m = np.max(a, axis=-1)
    finite = np.isfinite(m)
    m_safe = np.where(finite, m, 0.0)
    with np.errstate(divide="ignore"):
        s = np.log(np.sum(np.exp(a - m_safe[..., None]), axis=-1))
    return np.where(finite, s + m_safe, -np.inf)


def _log_eval(node, logabs, start):
    """Return (log v_node, next leaf index). ``logabs`` has shape (..., n)."""
    if node is None:
        return logabs[..., start], start + 1
    p, children = node
    parts = []
    for c in children:
        lv, start = _log_eval(c, logabs, start)
        parts.append(p * lv)
    # eq 6 in log space: log v = (1/p) log Σ_k exp(p log v_k); stable for large p and tiny v.
    return _logsumexp_last(np.stack(parts, axis=-1)) / p, start


def log_evaluate(tree, z) -> np.ndarray:
    r"""log f(z) of the Lp-nested function (eq 6 / eq 9), computed in log space.

    Parameters
    ----------
    tree : Lp-nested tree (see module docstring)
    z : array_like of shape (..., n)

    Returns
    -------
    ndarray of shape (...): :math:`\log f(z)`, ``-inf`` where z = 0.
    """
    n = validate_tree(tree)
    z = _check_z(z, n)
    with np.errstate(divide="ignore"):
        logabs = np.log(np.abs(z))
    return _log_eval(tree, logabs, 0)[0]


def evaluate(tree, z) -> np.ndarray:
    r"""The Lp-nested function f(z) (Stühmer et al. 2020, eq 6; ISA form eq 9).

    Each inner node ``(p, children)`` returns :math:`(\sum_k v_k^{p})^{1/p}` of its children's
    values, a leaf returns :math:`|z_j|`. f is positively homogeneous of degree one.

    Parameters
    ----------
    tree : Lp-nested tree
    z : array_like of shape (..., n)

    Returns
    -------
    ndarray of shape (...)
    """
    lf = log_evaluate(tree, z)
    if np.any(lf > _LOG_MAX):
        raise ValueError("z: f(z) exceeds the float64 range; use log_evaluate")
    return np.exp(lf)


def log_surface_area(tree) -> float:
    r"""log S_f(1), the surface measure of the unit Lp-nested sphere (eq 8; Sinz & Bethge 2010).

    .. math::

        S_f(1) = 2^n \prod_{i\in I}
          \frac{\prod_{k=1}^{l_i}\Gamma[n_{i,k}/p_i]}{p_i^{\,l_i-1}\,\Gamma[n_i/p_i]}

    over the inner nodes ``I``; :math:`l_i` children, :math:`n_i` leaves under node i,
    :math:`n_{i,k}` under its k-th child. (The printed eq 8 has :math:`l_1` as the upper limit
    of the inner product; only :math:`l_i` normalises the density for trees whose nodes have
    different numbers of children.) Special cases: all p = 2 gives :math:`2\pi^{n/2}/\Gamma(n/2)`,
    a single node of exponent p gives :math:`2^n\Gamma(1/p)^n / (p^{n-1}\Gamma(n/p))`.
    """
    n = validate_tree(tree)
    total = n * math.log(2.0)
    for p, ni, nik in inner_nodes(tree):
        total += sum(math.lgamma(m / p) for m in nik) - (len(nik) - 1) * math.log(p) - math.lgamma(ni / p)
    return total


#: Exponents and scales over which the closed forms and quadratures of this module are tested
#: (against mpmath and scipy). :func:`log_radial_density`, :func:`isa_leaf_marginal_logpdf` and
#: :func:`expected_abs_power_rotated_square` reject values outside by name: beyond them
#: ``n/p0``, ``p0/p_i`` or ``u**(p+2)`` leave the float64 range (p0 = 1e-320 gives n/p0 = inf).
EXPONENT_RANGE = (0.05, 200.0)
SCALE_RANGE = (1e-8, 1e8)


def _check_ranged_exponent(p, name):
    return check_real(p, name, low=EXPONENT_RANGE[0], high=EXPONENT_RANGE[1])


def _check_scale(scale):
    if isinstance(scale, bool) or not isinstance(scale, Real) or not math.isfinite(float(scale)) or scale <= 0:
        raise ValueError(f"scale: must be a finite real > 0, got {scale!r}")
    return check_real(scale, "scale", low=SCALE_RANGE[0], high=SCALE_RANGE[1])


def log_radial_density(v, n: int, p0: float, scale: float = 1.0) -> np.ndarray:
    r"""log ψ0(v) of eq 11, the generalised Chi law: :math:`v^{p_0}/s \sim \mathrm{Gamma}(n/p_0)`.

    .. math::  \psi_0(v) = \frac{p_0 v^{n-1}}{\Gamma(n/p_0) s^{n/p_0}} \exp(-v^{p_0}/s)

    ``p0 = 2, s = 2`` is the Chi distribution with n degrees of freedom.

    Parameters
    ----------
    v : array_like, radii >= 0, any shape
    n : int >= 1; p0 in [0.05, 200] (:data:`EXPONENT_RANGE`); scale s > 0

    Returns
    -------
    ndarray, same shape as v (``-inf`` at v = 0 when n > 1).
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n: must be a positive int, got {n!r}")
    p0 = _check_ranged_exponent(p0, "p0")
    s = _check_scale(scale)
    v = as_float_array(v, "v")
    if np.any(v < 0):
        raise ValueError("v: radii must be finite and >= 0")
    with np.errstate(divide="ignore"):
        logv = np.log(v)
    lv = np.where(v > 0, (n - 1) * np.where(v > 0, logv, 0.0), 0.0 if n == 1 else -np.inf)
    with np.errstate(over="ignore"):       # v^{p0}/s beyond 1.8e308: log density -inf
        return (math.log(p0) - special.gammaln(n / p0) - (n / p0) * math.log(s) + lv
                - np.exp(p0 * logv - math.log(s)))


def log_normalizer(tree, scale: float = 1.0) -> float:
    r"""The constant c of :math:`\log p(z) = c - f(z)^{p_0}/s` (eqs 7, 8, 11 combined):
    :math:`c = \log p_0 - \log\Gamma(n/p_0) - (n/p_0)\log s - \log S_f(1)`."""
    n = validate_tree(tree)
    s = _check_scale(scale)
    p0 = float(tree[0])
    return math.log(p0) - math.lgamma(n / p0) - (n / p0) * math.log(s) - log_surface_area(tree)


def log_prob(z, tree, scale: float = 1.0) -> np.ndarray:
    r"""log density of the Lp-nested symmetric distribution, eq 7 with the radial law eq 11.

    .. math::  \log p(z) = \log\psi_0(f) - (n-1)\log f - \log S_f(1)
               = \log p_0 - \log\Gamma(\tfrac{n}{p_0}) - \tfrac{n}{p_0}\log s
                 - \log S_f(1) - \frac{f(z)^{p_0}}{s}

    Special cases (tested): every exponent 2 and s = 2 is the standard normal; every exponent
    equal to p is the factorial p-generalised normal :math:`\prod_j` ``gennorm(p, scale=s**(1/p))``
    (eq 5 with τ = 1/s). At z = 0 the value is the continuous limit c (never NaN).

    Parameters
    ----------
    z : array_like of shape (..., n)
    tree : Lp-nested tree with n leaves; its root exponent is p0
    scale : float > 0, the s of eq 11

    Returns
    -------
    ndarray of shape (...)
    """
    n = validate_tree(tree)
    c = log_normalizer(tree, scale)
    lf = log_evaluate(tree, _check_z(z, n))
    # f^{p0}/s = exp(p0 log f - log s): one exp of a log-space quantity, so the only overflow
    # is to +inf where the true log-density is below -1.8e308 (returned as -inf)
    with np.errstate(over="ignore"):
        return c - np.exp(float(tree[0]) * lf - math.log(float(scale)))


# --------------------------------------------------------------------------- sampling

def _check_rng(rng):
    if rng is None:
        return np.random.default_rng()
    if isinstance(rng, np.random.Generator):
        return rng
    raise TypeError(f"rng: expected numpy.random.Generator or None, got {type(rng).__name__}")


def _check_n(n, name="n"):
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"{name}: must be a non-negative int, got {n!r}")
    return int(n)


def _descend(node, radius, out, start, rng):
    """Algorithm 1, steps 2–3: split ``radius`` (m,) among the children of ``node``."""
    if node is None:
        out[:, start] = radius
        return start + 1
    p, children = node
    counts = [1 if c is None else _count(c) for c in children]
    m = radius.shape[0]
    if len(children) == 1:
        u = np.ones((m, 1))
    else:
        # step 2: s_i ~ Dir[n_{i,1}/p_i, ..., n_{i,l_i}/p_i], ũ_i = s_i^{1/p_i}
        u = rng.dirichlet(np.array(counts, dtype=float) / p, size=m) ** (1.0 / p)
    for k, c in enumerate(children):
        # step 3: v_{i,k} = v_i · ũ_{i,k}, the radius of the k-th child
        start = _descend(c, radius * u[:, k], out, start, rng)
    return start


def _count(node):
    return 1 if node is None else sum(_count(c) for c in node[1])


def sample_unit_sphere(n, tree, rng=None) -> np.ndarray:
    """Algorithm 1, steps 1–4: points uniform (w.r.t. the Lp-nested surface measure) on the
    positive orthant of the unit sphere {f = 1}, shape (n, d).

    Step 1 draws :math:`v_0 \\sim \\mathrm{Beta}(d, 1)` and step 4 divides by
    :math:`f(x) = v_0`: the Beta radius cancels exactly, which is why it is drawn here only to
    follow the published algorithm (and checked in the tests)."""
    d = validate_tree(tree)
    m = _check_n(n)
    rng = _check_rng(rng)
    v0 = rng.beta(d, 1.0, size=m)                      # step 1
    x = np.empty((m, d))
    _descend(tree, v0, x, 0, rng)                      # steps 2–3
    if m == 0:
        return x
    return x / v0[:, None]                             # step 4: u = x / f(x), f(x) = v0


def sample(n, tree, scale: float = 1.0, rng=None) -> np.ndarray:
    r"""Exact samples of the Lp-nested distribution (eq 7, eq 11) by Algorithm 1 (App. A.1).

    Steps 1–4 give u uniform on the unit sphere's positive orthant; step 5 draws the radius
    from ψ0 (eq 11) as :math:`\tilde v_0 = (s\,G)^{1/p_0}` with :math:`G\sim\mathrm{Gamma}(n/p_0)`;
    step 6 draws independent random signs.

    Parameters
    ----------
    n : int >= 0, number of samples
    tree : Lp-nested tree with d leaves
    scale : float > 0
    rng : numpy.random.Generator or None

    Returns
    -------
    ndarray of shape (n, d)
    """
    d = validate_tree(tree)
    s = _check_scale(scale)
    rng = _check_rng(rng)
    u = sample_unit_sphere(n, tree, rng)
    p0 = float(tree[0])
    r = (s * rng.standard_gamma(d / p0, size=u.shape[0])) ** (1.0 / p0)   # step 5
    signs = rng.choice(np.array([-1.0, 1.0]), size=u.shape)                 # step 6
    return signs * r[:, None] * u


def _sphere_second_moments(node, out, start, acc):
    """Fill ``out[j] = E[u_j^2]`` for the leaves under ``node``; ``acc`` is the product of the
    factors of the ancestors (see :func:`coordinate_second_moments`)."""
    if node is None:
        out[start] = acc
        return start + 1
    p, children = node
    counts = [1 if c is None else _count(c) for c in children]
    total = sum(counts)
    for m, c in zip(counts, children):
        if len(children) == 1:
            factor = 1.0
        else:
            # D ~ Beta(m/p, (total-m)/p): E[D^{2/p}] = B(a + 2/p, b) / B(a, b)
            a, ab = m / p, total / p
            factor = math.exp(math.lgamma(a + 2 / p) + math.lgamma(ab)
                              - math.lgamma(a) - math.lgamma(ab + 2 / p))
        start = _sphere_second_moments(c, out, start, acc * factor)
    return start


def coordinate_second_moments(tree, scale: float = 1.0) -> np.ndarray:
    r"""Per-coordinate variances :math:`E[z_j^2]` of the Lp-nested distribution (eq 7, eq 11).

    The radius and the direction are independent (Algorithm 1, steps 1–5), so
    :math:`E[z_j^2] = E[f^2]\,E[u_j^2]`. By eq 11, :math:`f^{p_0}/s \sim \mathrm{Gamma}(n/p_0)`:

    .. math:: E[f^2] = s^{2/p_0}\,\Gamma\big(\tfrac{n+2}{p_0}\big)/\Gamma\big(\tfrac{n}{p_0}\big).

    On the sphere, :math:`u_j` is the product over the ancestors of leaf j of
    :math:`D_k^{1/p_i}`, where (step 2) the Dirichlet share of the child k on the path is
    marginally :math:`D_k \sim \mathrm{Beta}(n_{i,k}/p_i, (n_i - n_{i,k})/p_i)` and the splits of
    different nodes are independent, so
    :math:`E[u_j^2] = \prod E[D_k^{2/p_i}] = \prod B(n_{i,k}/p_i + 2/p_i,\, (n_i-n_{i,k})/p_i)
    / B(n_{i,k}/p_i,\, (n_i-n_{i,k})/p_i)`. Every z_j has mean 0 (step 6, random signs).

    Special case (tested): every exponent 2 gives :math:`E[z_j^2] = s/2`, so s = 2 is N(0, I).

    Parameters
    ----------
    tree : Lp-nested tree with n leaves
    scale : float > 0, the s of eq 11

    Returns
    -------
    ndarray of shape (n,)
    """
    n = validate_tree(tree)
    s = _check_scale(scale)
    p0 = float(tree[0])
    radial = math.exp((2 / p0) * math.log(s) + math.lgamma((n + 2) / p0) - math.lgamma(n / p0))
    out = np.empty(n)
    _sphere_second_moments(tree, out, 0, 1.0)
    return radial * out


def unit_variance_scale(tree) -> float:
    r"""The scale s of eq 11 that gives the latents unit variance on average,
    :math:`\frac1n\sum_j E[z_j^2] = 1` (:func:`coordinate_second_moments` is proportional to
    :math:`s^{2/p_0}`). For an ISA tree with equal subspaces every coordinate then has variance
    exactly 1, as under the N(0, I) prior of the β-VAE; every exponent 2 gives s = 2."""
    validate_tree(tree)
    p0 = float(tree[0])
    m = float(np.mean(coordinate_second_moments(tree, 1.0)))
    return m ** (-p0 / 2)


# --------------------------------------------------------------------------- eq 5 (ICA prior)

def p_from_kappa(kappa):
    """p = 2 / (1 + κ) (Stühmer et al. 2020, eq 5 text; Box & Tiao's exponential power
    parameterisation); κ must be > −1."""
    kappa = as_float_array(kappa, "kappa", finite=False)
    if np.any(~np.isfinite(kappa)) or np.any(kappa <= -1):
        raise ValueError("kappa: must be finite and > -1")
    return 2.0 / (1.0 + kappa)


def kappa_from_p(p):
    """κ = 2/p − 1, the inverse of :func:`p_from_kappa`."""
    p = as_float_array(p, "p", finite=False)
    if np.any(~np.isfinite(p)) or np.any(p <= 0):
        raise ValueError("p: must be finite and > 0")
    return 2.0 / p - 1.0


def gennorm_excess_kurtosis(p):
    r"""Excess kurtosis of the p-generalised normal :math:`\propto e^{-|z|^p}`:
    :math:`\Gamma(5/p)\Gamma(1/p)/\Gamma(3/p)^2 - 3` (0 at p = 2, 3 at p = 1, → −6/5 as p → ∞)."""
    p = as_float_array(p, "p", finite=False)
    if np.any(~np.isfinite(p)) or np.any(p <= 0):
        raise ValueError("p: must be finite and > 0")
    return np.exp(special.gammaln(5 / p) + special.gammaln(1 / p) - 2 * special.gammaln(3 / p)) - 3.0


# --------------------------------------------------------------------------- Fig 3

def expected_abs_power_rotated_square(theta, p):
    r""":math:`E[|z_1|^p + |z_2|^p]` for :math:`z = R(\theta)(x, y)`, (x, y) uniform on [−1, 1]^2.

    With :math:`a = |\cos\theta|, b = |\sin\theta|` and :math:`H(u) = u^{p+2}/((p+1)(p+2))`,
    integrating twice gives :math:`E|ax + by|^p = [H(a+b) - H(|a-b|)]/(2ab)` (a, b > 0) and
    :math:`E|x|^p = 1/(p+1)`; the second coordinate has a, b swapped. The expected log of the
    p-generalised normal prior of eq 5 is :math:`c - \tau\,E[\cdot]` (Fig. 3 discussion).

    Parameters
    ----------
    theta : array_like, rotation angles in radians, any shape
    p : float in [0.05, 200] (:data:`EXPONENT_RANGE`)

    Returns
    -------
    ndarray, same shape as theta
    """
    p = _check_ranged_exponent(p, "p")
    theta = as_float_array(theta, "theta")
    a = np.abs(np.cos(theta))
    b = np.abs(np.sin(theta))

    def one(a, b):
        small = np.minimum(a, b) < 1e-6
        aa = np.where(small, 1.0, a)
        bb = np.where(small, 1.0, b)
        h = lambda u: u ** (p + 2) / ((p + 1) * (p + 2))  # noqa: E731
        general = (h(aa + bb) - h(np.abs(aa - bb))) / (2 * aa * bb)
        # a single axis-aligned term: E|c x|^p = c^p/(p+1), c = max(a, b); error O(min(a,b)^2)
        axis = np.maximum(a, b) ** p / (p + 1)
        return np.where(small, axis, general)

    return one(a, b) + one(b, a)


# --------------------------------------------------------------------------- ISA marginals

def isa_leaf_marginal_logpdf(x, p0: float, p_i: float, n_i: int, scale: float = 1.0) -> np.ndarray:
    r"""log density of one coordinate of an ISA subspace (eq 9–11), by 1-D quadrature.

    With the radial law of eq 11 the density factorises over subspaces,
    :math:`p(z) \propto \prod_i \exp(-v_i^{p_0}/s)` (Sinz & Bethge 2010), so subspace
    :math:`V_i` (``n_i`` coordinates, exponent ``p_i``) has density
    :math:`c_i \exp(-\|z_{V_i}\|_{p_i}^{p_0}/s)` with
    :math:`c_i = p_0 / (\Gamma(n_i/p_0) s^{n_i/p_0} S_{p_i, n_i})`. The remaining
    :math:`n_i - 1` coordinates enter only through :math:`r = \|w\|_{p_i}`, so

    .. math::  p(x) = c_i\, S_{p_i, n_i-1} \int_0^\infty
                 \exp\big(-(|x|^{p_i} + r^{p_i})^{p_0/p_i}/s\big)\, r^{n_i-2}\,dr ,

    evaluated per point with adaptive quadrature (scipy ``quad``, rtol 1e-11) in log space:
    with :math:`r = e^t`, :math:`g(r) = (|x|^{p_i} + r^{p_i})^{p_0/p_i}/s` and
    :math:`g_0 = |x|^{p_0}/s`,

    .. math::  \log p(x) = \log c_i + \log S_{p_i, n_i-1} - g_0 + \phi^*
               + \log\int e^{\phi(t) - \phi^*}\,dt,\qquad
               \phi(t) = (n_i - 1)\,t - [g(e^t) - g_0],

    where :math:`g - g_0 = g_0\,\mathrm{expm1}\big(\tfrac{p_0}{p_i}
    \log(1 + (r/|x|)^{p_i})\big)` (no cancellation) and :math:`\phi` is concave with its
    maximum :math:`\phi^*` at the root of :math:`\phi'`, found by bisection in t; the integral
    runs over the window where :math:`\phi` is within 60 of :math:`\phi^*` (the rest is
    below :math:`e^{-60}` of the total). Nothing over- or underflows for :math:`|x|` up to 1e300 and
    exponents in [0.05, 200] and scales in [1e-8, 1e8] (tested against mpmath quadrature);
    exponents and scales outside these ranges (:data:`EXPONENT_RANGE`, :data:`SCALE_RANGE`)
    are rejected by name.
    The constant :math:`S_{p_i, n_i-1}` is eq 8 for the single-node tree of :math:`n_i-1`
    leaves. ``n_i = 1`` gives the closed form ``gennorm(p0, scale=s**(1/p0))``.

    Parameters
    ----------
    x : array_like of finite reals, any shape
    p0, p_i : exponents in [0.05, 200]; n_i : int >= 1; scale : float in [1e-8, 1e8]

    Returns
    -------
    ndarray, same shape as x
    """
    from scipy import integrate

    p0 = _check_ranged_exponent(p0, "p0")
    p_i = _check_ranged_exponent(p_i, "p_i")
    s = check_real(scale, "scale", low=SCALE_RANGE[0], high=SCALE_RANGE[1])
    if isinstance(n_i, bool) or not isinstance(n_i, (int, np.integer)) or n_i < 1:
        raise ValueError(f"n_i: must be a positive int, got {n_i!r}")
    x = as_float_array(x, "x")
    sub = isa_tree(p0, [(p_i, int(n_i))])
    c = log_normalizer(sub, s)
    if n_i == 1:
        with np.errstate(over="ignore", divide="ignore"):   # |x|^{p0}/s > 1.8e308: -inf
            return c - np.exp(p0 * np.log(np.abs(x)) - math.log(s))
    rest = log_surface_area((p_i, [None] * (n_i - 1)))
    out = np.empty(x.shape)
    for idx, xv in np.ndenumerate(x):
        out[idx] = c + rest + _log_leaf_integral(abs(float(xv)), p0, p_i, n_i, s)
    return out


def _log_leaf_integral(ax, p0, p_i, n_i, s):
    r"""log of :math:`e^{-g_0}\int_0^\infty e^{-(g(r) - g_0)} r^{n_i-2}\,dr` (see
    :func:`isa_leaf_marginal_logpdf`), everything in log space."""
    from scipy import integrate

    la = math.log(ax) if ax > 0 else -np.inf
    log_g0 = p0 * la - math.log(s) if ax > 0 else -np.inf

    def log_g(t):                 # log g(e^t) = (p0/p_i) logaddexp(p_i log|x|, p_i t) - log s
        return (p0 / p_i) * np.logaddexp(p_i * la, p_i * t) - math.log(s)

    if log_g0 > _LOG_MAX:         # log p(x) < -1.8e308
        return -np.inf
    g0 = math.exp(log_g0) if ax > 0 else 0.0

    def h(t):                     # g(e^t) - g0 >= 0, without cancellation
        with np.errstate(over="ignore", divide="ignore"):
            if ax == 0:
                return np.exp(log_g(t))
            e = (p0 / p_i) * np.logaddexp(0.0, p_i * (t - la))
            if g0 > 0:
                return g0 * np.expm1(e)
            # g0 underflowed (tiny |x|): g0 expm1(e) = exp(log g0 + e + log(1 - e^-e)), no 0 * inf
            return np.exp(log_g0 + e + np.log(-np.expm1(-e)))

    def dphi(t):                  # phi'(t) = (n-1) - p0 g(e^t) sigmoid(p_i (t - log|x|)), decreasing
        log_dh = math.log(p0) + log_g(t) - np.logaddexp(0.0, -p_i * (t - la))
        return math.log(n_i - 1) - log_dh

    def phi(t):
        return (n_i - 1) * t - h(t)

    lo, hi = -4000.0, 4000.0      # r from e^-4000 to e^4000: the root lies well inside
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if dphi(mid) > 0:
            lo = mid
        else:
            hi = mid
        if hi - lo < 1e-12 * max(1.0, abs(mid)):
            break
    t_star = 0.5 * (lo + hi)
    phi_star = phi(t_star)
    bounds = []
    for sign in (-1.0, 1.0):      # expand until phi drops by 60 (concave: the tail is smaller)
        step = 1.0
        while phi(t_star + sign * step) > phi_star - 60.0 and step < 1e4:
            step *= 2.0
        bounds.append(t_star + sign * step)

    def integrand(t):
        with np.errstate(over="ignore"):
            return np.exp(phi(t) - phi_star)

    val, _ = integrate.quad(integrand, bounds[0], bounds[1], points=[t_star], epsabs=0,
                            epsrel=1e-11, limit=200)
    return -g0 + phi_star + math.log(val)
