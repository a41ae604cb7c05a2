"""theory.distributions.LpNestedDistribution: the closed forms it wraps (exact equality), scipy.stats
for its special cases (Stühmer et al. 2020, eq 5 and eq 7 with eq 11), Monte Carlo for its sampler
(Algorithm 1, App. A.1), and the scipy.stats-style interface."""

import numpy as np
import pytest
from scipy import stats

from theory import LpNestedDistribution
from theory import lp_nested as lp

ISA = lp.isa_tree(2.1, [(2.2, 2), (1.3, 3)])
TREES = [(ISA, 1.0), ((1.5, [None, (0.7, [None, None])]), 2.0), ((2.0, [None] * 3), 2.0)]


@pytest.mark.parametrize("tree, scale", TREES, ids=str)
def test_wraps_the_closed_forms_exactly(tree, scale, rng):
    d = LpNestedDistribution(tree, scale)
    n = lp.n_leaves(tree)
    z = rng.normal(size=(7, n))
    assert d.dim == n
    assert np.array_equal(d.logpdf(z), lp.log_prob(z, tree, scale))
    assert np.array_equal(d.pdf(z), np.exp(lp.log_prob(z, tree, scale)))
    assert d.logpdf(z[0]) == float(lp.log_prob(z[0], tree, scale))          # one point: a float
    assert isinstance(d.logpdf(z[0]), float) and isinstance(d.pdf(z[0]), float)
    assert np.array_equal(d.rvs(5, random_state=3), lp.sample(5, tree, scale, np.random.default_rng(3)))
    assert np.array_equal(d.var(), lp.coordinate_second_moments(tree, scale))
    assert np.array_equal(d.cov(), np.diag(d.var())) and np.array_equal(d.mean(), np.zeros(n))


def test_all_exponents_two_with_scale_two_is_the_standard_normal(rng):
    """eq 7 with eq 11, every p = 2 and s = 2: N(0, I) (Stühmer et al. 2020, sec. 3). Oracle:
    scipy.stats.multivariate_normal, to rounding (1e-12); the tree's nesting does not matter."""
    for tree in [(2.0, [None] * 4), (2.0, [(2.0, [None, None]), None, (2.0, [None])])]:
        d = LpNestedDistribution(tree, scale=2.0)
        z = rng.normal(size=(50, 4)) * 2.0
        ref = stats.multivariate_normal(np.zeros(4), np.eye(4))
        np.testing.assert_allclose(d.logpdf(z), ref.logpdf(z), rtol=1e-12)
        np.testing.assert_allclose(d.pdf(z[0]), ref.pdf(z[0]), rtol=1e-12)
        np.testing.assert_allclose(d.var(), 1.0, rtol=1e-12)


@pytest.mark.parametrize("p, s", [(0.8, 1.0), (1.5, 0.5), (4.0, 2.0)])
def test_equal_exponents_is_a_product_of_gennorm(p, s, rng):
    """Every exponent p: the density factorises into scipy.stats.gennorm(p, scale=s**(1/p)) per
    coordinate (eq 5 with τ = 1/s); logpdf to 1e-12, variances to 1e-12, and the sampler's
    marginals by a Kolmogorov–Smirnov test (fixed seed; p-value > 1e-3)."""
    tree = (p, [None, (p, [None, None])])
    d = LpNestedDistribution(tree, s)
    g = stats.gennorm(p, scale=s ** (1 / p))
    z = rng.normal(size=(40, 3))
    np.testing.assert_allclose(d.logpdf(z), g.logpdf(z).sum(1), rtol=1e-12)
    np.testing.assert_allclose(d.var(), g.var(), rtol=1e-12)
    x = d.rvs(4000, random_state=11)
    for j in range(3):
        assert stats.kstest(x[:, j], g.cdf).pvalue > 1e-3


@pytest.mark.parametrize("tree, scale", TREES, ids=str)
def test_sampler_moments_within_monte_carlo_errors(tree, scale):
    """Algorithm 1's samples: mean 0, E[z_j²] = var() (closed form) and E[z_i z_j] = 0 off the
    diagonal, each within 4.5 standard errors estimated from the sample itself (two-sided
    probability 7e-6 per statistic; 60 statistics over the three trees: a false alarm for some seed
    has probability < 5e-4; the seed is fixed)."""
    d = LpNestedDistribution(tree, scale)
    m = 40_000
    z = d.rvs(m, random_state=2024)
    assert z.shape == (m, d.dim)
    se_mean = z.std(0, ddof=1) / np.sqrt(m)
    assert np.all(np.abs(z.mean(0)) < 4.5 * se_mean)
    sq = z**2
    se_var = sq.std(0, ddof=1) / np.sqrt(m)
    assert np.all(np.abs(sq.mean(0) - d.var()) < 4.5 * se_var)
    i, j = np.triu_indices(d.dim, 1)
    prod = z[:, i] * z[:, j]
    assert np.all(np.abs(prod.mean(0)) < 4.5 * prod.std(0, ddof=1) / np.sqrt(m))


def test_rvs_shapes_and_random_state():
    d = LpNestedDistribution(ISA)
    assert d.rvs().shape == (1, 5) and d.rvs(()).shape == (5,) and d.rvs((2, 3)).shape == (2, 3, 5)
    assert d.rvs(0).shape == (0, 5)
    assert np.array_equal(d.rvs(4, random_state=1), d.rvs(4, random_state=1))
    g1, g2 = np.random.default_rng(9), np.random.default_rng(9)
    assert np.array_equal(d.rvs(4, random_state=g1), lp.sample(4, ISA, 1.0, g2))
    assert d.logpdf(np.zeros((2, 3, 5))).shape == (2, 3)
    assert "LpNestedDistribution(tree=" in repr(d)


@pytest.mark.parametrize("call, name", [
    (lambda: LpNestedDistribution((2.0, [])), "tree"),
    (lambda: LpNestedDistribution((-1.0, [None, None])), "tree"),
    (lambda: LpNestedDistribution(None), "tree"),
    (lambda: LpNestedDistribution(ISA, scale=0.0), "scale"),
    (lambda: LpNestedDistribution(ISA, scale="1"), "scale"),
    (lambda: LpNestedDistribution(ISA).logpdf(np.zeros(4)), "x"),
    (lambda: LpNestedDistribution(ISA).logpdf([[np.nan] * 5]), "x"),
    (lambda: LpNestedDistribution(ISA).pdf("abc"), "x"),
    (lambda: LpNestedDistribution(ISA).rvs(-1), "size"),
    (lambda: LpNestedDistribution(ISA).rvs(2.5), "size"),
    (lambda: LpNestedDistribution(ISA).rvs(2, random_state="a"), "random_state"),
    (lambda: LpNestedDistribution(ISA).rvs(2, random_state=np.random.RandomState(0)), "random_state"),
    (lambda: LpNestedDistribution(ISA).rvs(2, random_state=-3), "random_state"),
])
def test_bad_input_raises_naming_the_parameter(call, name):
    with pytest.raises((ValueError, TypeError)) as err:
        call()
    assert str(err.value).startswith(name), str(err.value)
