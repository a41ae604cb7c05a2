"""The batched uniqueness trainer (Kumar & Poole 2020, App. C): schedule and ELBO oracles."""

import numpy as np
import pytest
import torch

from deep import uniqueness as DU


def test_lr_schedule_is_stepwise_and_stops_after_5n():
    n = np.array([10, 100])
    assert np.allclose(DU.lr_schedule(0, n), [0.1, 0.1])
    assert np.allclose(DU.lr_schedule(10, n), [0.01, 0.1])
    assert np.allclose(DU.lr_schedule(49, n), [1e-5, 0.1])
    assert np.allclose(DU.lr_schedule(50, n), [0.0, 0.1])
    assert np.allclose(DU.lr_schedule(499, n), [0.0, 1e-5])


@pytest.mark.parametrize("covariance", ["diagonal", "full"])
@pytest.mark.parametrize("amortized", [True, False])
def test_exact_identity_elbo_matches_monte_carlo(rng, covariance, amortized):
    data = DU.make_data([5, 5], "identity", 50, rng)
    g = torch.Generator().manual_seed(int(rng.integers(2**31)))
    T, N = 2, 50
    x = torch.from_numpy(data.x)
    p = {"A": torch.randn(T, 2, 2, generator=g, dtype=torch.float64),
         "b": torch.randn(T, 2, generator=g, dtype=torch.float64),
         "Dp": 0.3 * torch.randn(T, *((N,) if not amortized else ()), 2, 2, generator=g,
                                 dtype=torch.float64)}
    if amortized:
        p.update(Cp=torch.randn(T, 2, 2, generator=g, dtype=torch.float64),
                 d=torch.randn(T, 2, generator=g, dtype=torch.float64))
        f = {"O1": DU._random_rotations(T, g, torch.float64, "cpu"),
             "O2": DU._random_rotations(T, g, torch.float64, "cpu")}
    else:
        p["mu"] = torch.randn(T, N, 2, generator=g, dtype=torch.float64)
        f = {"O": DU._random_rotations(T, g, torch.float64, "cpu")}
    lin = DU.TORCH_NONLINEARITIES["identity"]
    exact, _ = DU._neg_elbo_terms(p, f, x, None, lin, covariance, amortized, True, 0.05**2)
    K = 4000
    eps = torch.randn(K, T, N, 2, generator=g, dtype=torch.float64)
    mc, _ = DU._neg_elbo_terms(p, f, x, eps, lin, covariance, amortized, False, 0.05**2)
    # per-sample estimates for the standard error: split eps into 40 independent batches
    parts = torch.stack([DU._neg_elbo_terms(p, f, x, e, lin, covariance, amortized, False,
                                            0.05**2)[0] for e in eps.chunk(40)])
    se = parts.std(0) / np.sqrt(40)
    assert torch.all(torch.abs(mc - exact) < 4 * se + 1e-12)


def test_training_improves_the_elbo_and_validates(rng):
    data = DU.make_data([2, 40], "tanh", 200, rng)
    out = DU.train_uniqueness(data, "diagonal", True, torch.Generator().manual_seed(1),
                              dtype=torch.float64)
    assert out["mu"].shape == (2, 200, 2) and np.all(np.isfinite(out["elbo"]))
    assert out["elbo"][1] > out["elbo"][0]  # 200 steps beat 10 steps on comparable data
    with pytest.raises(ValueError, match="covariance"):
        DU.train_uniqueness(data, "banded", True, torch.Generator())
    with pytest.raises(ValueError, match="optimizer"):
        DU.train_uniqueness(data, "full", True, torch.Generator(), optimizer="sgdm")
