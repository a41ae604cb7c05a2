"""GRAE / GRAE≈ regularizers (Kumar & Poole 2020, eqs 12–14) against dense numpy oracles."""

import numpy as np
import pytest
import torch

from deep import regularizers as R
from theory import implicit_regularization as ir


def _mlp(rng, d, D, hidden=7):
    """A random tanh MLP and its analytic numpy Jacobian (the dense oracle)."""
    W1, b1 = rng.normal(size=(hidden, d)), rng.normal(size=hidden)
    W2, b2 = rng.normal(size=(D, hidden)) / np.sqrt(hidden), rng.normal(size=D)
    net = torch.nn.Sequential(torch.nn.Linear(d, hidden), torch.nn.Tanh(),
                              torch.nn.Linear(hidden, D)).double()
    with torch.no_grad():
        for p, v in zip(net.parameters(), (W1, b1, W2, b2)):
            p.copy_(torch.from_numpy(v))

    def jac(z):  # (batch, d) -> (batch, D, d)
        t = np.tanh(z @ W1.T + b1)
        return np.einsum("kh,bh,hi->bki", W2, 1 - t**2, W1)

    return net, jac


@pytest.mark.parametrize("d,D", [(1, 3), (2, 5), (4, 6), (8, 20)])
@pytest.mark.parametrize("beta", [0.1, 1.0])
def test_modes_match_dense_numpy(rng, d, D, beta):
    net, jac = _mlp(rng, d, D)
    z = rng.normal(size=(5, d))
    J = jac(z)
    zt = torch.from_numpy(z)
    np.testing.assert_allclose(R.decoder_jacobian(net, zt).detach().numpy(), J, rtol=1e-12, atol=1e-13)
    for mode, oracle in [("exact", ir.grae_regularizer), ("hadamard", ir.hadamard_bound),
                         ("frobenius", ir.frobenius_regularizer)]:
        got = R.grae_regularizer(net, zt, beta, mode=mode).detach().numpy()
        np.testing.assert_allclose(got, oracle(J, None, beta), rtol=1e-11, err_msg=mode)


def test_bernoulli_variant_matches_eq12(rng):
    d, D = 3, 6
    net, jac = _mlp(rng, d, D)
    z = rng.normal(size=(4, d))
    x = rng.integers(0, 2, size=(4, D)).astype(float)
    p = rng.uniform(0.05, 0.95, size=(4, D))
    hd_np = ir.bernoulli_hess_diag(x, p)
    hd = R.bernoulli_hess_diag(torch.from_numpy(x), torch.from_numpy(p))
    np.testing.assert_allclose(hd.numpy(), hd_np, rtol=1e-14)
    for mode, oracle in [("exact", ir.grae_regularizer), ("hadamard", ir.hadamard_bound),
                         ("frobenius", ir.frobenius_regularizer)]:
        got = R.grae_regularizer(net, torch.from_numpy(z), 0.5, mode=mode, hess_diag=hd)
        np.testing.assert_allclose(got.detach().numpy(), oracle(jac(z), hd_np, 0.5), rtol=1e-11)


def test_hadamard_upper_bounds_exact_with_equality_for_orthogonal_columns(rng):
    net, _ = _mlp(rng, 4, 9)
    z = torch.from_numpy(rng.normal(size=(50, 4)))
    exact = R.grae_regularizer(net, z, 0.3)
    assert (R.grae_regularizer(net, z, 0.3, mode="hadamard") >= exact - 1e-12).all()
    assert (R.grae_regularizer(net, z, 0.3, mode="frobenius") >= exact - 1e-12).all()
    Q, _ = np.linalg.qr(rng.normal(size=(9, 4)))
    lin = torch.nn.Linear(4, 9).double()
    with torch.no_grad():
        lin.weight.copy_(torch.from_numpy(Q * np.array([0.3, 1.0, 2.0, 5.0])))
    np.testing.assert_allclose(R.grae_regularizer(lin, z, 0.3, mode="hadamard").detach().numpy(),
                               R.grae_regularizer(lin, z, 0.3).detach().numpy(), rtol=1e-12)
    pen = R.orthogonality_penalty(lin, z).detach().numpy()
    np.testing.assert_allclose(pen, 0.0, atol=1e-20)


@pytest.mark.parametrize("k", [1, 3])
def test_stochastic_estimate_is_unbiased_for_the_hadamard_bound(rng, k):
    d = 6
    net, _ = _mlp(rng, d, 8)
    z = torch.from_numpy(rng.normal(size=(3, d)))
    target = R.grae_regularizer(net, z, 0.5, mode="hadamard").detach().numpy()
    gen = torch.Generator().manual_seed(int(rng.integers(2**31)))
    n = 4000
    zz = z.repeat(n, 1)  # n independent draws per example in one batch
    draws = R.grae_regularizer(net, zz, 0.5, mode="stochastic", n_columns=k,
                               generator=gen).detach().numpy().reshape(n, 3)
    mean, se = draws.mean(0), draws.std(0, ddof=1) / np.sqrt(n)
    assert np.all(np.abs(mean - target) < 4 * se)
    assert np.all(se > 0)


def test_stochastic_orthogonality_penalty_is_unbiased(rng):
    net, jac = _mlp(rng, 5, 7)
    z = rng.normal(size=(2, 5))
    J = jac(z)
    Jn = J / np.linalg.norm(J, axis=1, keepdims=True)
    cos2 = np.einsum("bki,bkj->bij", Jn, Jn) ** 2
    iu = np.triu_indices(5, 1)
    oracle = cos2[:, iu[0], iu[1]].mean(-1)
    exact = R.orthogonality_penalty(net, torch.from_numpy(z)).detach().numpy()
    np.testing.assert_allclose(exact, oracle, rtol=1e-10)
    gen = torch.Generator().manual_seed(int(rng.integers(2**31)))
    n = 4000
    draws = R.orthogonality_penalty(net, torch.from_numpy(z).repeat(n, 1), mode="stochastic",
                                    generator=gen).detach().numpy().reshape(n, 2)
    assert np.all(np.abs(draws.mean(0) - oracle) < 4 * draws.std(0, ddof=1) / np.sqrt(n))


@pytest.mark.parametrize("mode", ["exact", "hadamard", "frobenius"])
def test_gradients_reach_decoder_parameters_and_match_finite_differences(rng, mode):
    d, D, h = 3, 4, 5
    W1 = torch.from_numpy(rng.normal(size=(h, d))).requires_grad_(True)
    W2 = torch.from_numpy(rng.normal(size=(D, h)))
    z = torch.from_numpy(rng.normal(size=(2, d)))

    def reg(W):
        return R.grae_regularizer(lambda u: torch.tanh(u @ W.T) @ W2.T, z, 0.7, mode=mode).sum()

    assert torch.autograd.gradcheck(reg, (W1,))
    net, _ = _mlp(rng, d, D)
    R.grae_regularizer(net, z, 0.7, mode=mode).sum().backward()
    assert all(p.grad is not None and torch.count_nonzero(p.grad) > 0
               for p in list(net.parameters())[:3])


def test_grae_loss_matches_numpy_eq13(rng):
    d, D = 2, 5
    dec, jac = _mlp(rng, d, D)
    enc = torch.nn.Linear(D, d).double()
    x = torch.from_numpy(rng.normal(size=(6, D)))
    with torch.no_grad():
        mu = enc(x)
        recon = dec(mu)
    oracle = ir.grae_loss(x.numpy(), recon.numpy(), mu.numpy(), jac(mu.numpy()), 0.4)
    got = R.grae_loss(enc, dec, x, 0.4).detach().numpy()
    np.testing.assert_allclose(got, oracle, rtol=1e-11)
    # GRAE≈ with k = d columns has the Hadamard regularizer's expectation; k=1 runs and is finite
    gen = torch.Generator().manual_seed(0)
    assert torch.isfinite(R.grae_approx_loss(enc, dec, x, 0.4, generator=gen)).all()


def test_bad_inputs_name_the_parameter(rng):
    net, _ = _mlp(rng, 3, 4)
    z = torch.from_numpy(rng.normal(size=(2, 3)))
    for beta in (0.0, -1.0, float("nan")):
        with pytest.raises(ValueError, match="beta"):
            R.grae_regularizer(net, z, beta)
    for k in (0, 4):
        with pytest.raises(ValueError, match="n_columns"):
            R.grae_regularizer(net, z, 1.0, mode="stochastic", n_columns=k)
    with pytest.raises(ValueError, match="decoder"):
        R.grae_regularizer(lambda u: u[:, :, None] * torch.ones(1, 1, 2, dtype=u.dtype), z, 1.0)
    with pytest.raises(ValueError, match="mode"):
        R.grae_regularizer(net, z, 1.0, mode="nope")
    with pytest.raises(ValueError, match="hess_diag"):
        R.grae_regularizer(net, z, 1.0, hess_diag=-torch.ones(2, 5, dtype=torch.float64))
    with pytest.raises(ValueError, match="hess_diag"):
        R.grae_regularizer(net, z, 1.0, hess_diag=torch.full((2, 4), float("nan"), dtype=torch.float64))
    with pytest.raises(ValueError, match="z"):
        R.grae_regularizer(net, z[0], 1.0)


_ACTIVATIONS = [torch.nn.ELU(alpha=0.7), torch.nn.LeakyReLU(0.2), torch.nn.Softplus(beta=2.0, threshold=1.0),
                torch.nn.SiLU(), torch.nn.Tanh(), torch.nn.Sigmoid(), torch.nn.ReLU()]


@pytest.mark.parametrize("act", _ACTIVATIONS, ids=lambda m: type(m).__name__)
@pytest.mark.parametrize("mode", R.MODES)
def test_sequential_fast_path_equals_torch_func_jvp(rng, act, mode):
    """The hand-written forward-mode pass (nn.Sequential of Linear + elementwise layers) gives
    the values and parameter gradients of the generic torch.func.jvp path."""
    d, D = 4, 6
    torch.manual_seed(int(rng.integers(2**31)))
    net = torch.nn.Sequential(torch.nn.Linear(d, 8), act, torch.nn.Sequential(
        torch.nn.Identity(), torch.nn.Linear(8, 7), act),
        torch.nn.Linear(7, D)).double()
    z = torch.from_numpy(rng.normal(size=(9, d)))
    assert R._sequential_layers(net) is not None
    values, grads = [], []
    for decoder in (net, lambda u: net(u)):  # the lambda is not a Sequential: generic path
        net.zero_grad()
        gen = torch.Generator().manual_seed(3)
        v = R.grae_regularizer(decoder, z, 0.3, mode=mode, n_columns=2, generator=gen)
        v.sum().backward()
        values.append(v.detach())
        grads.append([torch.zeros_like(p) if p.grad is None else p.grad.clone()
                      for p in net.parameters()])
    torch.testing.assert_close(values[0], values[1], rtol=1e-12, atol=1e-12)
    for g0, g1 in zip(*grads):
        torch.testing.assert_close(g0, g1, rtol=1e-10, atol=1e-12)


def test_fast_path_covers_decoders_starting_with_an_activation_and_bernoulli_loss(rng):
    d, D = 3, 5
    net = torch.nn.Sequential(torch.nn.Tanh(), torch.nn.Linear(d, D), torch.nn.Sigmoid()).double()
    enc = torch.nn.Linear(D, d).double()
    x = torch.from_numpy(rng.integers(0, 2, size=(4, D)).astype(float))
    for mode in R.MODES:
        a = R.grae_loss(enc, net, x, 0.5, mode=mode, observation="bernoulli", n_columns=2,
                        generator=torch.Generator().manual_seed(1))
        b = R.grae_loss(enc, lambda u: net(u), x, 0.5, mode=mode, observation="bernoulli",
                        n_columns=2, generator=torch.Generator().manual_seed(1))
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)
    z = torch.from_numpy(rng.normal(size=(4, d)))
    ident = torch.nn.Sequential(torch.nn.Identity())  # J = I: log|I + I/β| = d log(1 + 1/β)
    np.testing.assert_allclose(R.grae_regularizer(ident, z, 0.5).numpy(), 3 * np.log(3.0))


def test_jacobian_columns_rejects_misshaped_directions(rng):
    net, _ = _mlp(rng, 3, 4)
    z = torch.from_numpy(rng.normal(size=(2, 3)))
    with pytest.raises(ValueError, match="directions"):
        R.jacobian_columns(net, z, torch.ones(2, 3))
