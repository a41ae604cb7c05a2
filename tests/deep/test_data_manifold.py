"""deep.data.manifold: the known decoder's closed-form Jacobian against automatic
differentiation of the same map written in torch, and the samples against their definition."""

import numpy as np
import pytest
import torch

from deep.data import manifold


def test_decoder_jacobian_matches_torch_autograd():
    rng = np.random.default_rng(0)
    W1, b1, W2 = weights = manifold.random_decoder(3, 7, rng, hidden=5)
    s = rng.normal(size=(4, 3)) * 2          # both sides of the ELU kink are visited

    def g(v):
        a = torch.as_tensor(W1) @ v + torch.as_tensor(b1)
        return torch.as_tensor(W2) @ torch.nn.functional.elu(a)

    want = np.stack([torch.autograd.functional.jacobian(g, torch.as_tensor(v)).numpy() for v in s])
    # float64 on both sides, the same products in another order: rounding only
    np.testing.assert_allclose(manifold.decoder_jacobian(weights, s), want, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(manifold.decode(weights, s), np.stack([g(torch.as_tensor(v)).numpy() for v in s]),
                               rtol=1e-12, atol=1e-14)


def test_latents_and_samples_follow_the_definition():
    weights = manifold.random_decoder(2, 5, np.random.default_rng(1))
    s, x = manifold.manifold_latents(20_000, weights, np.random.default_rng(2), noise=0.3)
    assert s.shape == (20_000, 2) and x.shape == (20_000, 5)
    # the same generator gives the same samples through either function
    np.testing.assert_array_equal(manifold.manifold_data(20_000, weights, np.random.default_rng(2), 0.3), x)
    resid = x - manifold.decode(weights, s)
    # noise N(0, 0.3² I): its sample standard deviation is within 4 standard errors
    # (s.e. of a sample s.d. ≈ σ/√(2n), n = 100,000 entries)
    assert abs(resid.std() - 0.3) < 4 * 0.3 / np.sqrt(2 * resid.size)
    assert abs(s.mean()) < 4 / np.sqrt(s.size)


def test_latents_of_the_wrong_width_are_refused_by_name():
    weights = manifold.random_decoder(2, 5, np.random.default_rng(1))
    with pytest.raises(ValueError, match="s must have k = 2 columns"):
        manifold.decoder_jacobian(weights, np.zeros((3, 4)))
