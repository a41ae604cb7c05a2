r"""The Lp-nested symmetric distribution as a scipy.stats-style frozen distribution.

A thin object over the closed forms of :mod:`theory.lp_nested` (Stühmer, Turner & Nowozin 2020,
sec. 3, eqs 5–11, App. A.1; Sinz & Bethge 2010), for readers who reach for
``scipy.stats.multivariate_normal(...).logpdf(x)``:

.. math::

    p(z) = \frac{\psi_0(f(z))}{f(z)^{n-1}S_f(1)},\qquad
    \log p(z) = \log p_0 - \log\Gamma(n/p_0) - \tfrac n{p_0}\log s - \log S_f(1) - f(z)^{p_0}/s

(eq 7 with the radial law ψ0 of eq 11 and the surface measure :math:`S_f(1)` of eq 8), where
f is the Lp-nested function of the tree (eq 6; the ISA form eq 9). Special cases (tested):
every exponent 2 with s = 2 is the standard normal :math:`\mathcal N(0, I_n)`; every exponent
equal to p is the product of ``scipy.stats.gennorm(p, scale=s**(1/p))`` (eq 5 with τ = 1/s).

Why a module of its own, in :mod:`theory`: the object wraps closed forms of :mod:`theory`
only, and :mod:`theory` never imports :mod:`linear_models`, where the estimators live
(:mod:`linear_models.estimators`). The torch counterpart, differentiable in z and in the
exponents, is :class:`deep.priors.LpNested`.

Example::

    import numpy as np
    from theory.distributions import LpNestedDistribution
    from theory.lp_nested import isa_tree
    d = LpNestedDistribution(isa_tree(2.1, [(2.2, 4)] * 5), scale=1.0)   # the paper's ISA prior
    z = d.rvs(1000, random_state=0)        # Algorithm 1 (App. A.1), shape (1000, 20)
    d.logpdf(z[:3]), d.var()               # eq 7 per row; E[z_j²] per coordinate
"""

from __future__ import annotations

__all__ = ["LpNestedDistribution"]

import numbers

import numpy as np

from theory import lp_nested as lp
from validation import as_float_array


def _random_generator(random_state) -> np.random.Generator:
    """None, an int seed >= 0 or a numpy.random.Generator, as a Generator (TypeError or
    ValueError naming ``random_state`` otherwise; a legacy RandomState is refused: Algorithm 1
    is coded with the Generator API)."""
    if isinstance(random_state, np.random.Generator):
        return random_state
    if random_state is None:
        return np.random.default_rng()
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, (bool, np.bool_)):
        if random_state < 0:
            raise ValueError(f"random_state must be a non-negative int seed, got {random_state!r}")
        return np.random.default_rng(int(random_state))
    raise TypeError(f"random_state must be None, an int seed or a numpy.random.Generator, got "
                    f"{type(random_state).__name__}")


def _size(size) -> tuple[int, ...]:
    """``size`` (an int >= 0 or a tuple of them) as a shape tuple."""
    if isinstance(size, numbers.Integral) and not isinstance(size, (bool, np.bool_)):
        shape = (int(size),)
    elif isinstance(size, tuple) and all(isinstance(s, numbers.Integral)
                                         and not isinstance(s, (bool, np.bool_)) for s in size):
        shape = tuple(int(s) for s in size)
    else:
        raise TypeError(f"size must be an int or a tuple of ints, got {size!r}")
    if any(s < 0 for s in shape):
        raise ValueError(f"size must be non-negative, got {size!r}")
    return shape


class LpNestedDistribution:
    r"""The Lp-nested symmetric distribution of a tree, frozen (Stühmer et al. 2020, eqs 6–11).

    Parameters
    ----------
    tree : Lp-nested tree (a leaf is ``None``, an inner node ``(p, [children])``; see
        :mod:`theory.lp_nested`), with n leaves; ``isa_tree(p0, [(p1, n1), ...])`` builds the
        ISA trees of eq 9. Checked here: a malformed tree or an exponent that is not a finite
        real > 0 is a ValueError naming ``tree``.
    scale : float in [1e-8, 1e8], the s of eq 11 (``f(z)**p0 / s ~ Gamma(n/p0)``)

    Attributes
    ----------
    dim : int, n (the number of leaves)

    Methods follow ``scipy.stats.multivariate_normal``: :meth:`logpdf`, :meth:`pdf`,
    :meth:`rvs`, :meth:`mean`, :meth:`cov`, plus :meth:`var` (the diagonal of :meth:`cov`).
    """

    def __init__(self, tree, scale=1.0):
        self.dim = lp.validate_tree(tree)
        self._log_normalizer = lp.log_normalizer(tree, scale)       # checks scale
        self.tree = tree
        self.scale = float(scale)

    def __repr__(self) -> str:
        return f"LpNestedDistribution(tree={self.tree!r}, scale={self.scale!r})"

    def _check_x(self, x) -> np.ndarray:
        x = as_float_array(x, "x")
        if x.ndim == 0 or x.shape[-1] != self.dim:
            raise ValueError(f"x must have last axis of length {self.dim} (the number of leaves), "
                             f"got shape {x.shape}")
        return x

    def logpdf(self, x):
        r"""Log-density (eq 7 with eq 11) at ``x`` of shape (..., n): an ndarray of shape (...),
        a float for a single point of shape (n,). Finite everywhere (at 0 the continuous limit,
        the log normaliser of :func:`theory.lp_nested.log_normalizer`)."""
        out = lp.log_prob(self._check_x(x), self.tree, self.scale)
        return float(out) if np.ndim(out) == 0 else out

    def pdf(self, x):
        """``exp(logpdf(x))``; shapes as :meth:`logpdf`."""
        out = np.exp(self.logpdf(x))
        return float(out) if np.ndim(out) == 0 else out

    def rvs(self, size=1, random_state=None) -> np.ndarray:
        r"""Exact samples by Algorithm 1 of Stühmer et al. 2020, App. A.1
        (:func:`theory.lp_nested.sample`): uniform on the unit sphere's positive orthant by
        nested Dirichlet splits (steps 1–4), a radius :math:`(s\,G)^{1/p_0}`,
        :math:`G\sim\mathrm{Gamma}(n/p_0)` (step 5), random signs (step 6).

        Parameters
        ----------
        size : int >= 0 or tuple of ints, the sample shape (default 1)
        random_state : None, an int seed or a numpy.random.Generator

        Returns
        -------
        ndarray of shape (*size, n). Unlike scipy, a size of 1 is not squeezed: ``rvs(())``
        gives one point of shape (n,).
        """
        shape = _size(size)
        rng = _random_generator(random_state)
        m = int(np.prod(shape)) if shape else 1
        return lp.sample(m, self.tree, self.scale, rng).reshape(shape + (self.dim,))

    def mean(self) -> np.ndarray:
        """The mean, 0 (step 6 of Algorithm 1: symmetric signs), shape (n,)."""
        return np.zeros(self.dim)

    def var(self) -> np.ndarray:
        r""":math:`E[z_j^2]` per coordinate, shape (n,) (:func:`theory.lp_nested.coordinate_second_moments`:
        radius and direction independent, Beta moments of the Dirichlet splits)."""
        return lp.coordinate_second_moments(self.tree, self.scale)

    def cov(self) -> np.ndarray:
        """The covariance, diagonal (flipping the sign of one coordinate leaves the density
        unchanged, so :math:`E[z_iz_j] = 0` for i ≠ j), shape (n, n)."""
        return np.diag(self.var())
