"""deep.traversal against oracles: a linear decoder's traversal in closed form, a decode-per-code
loop, and torch.distributions' KL."""

import numpy as np
import pytest
import torch

from deep.traversal import kl_per_latent, latent_traversal


def test_a_linear_decoder_moves_along_its_columns():
    # decode(z) = W z + b: setting z_j = v moves the image by W[:, j] (v - z_ref[j]), exactly
    rng = np.random.default_rng(0)
    W, b = rng.normal(size=(12, 4)), rng.normal(size=12)
    z_ref = rng.normal(size=4)
    values = np.linspace(-2, 2, 5)
    decode = lambda z: z.double() @ torch.as_tensor(W).T + torch.as_tensor(b)   # noqa: E731
    out = latent_traversal(decode, torch.as_tensor(z_ref), [3, 1], values)
    assert out.shape == (2, 5, 12)
    base = W @ z_ref + b
    for r, j in enumerate([3, 1]):
        for c, v in enumerate(values):
            np.testing.assert_allclose(out[r, c], base + W[:, j] * (v - z_ref[j]), rtol=0, atol=1e-12)


def test_one_call_equals_decoding_each_code_alone():
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.Tanh(), torch.nn.Linear(8, 16))
    z_ref = torch.randn(3)
    values = [-1.0, 0.0, 2.5]
    out = latent_traversal(lambda z: net(z).reshape(-1, 4, 4), z_ref, [0, 2], values)
    for r, j in enumerate([0, 2]):
        for c, v in enumerate(values):
            z = z_ref.clone()
            z[j] = v
            with torch.no_grad():
                np.testing.assert_allclose(out[r, c], net(z[None]).reshape(4, 4).numpy(), rtol=1e-6)


def test_kl_per_latent_is_torchs_kl_averaged_over_rows():
    rng = np.random.default_rng(1)
    mu, lv = rng.normal(size=(50, 3)), rng.normal(size=(50, 3))
    q = torch.distributions.Normal(torch.as_tensor(mu), torch.as_tensor(np.exp(lv / 2)))
    p = torch.distributions.Normal(torch.zeros(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64))
    ref = torch.distributions.kl_divergence(q, p).mean(0).numpy()
    np.testing.assert_allclose(kl_per_latent(mu, lv), ref, rtol=1e-12)
    assert kl_per_latent(mu.astype(np.float32), lv.astype(np.float32)).dtype == np.float32


@pytest.mark.parametrize("args, err, match", [
    (("not callable", np.zeros(2), [0], [0.0]), TypeError, "decode"),
    ((lambda z: z, np.zeros((2, 2)), [0], [0.0]), ValueError, "z_ref"),
    ((lambda z: z, np.array([0.0, np.nan]), [0], [0.0]), ValueError, "finite"),
    ((lambda z: z, np.zeros(2), [2], [0.0]), ValueError, "dims"),
    ((lambda z: z, np.zeros(2), [0.5], [0.0]), TypeError, "dims"),
    ((lambda z: z, np.zeros(2), [0], []), ValueError, "values"),
    ((lambda z: z, np.zeros(2), [0], [np.inf]), ValueError, "values"),
    ((lambda z: z[:1], np.zeros(2), [0], [0.0, 1.0]), ValueError, "decode returned"),
])
def test_bad_input_names_the_parameter(args, err, match):
    with pytest.raises(err, match=match):
        latent_traversal(*args)
