"""deep.priors.LpNested against the numpy reference theory.lp_nested (itself tested against
quadrature / scipy), gradcheck in z and in the exponents, and the sampler's radial law.

Stühmer et al. 2020, eqs 7–11, Algorithm 1 (App. A.1), learned exponents (App. A.2).
"""

import numpy as np
import pytest
import torch
from scipy import stats

from deep.priors import LearnableLpNested, LpNested, isa_tree
from theory import lp_nested as L

TREES = [
    (isa_tree(2.1, [(2.2, 4)] * 5), 1.0),                 # the paper's dSprites layout (sec. 4)
    (isa_tree(1.3, [(2.5, 2), (0.9, 1), (3.0, 3)]), 0.7),  # unequal subspaces
    ((0.8, [None, (3.0, [None, None])]), 2.0),            # eq 6, general (non-ISA) path
    ((1.5, [(2.0, [None, (0.6, [None, None])]), None]), 1.3),  # depth three
]


@pytest.mark.parametrize("tree,scale", TREES, ids=str)
def test_log_prob_equals_numpy_reference_float64(tree, scale, rng):
    n = L.n_leaves(tree)
    z = rng.normal(size=(3, 17, n)) * 1.5
    z[0, 0] = 0.0                         # exact zero: the finite limit
    z[0, 1, :2] = 0.0
    d = LpNested(tree, scale, dtype=torch.float64)
    got = d.log_prob(torch.from_numpy(z)).numpy()
    np.testing.assert_allclose(got, L.log_prob(z, tree, scale), rtol=0, atol=1e-10)
    assert got.shape == (3, 17)
    assert float(d.log_normalizer) == pytest.approx(L.log_normalizer(tree, scale), abs=1e-12)


def test_float32_close_to_reference(rng):
    tree, scale = TREES[0]
    z = rng.normal(size=(64, 20))
    got = LpNested(tree, scale).log_prob(torch.from_numpy(z).float())
    assert got.dtype == torch.float32
    # float32: relative error ~1e-6 on values of order 10
    np.testing.assert_allclose(got.double().numpy(), L.log_prob(z, tree, scale), rtol=2e-5, atol=2e-5)


@pytest.mark.parametrize("tree,scale", TREES, ids=str)
def test_gradcheck_in_z_and_exponents(tree, scale):
    gen = torch.Generator().manual_seed(0)
    n = L.n_leaves(tree)
    z = (torch.randn(4, n, generator=gen, dtype=torch.float64) + 0.1).requires_grad_()
    p = torch.tensor(L.exponents(tree), dtype=torch.float64, requires_grad=True)
    s = torch.tensor(scale, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda z, p, s: LpNested(tree, s, exponents=p).log_prob(z), (z, p, s))


def test_gradient_in_exponents_matches_finite_difference_of_numpy():
    # oracle: central differences of the float64 numpy log-density in each exponent
    tree, scale = TREES[1]
    z = np.random.default_rng(1).normal(size=(5, 6))
    p0 = L.exponents(tree)
    p = torch.tensor(p0, requires_grad=True)
    LpNested(tree, scale, exponents=p).log_prob(torch.from_numpy(z)).sum().backward()
    h = 1e-6
    for i in range(len(p0)):
        e = np.zeros_like(p0)
        e[i] = h
        fd = (L.log_prob(z, L.with_exponents(tree, p0 + e), scale).sum()
              - L.log_prob(z, L.with_exponents(tree, p0 - e), scale).sum()) / (2 * h)
        assert p.grad[i].item() == pytest.approx(fd, rel=1e-6, abs=1e-7)


def test_gradient_at_exact_zero_is_finite():
    tree = isa_tree(0.7, [(0.5, 2), (3.0, 2)])
    z = torch.zeros(2, 4, dtype=torch.float64, requires_grad=True)
    p = torch.tensor(L.exponents(tree), requires_grad=True)
    lp = LpNested(tree, 1.0, exponents=p).log_prob(z)
    lp.sum().backward()
    assert torch.isfinite(lp).all() and torch.isfinite(z.grad).all() and torch.isfinite(p.grad).all()
    assert lp[0].item() == pytest.approx(L.log_normalizer(tree, 1.0), abs=1e-12)


def test_entropy_matches_monte_carlo():
    tree, scale = TREES[0]
    d = LpNested(tree, scale, dtype=torch.float64)
    z = d.sample((50_000,), generator=torch.Generator().manual_seed(3))
    h = -d.log_prob(z)
    assert abs(h.mean().item() - d.entropy().item()) < 4 * h.std().item() / np.sqrt(len(h))
    assert d.entropy().item() == pytest.approx(-L.log_normalizer(tree, scale) + 20 / 2.1, rel=1e-12)


@pytest.mark.parametrize("tree,scale", TREES, ids=str)
def test_sampler_radial_law_and_numpy_agreement(tree, scale):
    n, p0 = L.n_leaves(tree), tree[0]
    d = LpNested(tree, scale, dtype=torch.float64)
    z = d.sample((4000, 2), generator=torch.Generator().manual_seed(11))
    assert z.shape == (4000, 2, n) and z.dtype == torch.float64
    g = (L.evaluate(tree, z.reshape(-1, n).numpy()) ** p0 / scale)
    assert stats.kstest(g, stats.gamma(n / p0).cdf).pvalue > 1e-3
    # torch and numpy samplers draw from the same law: two-sample KS on the first coordinate
    zn = L.sample(8000, tree, scale, np.random.default_rng(4))
    assert stats.ks_2samp(z.reshape(-1, n)[:, 0].numpy(), zn[:, 0]).pvalue > 1e-3


def test_sampler_is_reproducible_with_generator():
    d = LpNested(TREES[1][0], 0.7)
    a = d.sample((10,), generator=torch.Generator().manual_seed(5))
    b = d.sample((10,), generator=torch.Generator().manual_seed(5))
    assert torch.equal(a, b) and a.dtype == torch.float32


def test_learnable_prior_keeps_root_fixed_and_learns_subspaces():
    tree = isa_tree(2.1, [(2.0, 3)] * 3)          # App. A.2: p0 = 2.1 fixed, p_i from 2.0
    prior = LearnableLpNested(tree, 1.0).double()
    assert [pp.shape for pp in prior.parameters()] == [torch.Size([3])]
    np.testing.assert_allclose(prior.exponents.detach().numpy(), [2.1, 2.0, 2.0, 2.0])
    z = torch.from_numpy(np.random.default_rng(2).normal(size=(8, 9)))
    lp = prior.log_prob(z)
    np.testing.assert_allclose(lp.detach().numpy(), L.log_prob(z.numpy(), tree), atol=1e-10)
    lp.sum().backward()
    # chain rule of p = exp(θ): dθ = p · dp, against the LpNested gradient in p
    p = prior.exponents.detach().clone().requires_grad_()
    LpNested(tree, 1.0, exponents=p).log_prob(z).sum().backward()
    np.testing.assert_allclose(prior.log_exponents.grad.numpy(), (p.grad * p.detach())[1:].numpy(), rtol=1e-12)


@pytest.mark.parametrize("bad,match", [
    (dict(tree=(2.0, [])), "tree"), (dict(tree=(-1.0, [None, None])), "tree"),
    (dict(scale=0.0), "scale"), (dict(scale=float("nan")), "scale"),
    (dict(exponents=torch.tensor([2.0])), "exponents"), (dict(exponents=torch.tensor([2.0, -1.0])), "exponents"),
])
def test_bad_construction_raises(bad, match):
    kw = dict(tree=isa_tree(2.0, [(2.0, 2)]), scale=1.0) | bad
    with pytest.raises(ValueError, match=match):
        LpNested(**kw)


def test_bad_z_raises():
    d = LpNested(isa_tree(2.0, [(2.0, 2)]), 1.0, dtype=torch.float64)
    with pytest.raises(ValueError, match="z"):
        d.log_prob(torch.zeros(3, 3, dtype=torch.float64))
    with pytest.raises(ValueError, match="z"):
        d.log_prob(torch.tensor([0.0, float("inf")], dtype=torch.float64))
    with pytest.raises(ValueError, match="z"):
        d.log_prob(torch.tensor([float("nan"), 1.0], dtype=torch.float64))


# ------------------------------------------------------------------ extreme but valid inputs
# Issue 18, item 1: exponents in [0.05, 200], scales in [1e-8, 1e8], |z| up to 1e6. The numpy
# reference works in log space (and is itself checked against mpmath at 50 digits in
# tests/theory/test_lp_nested.py::test_log_prob_extreme_against_mpmath).
EXTREME_P = (0.05, 0.5, 2.0, 20.0, 50.0, 200.0)
EXTREME_S = (1e-8, 1.0, 1e8)
EXTREME_Z = (0.0, 1e-3, 0.1, 1.0, 1e3, 1e6)


def _extreme_grid(n):
    """z rows: all coordinates at one magnitude (signs alternating), plus mixed rows."""
    rows = [np.full(n, m) * np.where(np.arange(n) % 2, -1.0, 1.0) for m in EXTREME_Z]
    rows.append(np.array([EXTREME_Z[k % len(EXTREME_Z)] for k in range(n)]))
    rows.append(np.array([1e6 if k == 0 else 0.0 for k in range(n)]))
    return np.stack(rows)


def _extreme_trees():
    out = []
    for p in EXTREME_P:
        for p0 in (0.05, 2.0, 200.0):
            out.append(isa_tree(p0, [(p, 4)] * 5))             # the paper's layout, equal subspaces
            out.append(isa_tree(p0, [(p, 2), (p, 3)]))         # unequal subspaces
        out.append((2.0, [None, (p, [None, (0.5, [None, None])])]))   # general path, depth three
    return out


def _tolerance(ref_c, ref_f, dtype):
    """|error| allowed: the two terms c and f^{p0}/s each carry a relative rounding error of
    a few ulps per operation of their log-space evaluation (~10 ops); f^{p0}/s = exp(log F)
    turns an absolute error δ in log F into a relative error δ, and |log F| reaches ~3e3 at
    the grid's extremes, so the F term gets |log F| ulps on top."""
    eps = float(torch.finfo(dtype).eps)
    logf = np.log(np.maximum(ref_f, 1e-300))
    return 64 * eps * (np.abs(ref_c) + ref_f * (1 + np.abs(logf)))


def _against_reference(got, z, tree, s, dtype):
    """Assert float64 ``got`` = log p(z) within :func:`_tolerance` of the numpy reference, with
    −inf only where the true value is below −max(dtype) (the reference agrees); returns
    (reference, worst error / tolerance)."""
    ref = L.log_prob(z, tree, s)
    c = L.log_normalizer(tree, s)
    f_term = np.exp(np.minimum(float(tree[0]) * L.log_evaluate(tree, z) - np.log(s), 700))
    finite = np.isfinite(ref)
    big = float(torch.finfo(dtype).max)
    assert np.all(np.isfinite(got) | ~finite | (np.abs(ref) > big / 4)), (tree, s)
    ok = finite & np.isfinite(got)
    err = np.abs(got[ok] - ref[ok])
    tol = _tolerance(c, f_term, dtype)[ok]
    assert np.all(err <= tol), (tree, s, got[ok][err > tol], ref[ok][err > tol])
    return ref, float(np.max(err / tol, initial=0.0))


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=str)
def test_log_prob_matches_reference_over_extreme_grid(dtype):
    worst = 0.0
    for tree in _extreme_trees():
        n = L.n_leaves(tree)
        z = _extreme_grid(n)
        for s in EXTREME_S:
            zt = torch.tensor(z, dtype=dtype, requires_grad=True)
            p = torch.tensor(L.exponents(tree), dtype=dtype, requires_grad=True)
            lp = LpNested(tree, s, exponents=p).log_prob(zt)
            ref, ratio = _against_reference(lp.detach().double().numpy(), z, tree, s, dtype)
            worst = max(worst, ratio)
            big = float(torch.finfo(dtype).max)
            # gradients: finite on every row whose gradient is representable. The chain rule
            # multiplies f^{p0}/s by at most |log z| * p0 / p_i^2 <= 14 * 200 / 0.05^2 ~ 1e6, so
            # rows with |log p| below max(dtype) * 1e-8 have gradients inside the range
            rows = torch.from_numpy(np.abs(ref) < big * 1e-8)
            lp[rows].sum().backward()
            assert torch.isfinite(p.grad).all(), (tree, s, p.grad)
            assert torch.isfinite(zt.grad[rows]).all(), (tree, s)
    print(f"worst error / tolerance: {worst:.3g}")
    assert worst <= 1.0


def test_issue_18_reported_cases():
    """The numbers of issue 18, item 1, against the float64 numpy reference."""
    tree = isa_tree(2.0, [(200.0, 2), (200.0, 3)])
    z = np.zeros((2, 5))
    z[1, 0] = -1e6
    d = LpNested(tree, 1e-8, dtype=torch.float64)
    zt = torch.tensor(z, requires_grad=True)
    lp = d.log_prob(zt)
    ref = L.log_prob(z, tree, 1e-8)
    assert ref[0] == pytest.approx(42.30, abs=0.01)     # the value the issue quotes
    # float64 round-off on values of size 1e20 (rel 1e-15) and 42 (abs 1e-13)
    np.testing.assert_allclose(lp.detach().numpy(), ref, rtol=1e-13, atol=1e-12)
    lp.sum().backward()
    assert torch.isfinite(zt.grad).all()
    tree = isa_tree(2.1, [(200.0, 4)] * 5)
    for zv in (0.0, 1e-3, 0.1):
        z = np.full((1, 20), zv)
        got = LpNested(tree, 1.0).log_prob(torch.tensor(z, dtype=torch.float32)).double().numpy()
        # float32 on values of order 10-60: a few ulps of 60 is < 1e-4
        np.testing.assert_allclose(got, L.log_prob(z, tree, 1.0), rtol=0, atol=1e-4)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=str)
def test_fused_pass_matches_reference_over_extreme_grid(dtype):
    """Without a gradient, ISA trees take the fused (B, n) pass where it is exact and the
    log-space recursion elsewhere (module docstring, "Speed"): over the same extreme grid, every
    value is within the tolerance of the reference, and the fused pass ran on part of the grid."""
    worst, fused_rows, rows = 0.0, 0, 0
    for tree in _extreme_trees():
        if L.isa_subspaces(tree) is None:
            continue
        z = _extreme_grid(L.n_leaves(tree))
        for s in EXTREME_S:
            d = LpNested(tree, s, dtype=dtype)
            zt = torch.tensor(z, dtype=dtype)
            with torch.no_grad():
                got = d.log_prob(zt).double().numpy()
                for k in range(len(z)):     # one row at a time: which rows the fused pass takes
                    rows += 1
                    fused_rows += d._fast_log_prob(zt[k:k + 1]) is not None
            worst = max(worst, _against_reference(got, z, tree, s, dtype)[1])
    print(f"fused rows {fused_rows} of {rows}; worst error / tolerance: {worst:.3g}")
    assert 0 < fused_rows < rows and worst <= 1.0


def test_fused_pass_runs_on_ordinary_input_and_agrees(monkeypatch, rng):
    """The paper's layout at N(0, 1) codes never needs the log-space recursion (it is disabled
    here, so reaching it fails); the fused value equals the recursion's within float64 rounding."""
    tree, scale = TREES[0]
    d = LpNested(tree, scale, dtype=torch.float64)
    z = torch.from_numpy(rng.normal(size=(512, 20)))
    slow = d.log_prob(z.clone().requires_grad_()).detach()     # gradient requested: recursion
    monkeypatch.setattr(LpNested, "log_f_pow_p0", lambda *a: pytest.fail("recursion reached"))
    with torch.no_grad():
        fast = d.log_prob(z)
    # values of order 10-30: a few ulps (1e-15 relative) per operation of either evaluation
    np.testing.assert_allclose(fast.numpy(), slow.numpy(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(fast.numpy(), L.log_prob(z.numpy(), tree, scale), rtol=0, atol=1e-10)
