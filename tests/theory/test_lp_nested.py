"""theory.lp_nested against independent oracles: quadrature, Monte Carlo, scipy.stats.

Stühmer et al. 2020, eqs 5–11 and Algorithm 1 (App. A.1); Sinz & Bethge 2010.
"""

import math

import numpy as np
import pytest
from scipy import special, stats

from theory import lp_nested as L

# (tree, scale): exponents < 1, = 2 and > 2, leaves and nodes mixed at one level.
TREES_2D = [((2.0, [None, None]), 2.0), ((0.5, [None, None]), 1.0), ((9.0, [None, None]), 0.7)]
TREES_3D = [
    ((1.5, [None, (0.7, [None, None])]), 1.0),      # eq 6 with p0 = 1.5, p1 = 0.7
    ((0.8, [None, (3.0, [None, None])]), 2.0),      # eq 6 with p0 < 1, p1 > 2
    ((9.0, [(1.0, [None, None]), None]), 1.0),      # eq 6 mirrored, p0 = 9
    ((2.1, [(2.2, [None, None]), (2.2, [None])]), 1.3),  # an ISA tree (eq 9)
]


def orthant_quadrature(tree, scale, m, weight=None):
    """∫ w(z) p(z) dz (w = 1 by default) by tensor Gauss–Legendre on the positive orthant
    (times 2^d: p and the weights used here are symmetric in every sign). z = R w^3 clusters nodes at the kinks z_j = 0; R = (60 s)^(1/p0) bounds
    the support up to e^-60 because |z_j| <= f(z) for every Lp-nested f."""
    d = L.n_leaves(tree)
    x, wts = np.polynomial.legendre.leggauss(m)
    w, wts = (x + 1) / 2, wts / 2
    R = (60 * scale) ** (1 / tree[0])
    z, jac = R * w**3, 3 * R * w**2 * wts
    Z = np.stack(np.meshgrid(*([z] * d), indexing="ij"), -1)
    J = np.prod(np.stack(np.meshgrid(*([jac] * d), indexing="ij"), -1), axis=-1)
    w_z = 1.0 if weight is None else weight(Z)
    return 2**d * np.sum(w_z * np.exp(L.log_prob(Z, tree, scale)) * J)


@pytest.mark.parametrize("tree,scale", TREES_2D + TREES_3D, ids=str)
def test_density_integrates_to_one_by_quadrature(tree, scale):
    m = 400 if L.n_leaves(tree) == 2 else 90
    # smooth integrand on a mapped grid: quadrature error ~1e-12 (checked on the Gaussian case)
    assert orthant_quadrature(tree, scale, m) == pytest.approx(1.0, abs=1e-9)


def test_evaluate_eq6_by_hand(rng):
    p0, p1 = 1.7, 3.2
    z = rng.normal(size=(50, 3))
    by_hand = (np.abs(z[:, 0]) ** p0 + (np.abs(z[:, 1]) ** p1 + np.abs(z[:, 2]) ** p1) ** (p0 / p1)) ** (1 / p0)
    np.testing.assert_allclose(L.evaluate((p0, [None, (p1, [None, None])]), z), by_hand, rtol=1e-13)


def test_isa_tree_is_eq9(rng):
    tree = L.isa_tree(2.1, [(2.2, 2), (1.3, 3)])
    assert tree == (2.1, [(2.2, [None, None]), (1.3, [None, None, None])])
    z = rng.normal(size=(20, 5))
    v1 = np.sum(np.abs(z[:, :2]) ** 2.2, 1) ** (1 / 2.2)
    v2 = np.sum(np.abs(z[:, 2:]) ** 1.3, 1) ** (1 / 1.3)
    np.testing.assert_allclose(L.evaluate(tree, z), (v1**2.1 + v2**2.1) ** (1 / 2.1), rtol=1e-13)
    assert L.isa_subspaces(tree) == [(2.2, 2), (1.3, 3)]
    assert L.isa_subspaces((2.0, [None, (2.0, [None])])) is None


def test_evaluate_is_log_space_stable():
    tree = (9.0, [None, (40.0, [None, None])])
    z = np.array([[1e-200, 3e-200, 2e-200], [1e150, 1e150, 0.0]])
    f = L.evaluate(tree, z)
    # the same values computed on rescaled numbers (f is 1-homogeneous), where powers are safe
    inner = 3 * (1 + (2 / 3) ** 40) ** (1 / 40)
    np.testing.assert_allclose(f, [1e-200 * (1 + inner**9) ** (1 / 9), 1e150 * 2 ** (1 / 9)], rtol=1e-13)


# ---------------------------------------------------------------- surface area (eq 8)

@pytest.mark.parametrize("n", [1, 2, 3, 5, 10])
def test_surface_area_l2_sphere(n):
    tree = (2.0, [None] * n)
    assert L.log_surface_area(tree) == pytest.approx(math.log(2) + n / 2 * math.log(math.pi) - math.lgamma(n / 2), rel=1e-14)


@pytest.mark.parametrize("p", [0.5, 1.0, 3.0, 9.0])
def test_surface_area_lp_sphere_via_ball_volume(p):
    # volume of the unit Lp ball in R^n is (2Γ(1+1/p))^n / Γ(1+n/p) (Dirichlet 1839), and
    # vol = S_f(1)/n for the surface measure of eq 8
    for n in (2, 3, 4):
        vol = (2 * math.gamma(1 + 1 / p)) ** n / math.gamma(1 + n / p)
        assert math.exp(L.log_surface_area((p, [None] * n))) / n == pytest.approx(vol, rel=1e-12)


def test_isa_tree_of_equal_exponents_is_the_lp_sphere():
    p = 1.3
    a = L.log_surface_area(L.isa_tree(p, [(p, 2), (p, 3), (p, 1)]))
    assert a == pytest.approx(L.log_surface_area((p, [None] * 6)), rel=1e-13)


@pytest.mark.parametrize("tree", [t for t, _ in TREES_3D] + [(1.0, [None, (9.0, [None, None])])], ids=str)
def test_surface_area_against_monte_carlo_ball_volume(tree):
    # Monte Carlo oracle: vol{f <= 1} = S_f(1)/n, estimated by uniform points in [-1, 1]^n
    # (the ball lies in the cube since |z_j| <= f(z)); 4 standard errors at a fixed seed.
    rng = np.random.default_rng(12345)
    n, m = L.n_leaves(tree), 400_000
    hit = L.evaluate(tree, rng.uniform(-1, 1, size=(m, n))) <= 1
    est, se = 2**n * hit.mean(), 2**n * hit.std() / math.sqrt(m)
    assert abs(math.exp(L.log_surface_area(tree)) / n - est) < 4 * se


def test_printed_upper_limit_l1_would_not_normalise():
    # eq 8 as extracted multiplies over k = 1..l_1; with l_0 != l_1 that breaks normalisation
    tree = (1.5, [None, None, (0.7, [None, None])])   # l_0 = 3, l_1 = 2
    ok = L.log_surface_area(tree)
    # literal reading: root product only over its first l_1 = 2 children
    literal = (4 * math.log(2) + 2 * math.lgamma(1 / 1.5) - 2 * math.log(1.5) - math.lgamma(4 / 1.5)
               + 2 * math.lgamma(1 / 0.7) - math.log(0.7) - math.lgamma(2 / 0.7))
    assert abs(ok - literal) > 0.1
    rng = np.random.default_rng(7)
    m = 400_000
    hit = L.evaluate(tree, rng.uniform(-1, 1, size=(m, 4))) <= 1
    est, se = 16 * hit.mean(), 16 * hit.std() / math.sqrt(m)
    assert abs(math.exp(ok) / 4 - est) < 4 * se
    assert abs(math.exp(literal) / 4 - est) > 10 * se   # ~20 standard errors away


# ---------------------------------------------------------------- special cases

def test_all_twos_with_s2_is_standard_normal(rng):
    z = rng.normal(size=(30, 5))
    tree = (2.0, [(2.0, [None, None]), None, (2.0, [None, (2.0, [None])])])
    np.testing.assert_allclose(L.log_prob(z, tree, scale=2.0), stats.norm.logpdf(z).sum(-1), rtol=1e-13)


@pytest.mark.parametrize("p", [0.6, 1.0, 2.0, 3.5])
def test_equal_exponents_give_factorial_gennorm(p, rng):
    s = 1.7
    z = rng.normal(size=(30, 4)) * 2
    tree = (p, [(p, [None, None]), (p, [None, (p, [None])])])
    expected = stats.gennorm.logpdf(z, p, scale=s ** (1 / p)).sum(-1)
    np.testing.assert_allclose(L.log_prob(z, tree, scale=s), expected, rtol=1e-12)


def test_radial_density_is_chi_for_p2_s2():
    v = np.linspace(0.01, 6, 50)
    np.testing.assert_allclose(L.log_radial_density(v, 5, 2.0, 2.0), stats.chi.logpdf(v, 5), rtol=1e-12)


def test_density_at_zero_is_the_finite_limit():
    tree = L.isa_tree(0.7, [(1.5, 2), (3.0, 2)])
    at0 = L.log_prob(np.zeros(4), tree, 1.3)
    near = L.log_prob(np.full(4, 1e-12), tree, 1.3)
    assert np.isfinite(at0) and at0 == pytest.approx(L.log_normalizer(tree, 1.3)) and at0 == pytest.approx(near, abs=1e-6)


# ---------------------------------------------------------------- eq 5: what κ measures

def test_kappa_is_box_tiao_shape_not_excess_kurtosis():
    # κ = 0 → p = 2 (normal), κ = 1 → p = 1 (Laplace): as the paper says
    assert L.p_from_kappa(0.0) == 2.0 and L.p_from_kappa(1.0) == 1.0
    # excess kurtosis oracle from scipy: Laplace has 3, not κ = 1
    assert L.gennorm_excess_kurtosis(1.0) == pytest.approx(stats.gennorm.stats(1.0, moments="k"), rel=1e-12)
    assert L.gennorm_excess_kurtosis(1.0) == pytest.approx(3.0, rel=1e-12)
    kap = np.linspace(-0.9, 3, 200)
    k = L.gennorm_excess_kurtosis(L.p_from_kappa(kap))
    ref = np.array([stats.gennorm.stats(p, moments="k") for p in L.p_from_kappa(kap)])
    np.testing.assert_allclose(k, ref, rtol=1e-9, atol=1e-12)
    assert np.all(np.diff(k) > 0)                     # strictly increasing in κ
    assert np.all(np.sign(k[np.abs(kap) > 1e-9]) == np.sign(kap[np.abs(kap) > 1e-9]))
    np.testing.assert_allclose(L.kappa_from_p(L.p_from_kappa(kap)), kap, rtol=1e-13, atol=1e-15)


# ---------------------------------------------------------------- Fig 3 closed form

@pytest.mark.parametrize("p", [0.5, 1.0, 2.0, 3.0, 9.0])
def test_rotated_square_closed_form_against_quadrature(p):
    x, w = np.polynomial.legendre.leggauss(200)
    # split [-1, 1] at the kinks is not possible for all θ; use many nodes + Monte Carlo check
    rng = np.random.default_rng(3)
    xy = rng.uniform(-1, 1, size=(200_000, 2))
    for th in (0.0, 0.3, np.pi / 4, 1.2):
        c, s = np.cos(th), np.sin(th)
        z = xy @ np.array([[c, -s], [s, c]]).T
        vals = np.sum(np.abs(z) ** p, 1)
        se = vals.std() / np.sqrt(len(vals))
        assert abs(L.expected_abs_power_rotated_square(th, p) - vals.mean()) < 4 * se
    # exact special cases: θ = 0 gives 2/(p+1); p = 2 is rotation invariant (2/3)
    assert L.expected_abs_power_rotated_square(0.0, p) == pytest.approx(2 / (p + 1), rel=1e-14)
    if p == 2.0:
        np.testing.assert_allclose(L.expected_abs_power_rotated_square(np.linspace(0, 1.5, 7), 2.0), 2 / 3, rtol=1e-12)


def test_rotated_square_closed_form_against_2d_quadrature():
    from scipy import integrate

    for p, th in [(1.0, 0.4), (3.0, 0.7), (0.7, np.pi / 4)]:
        c, s = np.cos(th), np.sin(th)
        f = lambda y, x: (abs(c * x - s * y) ** p + abs(s * x + c * y) ** p) / 4  # noqa: E731
        val, _ = integrate.dblquad(f, -1, 1, -1, 1, epsabs=1e-11)
        assert L.expected_abs_power_rotated_square(th, p) == pytest.approx(val, rel=1e-7)


# ---------------------------------------------------------------- the sampler (Algorithm 1)

SAMPLER_TREES = [(L.isa_tree(2.1, [(2.2, 4)] * 5), 1.0), ((0.8, [None, (3.0, [None, None])]), 2.0),
                 ((1.5, [None, (0.7, [None, None])]), 1.0), (L.isa_tree(1.9, [(1.2, 3), (3.0, 2)]), 0.5)]


@pytest.mark.parametrize("tree,scale", SAMPLER_TREES, ids=str)
def test_sampler_radial_law(tree, scale):
    rng = np.random.default_rng(2024)
    n, p0 = L.n_leaves(tree), tree[0]
    z = L.sample(20_000, tree, scale, rng)
    g = L.evaluate(tree, z) ** p0 / scale
    assert stats.kstest(g, stats.gamma(n / p0).cdf).pvalue > 1e-3


@pytest.mark.parametrize("tree,scale", [SAMPLER_TREES[0], SAMPLER_TREES[3]], ids=str)
def test_sampler_subspace_norms_and_marginals(tree, scale):
    # ISA trees: v_i^{p0}/s ~ Gamma(n_i/p0), independent over subspaces (eq 11, Sinz & Bethge)
    rng = np.random.default_rng(99)
    z = L.sample(20_000, tree, scale, rng)
    p0, start, norms = tree[0], 0, []
    for p_i, n_i in L.isa_subspaces(tree):
        v = np.sum(np.abs(z[:, start:start + n_i]) ** p_i, 1) ** (1 / p_i)
        norms.append(v)
        assert stats.kstest(v**p0 / scale, stats.gamma(n_i / p0).cdf).pvalue > 1e-3
        # 1-D marginal of the first coordinate of the subspace against its quadrature density
        grid = np.linspace(0, np.max(np.abs(z[:, start])) * 1.05, 200)
        pdf = np.exp(L.isa_leaf_marginal_logpdf(grid, p0, p_i, n_i, scale))
        cdf_half = np.concatenate([[0], np.cumsum((pdf[1:] + pdf[:-1]) / 2 * np.diff(grid))])
        cdf = lambda x: 0.5 + np.sign(x) * np.interp(np.abs(x), grid, cdf_half)  # noqa: E731
        assert stats.kstest(z[:, start], cdf).pvalue > 1e-3
        start += n_i
    r = stats.spearmanr(norms[0], norms[1]).statistic
    assert abs(r) < 4 / np.sqrt(len(norms[0]))


def test_isa_marginal_matches_direct_quadrature():
    from scipy import integrate

    tree = L.isa_tree(1.4, [(2.7, 2)])
    for x in (0.0, 0.3, 1.5):
        direct, _ = integrate.quad(lambda y: np.exp(L.log_prob(np.array([x, y]), tree, 0.8)), -np.inf, np.inf, epsabs=1e-13)
        assert np.exp(L.isa_leaf_marginal_logpdf(x, 1.4, 2.7, 2, 0.8)) == pytest.approx(direct, rel=1e-8)
    np.testing.assert_allclose(L.isa_leaf_marginal_logpdf(np.array([0.2, -1.0]), 1.4, 2.7, 1, 0.8),
                               stats.gennorm.logpdf([0.2, -1.0], 1.4, scale=0.8 ** (1 / 1.4)), rtol=1e-12)


def test_beta_radius_of_step1_cancels():
    tree = (0.8, [None, (3.0, [None, None])])
    u = L.sample_unit_sphere(1000, tree, np.random.default_rng(5))
    np.testing.assert_allclose(L.evaluate(tree, u), 1.0, rtol=1e-12)
    # same draws without the Beta step: replay the generator, skip the beta draw
    rng = np.random.default_rng(5)
    rng.beta(3, 1.0, size=1000)
    x = np.empty((1000, 3))
    L._descend(tree, np.ones(1000), x, 0, rng)
    np.testing.assert_allclose(u, x, rtol=1e-12)


def test_importance_sampling_normaliser_and_entropy():
    # proposal: a Student-t product; E_q[p/q] = 1 checks the normaliser, and the entropy
    # −E_p[log p] from prior samples equals the IS estimate −E_q[(p/q) log p]
    tree, s = L.isa_tree(1.3, [(2.5, 2), (0.9, 1)]), 1.0
    rng = np.random.default_rng(11)
    q = stats.t(df=3, scale=1.5)
    zq = q.rvs(size=(200_000, 3), random_state=rng)
    lp = L.log_prob(zq, tree, s)
    w = np.exp(lp - q.logpdf(zq).sum(-1))
    assert abs(w.mean() - 1) < 4 * w.std() / np.sqrt(len(w))
    zp = L.sample(200_000, tree, s, rng)
    h_p = -L.log_prob(zp, tree, s)
    h_q = -(w * lp)
    diff = h_p.mean() - h_q.mean()
    se = np.sqrt(h_p.var() / len(h_p) + h_q.var() / len(h_q))
    assert abs(diff) < 4 * se
    # and both equal the exact entropy: −c + E[f^p0]/s = −c + n/p0 (Gamma(n/p0) mean)
    exact = -L.log_normalizer(tree, s) + 3 / 1.3
    assert abs(h_p.mean() - exact) < 4 * h_p.std() / np.sqrt(len(h_p))


# ---------------------------------------------------------------- bad input

@pytest.mark.parametrize("tree", [None, (0.0, [None]), (-1.0, [None, None]), (2.0, []), (2.0, None),
                                  [2.0, [None]], (2.0, [None, (float("nan"), [None])]), (2.0, [3])])
def test_malformed_trees_raise(tree):
    with pytest.raises(ValueError, match="tree"):
        L.log_prob(np.zeros(2), tree)


def test_bad_inputs_raise_naming_parameter():
    tree = L.isa_tree(2.0, [(2.0, 2)])
    with pytest.raises(ValueError, match="z"):
        L.log_prob(np.zeros(3), tree)
    with pytest.raises(ValueError, match="z"):
        L.log_prob(np.array([0.0, np.nan]), tree)
    with pytest.raises(ValueError, match="scale"):
        L.log_prob(np.zeros(2), tree, scale=0.0)
    with pytest.raises(ValueError, match="scale"):
        L.sample(3, tree, scale=-1.0)
    with pytest.raises(ValueError, match="p0"):
        L.isa_tree(-2.0, [(2.0, 2)])
    with pytest.raises(ValueError, match="subspaces"):
        L.isa_tree(2.0, [(2.0, 0)])
    with pytest.raises(ValueError, match="n"):
        L.sample(-1, tree)
    with pytest.raises(TypeError, match="rng"):
        L.sample(3, tree, rng=3)
    with pytest.raises(ValueError, match="kappa"):
        L.p_from_kappa(-1.0)


# ----------------------------------------------------------- coordinate variances (eq 7, eq 11)

@pytest.mark.parametrize("tree,scale", TREES_2D + TREES_3D, ids=str)
def test_coordinate_second_moments_against_quadrature(tree, scale):
    m = 200 if L.n_leaves(tree) == 2 else 60
    got = L.coordinate_second_moments(tree, scale)
    want = [orthant_quadrature(tree, scale, m, lambda z, j=j: z[..., j] ** 2)
            for j in range(L.n_leaves(tree))]
    # the normalisation itself is reproduced to ~1e-6 by this rule at these sizes
    # (test_density_integrates_to_one_by_quadrature); moments share its error
    np.testing.assert_allclose(got, want, rtol=2e-4)


@pytest.mark.parametrize("p", [0.7, 1.0, 2.0, 3.5])
def test_equal_exponents_variance_is_gennorm(p):
    # every exponent p: the factorial p-generalised normal, gennorm(p, scale=s^(1/p)) (eq 5)
    tree, s = L.isa_tree(p, [(p, 3), (p, 2)]), 1.7
    want = stats.gennorm(p, scale=s ** (1 / p)).var()
    np.testing.assert_allclose(L.coordinate_second_moments(tree, s), want, rtol=1e-12)


def test_unit_variance_scale_special_cases_and_monte_carlo():
    # every exponent 2: N(0, s/2 I), so s = 2 is the standard normal
    assert L.unit_variance_scale(L.isa_tree(2.0, [(2.0, 4)] * 5)) == pytest.approx(2.0, rel=1e-13)
    tree = L.isa_tree(2.1, [(2.2, 4)] * 5)                 # Stühmer Table 1 layout
    s = L.unit_variance_scale(tree)
    np.testing.assert_allclose(L.coordinate_second_moments(tree, s), 1.0, rtol=1e-12)
    z = L.sample(200_000, tree, s, np.random.default_rng(7))
    # sample variance of 200k draws per coordinate: se ≈ sqrt(2/200k)·√(1+κ/2) ≈ 0.0032
    np.testing.assert_allclose(z.var(0), 1.0, atol=5 * 0.0032)


# ------------------------------------------------------------------ extreme but valid inputs

def _mp_log_prob(z, tree, scale):
    """log p(z) at 50 digits with mpmath: the power sums of eq 6 evaluated directly (no log
    space needed in arbitrary precision) and c of eqs 8, 11 with mpmath's loggamma."""
    import mpmath as mp

    mp.mp.dps = 50

    def ev(node, it):
        if node is None:
            return abs(mp.mpf(next(it)))
        p, children = node
        p = mp.mpf(p)
        return mp.fsum(ev(c, it) ** p for c in children) ** (1 / p)

    n = L.n_leaves(tree)
    log_sf = n * mp.log(2)
    for p, ni, nik in L.inner_nodes(tree):
        p = mp.mpf(p)
        log_sf += mp.fsum(mp.loggamma(m / p) for m in nik) - (len(nik) - 1) * mp.log(p) - mp.loggamma(ni / p)
    p0, s = mp.mpf(tree[0]), mp.mpf(scale)
    c = mp.log(p0) - mp.loggamma(n / p0) - (n / p0) * mp.log(s) - log_sf
    return c - ev(tree, iter(z)) ** p0 / s


@pytest.mark.parametrize("tree, scale, z", [
    (L.isa_tree(2.0, [(200.0, 2), (200.0, 3)]), 1e-8, [0.0] * 5),            # issue 18: +42.30
    (L.isa_tree(2.0, [(200.0, 2), (200.0, 3)]), 1e-8, [-1e6, 0, 0, 0, 0]),   # -1e20
    (L.isa_tree(2.1, [(200.0, 4)] * 5), 1.0, [1e-3] * 20),
    (L.isa_tree(0.05, [(0.05, 2), (50.0, 3)]), 1e8, [1e6, -1e-3, 0.1, 1e3, 0.0]),
    (L.isa_tree(200.0, [(0.5, 2), (20.0, 2)]), 1e-8, [0.1, 0.2, -0.3, 0.05]),
    ((2.0, [None, (200.0, [None, (0.05, [None, None])])]), 1e8, [1e6, 1e-3, 2.0, 0.0]),
])
def test_log_prob_extreme_against_mpmath(tree, scale, z):
    ref = float(_mp_log_prob(z, tree, scale))
    got = L.log_prob(np.array(z), tree, scale)
    # float64 log-space evaluation: ~20 operations of a few ulps each on values up to 1e20
    assert got == pytest.approx(ref, rel=1e-13, abs=1e-12)


def _mp_leaf_marginal(x, p0, p_i, n_i, scale):
    """log p(x) of isa_leaf_marginal_logpdf at 30 digits: the same 1-D integral by mpmath
    quadrature (tanh-sinh, split at the radii where the integrand changes), independently of
    the float64 log-space rewrite."""
    import mpmath as mp

    mp.mp.dps = 30
    ax, p, q, s = abs(mp.mpf(x)), mp.mpf(p_i), mp.mpf(p0), mp.mpf(scale)
    g0 = ax ** q / s

    def integrand(r):
        return mp.exp(-((ax ** p + r ** p) ** (q / p) / s - g0)) * r ** (n_i - 2)

    knots = [mp.mpf(0)] + [mp.mpf(10) ** k for k in range(-8, 9)]
    if ax > 0:
        knots += [ax * f for f in (mp.mpf("0.9"), mp.mpf("0.95"), mp.mpf("1.05"), mp.mpf("1.1"))]
    knots = sorted(set(knots)) + [mp.inf]
    val = mp.quad(integrand, knots)
    c = L.log_normalizer(L.isa_tree(p0, [(p_i, n_i)]), scale)
    rest = L.log_surface_area((p_i, [None] * (n_i - 1)))
    return c + rest + float(mp.log(val) - g0)


@pytest.mark.parametrize("x, p0, p_i, n_i, scale", [
    (1e3, 2.0, 200.0, 3, 1.0),          # issue 18, item 7: OverflowError before
    (0.0, 2.0, 200.0, 3, 1.0),
    (0.3, 1.4, 2.7, 2, 0.8),
    (5.0, 0.5, 0.05, 2, 1.0),
    (1e6, 2.0, 2.0, 4, 1e8),
    (1e-300, 2.0, 2.0, 2, 1.0),         # g0 = |x|^p0/s underflows to 0: was 0 * inf = NaN
    (1e-3, 200.0, 2.0, 2, 1.0),
    (1e-300, 2.0, 200.0, 4, 1e-8),
])
def test_isa_leaf_marginal_extreme_against_mpmath(x, p0, p_i, n_i, scale):
    got = float(L.isa_leaf_marginal_logpdf([x], p0, p_i, n_i, scale)[0])
    ref = _mp_leaf_marginal(x, p0, p_i, n_i, scale)
    # quad's rtol 1e-11 on the integral is an absolute 1e-11 on its log; the constant terms and
    # the log-space shift add float64 round-off relative to |log p| (up to 1e6 here)
    assert got == pytest.approx(ref, rel=1e-12, abs=1e-9)


@pytest.mark.parametrize("call, name", [
    (lambda: L.log_radial_density([1.0], 3, 1e-320), "p0"),
    (lambda: L.log_radial_density([1.0], 3, 201.0), "p0"),
    (lambda: L.isa_leaf_marginal_logpdf([1.0], 1e308, 2.0, 2), "p0"),
    (lambda: L.isa_leaf_marginal_logpdf([1.0], 2.0, 0.01, 2), "p_i"),
    (lambda: L.isa_leaf_marginal_logpdf([1.0], 2.0, 2.0, 2, 1e9), "scale"),
    (lambda: L.isa_leaf_marginal_logpdf([1.0 + 1j], 2.0, 2.0, 2), "x"),
    (lambda: L.expected_abs_power_rotated_square([0.1], 1e308), "p"),
    (lambda: L.expected_abs_power_rotated_square("abc", 2.0), "theta"),
])
def test_exponents_and_scales_outside_the_tested_range_are_rejected_by_name(call, name):
    with pytest.raises((ValueError, TypeError), match=rf"^{name}\b"):
        call()
