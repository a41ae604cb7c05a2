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
