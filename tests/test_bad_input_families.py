"""The families of bad input that used to end in an internal traceback, a NaN or a silent
acceptance, each fixed at its root and checked here as a property over drawn inputs
(hypothesis, derandomised by the "ci" profile of tests/conftest.py):

* a model and its input in different dtypes (float32 batch, float64 model, or the reverse);
* the sympy-lambdified factor-analysis expressions given mis-shaped arguments;
* magnitudes at the edge of float64 (the rotation angle of Kumar & Poole, App. C);
* tensor-valued scalars (the Lp-nested scale);
* non-integer indices (the β-VAE score's factor indices);
* devices this machine does not have, and seeds beyond torch's range.

Each property has its oracle: the error names the argument (ValueError/TypeError), or the result
equals what the same call gives on well-formed input (the exact rotation, the float scale).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import example, given
from hypothesis import strategies as st

DTYPES = st.sampled_from([(torch.float32, torch.float64), (torch.float64, torch.float32)])


def _vae(dtype):
    from deep.models import VAEConfig, build_vae

    torch.manual_seed(0)
    return build_vae(VAEConfig(latent_dim=3, hidden=8, image_size=8)).to(dtype)


@given(pair=DTYPES, batch=st.integers(1, 4))
def test_a_batch_in_another_dtype_than_the_model_is_named(pair, batch):
    model_dtype, input_dtype = pair
    vae = _vae(model_dtype)
    x = torch.rand(batch, 1, 8, 8, dtype=input_dtype)
    z = torch.randn(batch, 3, dtype=input_dtype)
    for call, name in ((lambda: vae(x), "x"), (lambda: vae.encode(x), "x"),
                       (lambda: vae.encode_cholesky(x), "x"), (lambda: vae.decode(z), "z"),
                       (lambda: vae.mean_image(z), "z")):
        with pytest.raises(TypeError, match=rf"^{name} is {input_dtype}.*{model_dtype}"):
            call()
    # the oracle: the same batch in the model's dtype goes through
    assert torch.isfinite(vae.decode(z.to(model_dtype))).all()


@given(pair=DTYPES, batch=st.integers(1, 4))
def test_a_jacobian_of_a_decoder_in_another_dtype_is_named(pair, batch):
    from deep import regularizers as reg
    from deep.traversal import latent_traversal

    model_dtype, input_dtype = pair
    dec = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.Tanh()).to(model_dtype)
    z = torch.randn(batch, 3, dtype=input_dtype)
    with pytest.raises(TypeError, match=r"^z is "):
        reg.decoder_jacobian(dec, z)
    with pytest.raises(TypeError, match=r"^z_ref is "):
        latent_traversal(dec, z[0], [0], [0.0, 1.0])
    J = reg.decoder_jacobian(dec, z.to(model_dtype))
    assert J.shape == (batch, 5, 3) and J.dtype == model_dtype


ARGS = ("x", "W", "psi", "m", "s")
GOOD = {"x": (2,), "W": (2, 2), "psi": (2,), "m": (2,), "s": (2,)}


@pytest.fixture(scope="module")
def eq16():
    from theory import factor_analysis as FA

    return FA.lambdified(2, 2)["free_energy_eq16"]


@given(arg=st.sampled_from(ARGS), size=st.integers(0, 6), as_matrix=st.booleans())
def test_a_misshaped_argument_of_the_lambdified_expressions_is_named(eq16, arg, size, as_matrix):
    shape = (size, 1) if as_matrix else (size,)
    good = {a: np.full(GOOD[a], 0.5) for a in ARGS}
    reference = eq16(**good, M=10)
    assert math.isfinite(reference)
    bad = dict(good, **{arg: np.full(shape, 0.5)})
    if int(np.prod(shape)) == int(np.prod(GOOD[arg])) and (arg != "W" or not as_matrix):
        assert eq16(**bad, M=10) == pytest.approx(reference, rel=1e-12)   # same numbers, reshaped
        return
    with pytest.raises(ValueError, match=rf"^{arg} must have shape"):
        eq16(**bad, M=10)


@given(exponent=st.integers(-300, 300), theta=st.floats(-44.0, 44.0), n=st.integers(3, 30))
def test_the_rotation_angle_does_not_depend_on_the_magnitude_of_the_latents(exponent, theta, n):
    from linear_models.uniqueness import rotation_angle

    rng = np.random.default_rng(n)
    Z = rng.normal(size=(n, 2))
    t = np.radians(theta)
    R = np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])
    M = Z @ R                    # M = R^T-rotated Z: Z = O M with O = R(θ)
    scale = 10.0 ** exponent
    got = rotation_angle(Z * scale, M * scale)
    assert math.isfinite(got)
    # the oracle: the unscaled problem, and the rotation it was built with
    assert got == pytest.approx(rotation_angle(Z, M), abs=1e-9)
    assert got == pytest.approx(theta, abs=1e-7)


@given(value=st.floats(0.1, 10.0), shape=st.sampled_from([(1,), (2,), (1, 1), (3,)]))
def test_the_lp_nested_scale_is_one_number(value, shape):
    from deep.priors import LpNested, parse_prior

    tree = parse_prior("isa:2;2x2")
    z = torch.tensor([0.3, -1.2])
    as_float = LpNested(tree, scale=value).log_prob(z)
    as_tensor = LpNested(tree, scale=torch.tensor(value)).log_prob(z)   # 0-d: the same law
    assert as_tensor.shape == as_float.shape == () and torch.allclose(as_tensor, as_float)
    with pytest.raises(ValueError, match="^scale: "):
        LpNested(tree, scale=torch.full(shape, value))


@given(bad=st.one_of(st.floats(allow_nan=True), st.text(max_size=2), st.booleans(), st.none()))
def test_a_factor_index_that_is_not_an_int_is_named(bad):
    from deep.metrics import beta_vae_score

    rng = np.random.default_rng(0)
    codes, factors = rng.normal(size=(60, 3)), rng.integers(0, 3, size=(60, 2))
    with pytest.raises(TypeError, match="factor_indices"):
        beta_vae_score(codes, factors, rng=np.random.default_rng(0), n_train=10, n_test=5,
                       batch_size=4, factor_indices=(0, bad))


@given(index=st.integers(0, 7), kind=st.sampled_from(["cuda", "mps"]))
def test_a_device_this_machine_lacks_is_named_before_any_allocation(index, kind):
    from deep.linear_vae import LinearVAE
    from validation import check_device

    name = f"{kind}:{index}" if kind == "cuda" else kind
    have = (torch.cuda.is_available() and index < torch.cuda.device_count()) if kind == "cuda" \
        else torch.backends.mps.is_available()
    if have:                      # the oracle on a machine with that device: accepted as torch parses it
        assert check_device(name) == torch.device(name)
        return
    with pytest.raises(ValueError, match=r"^device "):
        check_device(name)
    with pytest.raises(ValueError, match=r"^device "):
        LinearVAE(4, 2, generator=torch.Generator(), device=name)


@given(seed=st.one_of(st.integers(2 ** 64, 2 ** 200), st.integers(-2 ** 80, -1)))
def test_a_seed_beyond_torchs_range_is_named(seed):
    from deep.train import seeded_init

    with pytest.raises(ValueError, match="^seed must lie in"):
        seeded_init(lambda: torch.rand(1), seed)
    # the oracle: the largest seed torch takes gives a reproducible draw
    assert torch.equal(seeded_init(lambda: torch.rand(2), 2 ** 64 - 1),
                       seeded_init(lambda: torch.rand(2), 2 ** 64 - 1))


def _lp_nested_grads(dtype, p0, z_row, log_scale):
    from deep.priors import LpNested, parse_prior

    tree = parse_prior("isa:2.1;2.2x2,4x2")
    base = LpNested(tree).exponents.tolist()
    p = torch.tensor([p0] + base[1:], dtype=torch.float64).to(dtype).requires_grad_(True)
    z = torch.tensor(z_row, dtype=torch.float64).to(dtype).requires_grad_(True)
    s = torch.tensor(math.exp(log_scale), dtype=dtype, requires_grad=True)
    out = LpNested(tree, scale=s, exponents=p).log_prob(z)
    out.backward()
    return out.detach(), torch.cat([p.grad, z.grad, s.grad.reshape(1)]).double()


@given(p0=st.floats(1.0, 60.0), log10_z=st.floats(-1.0, 8.0), log_scale=st.floats(-3.0, 3.0),
       signs=st.lists(st.sampled_from([-1.0, 0.0, 1.0]), min_size=4, max_size=4))
@example(p0=50.0, log10_z=5.9, log_scale=0.0, signs=[1.0, -1.0, 1.0, 1.0])   # float64's edge
@example(p0=20.0, log10_z=1.7, log_scale=0.0, signs=[1.0, 0.0, -1.0, 1.0])   # float32's, a zero
def test_the_lp_nested_exponent_gradient_overflows_to_inf_never_nan(p0, log10_z, log_scale, signs):
    """At the edge of the dtype's range (f^{p0}/s near its largest value) the gradient of
    log p is finite or ±inf, never NaN. Two oracles: where plain autograd's float64 gradient is
    finite, the edge path (forced on) gives it to 1e-9 relative or 1e-12 of the largest entry
    (the same sums in another order and scale; the exponents' gradients cancel terms of that
    size); and the same gradient in a wider dtype — where float64's value exceeds
    float32's range float32 says ±inf with float64's sign, and where it is below half that range
    float32 stays finite."""
    import deep.priors as priors

    z_row = [sg * 10.0 ** log10_z * (1 + 0.1 * k) for k, sg in enumerate(signs)]
    lp32, g32 = _lp_nested_grads(torch.float32, p0, z_row, log_scale)
    lp64, g64 = _lp_nested_grads(torch.float64, p0, z_row, log_scale)
    assert not torch.isnan(g32).any() and not torch.isnan(g64).any(), (g32, g64)
    saved = priors._EDGE_NATS
    try:
        priors._EDGE_NATS = -math.inf                  # never the edge path: plain autograd
        _, plain = _lp_nested_grads(torch.float64, p0, z_row, log_scale)
        priors._EDGE_NATS = math.inf                   # always the edge path
        _, edge = _lp_nested_grads(torch.float64, p0, z_row, log_scale)
    finally:
        priors._EDGE_NATS = saved
    if torch.isfinite(plain).all():
        # a gradient summed from terms of the largest one's size carries rounding of that size
        torch.testing.assert_close(edge, plain, rtol=1e-9, atol=1e-12 * float(plain.abs().max()))
    if not torch.isfinite(lp32):
        return                    # beyond float32's range: log p = -inf, its gradient 0 (documented)
    big = torch.finfo(torch.float32).max
    overflow = g64.abs() > big * (1 + 1e-3)
    assert torch.isinf(g32[overflow]).all() and (g32[overflow].sign() == g64[overflow].sign()).all()
    assert torch.isfinite(g32[g64.abs() < big / 2]).all()
