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


def test_gauss_hermite_elbo_equals_closed_form_for_identity(rng):
    """GH order 2 is exact for the quadratic reconstruction term (oracle: the closed form)."""
    data = DU.make_data([1, 1], "identity", 40, rng)
    x = torch.from_numpy(data.x[0])
    g = torch.Generator().manual_seed(3)
    A, b = torch.randn(2, 2, generator=g, dtype=torch.float64), torch.randn(2, generator=g,
                                                                             dtype=torch.float64)
    mu = torch.randn(40, 2, generator=g, dtype=torch.float64)
    L = 0.3 * torch.randn(1, 2, 2, generator=g, dtype=torch.float64)
    nodes, w = DU.gauss_hermite_2d(2)
    for cov in ("diagonal", "full"):
        gh = DU.point_neg_elbo(A, b, mu, L, x, lambda a: a, cov, nodes, w, 0.05**2)
        p = {"A": A[None], "b": b[None], "mu": mu[None], "Dp": L.expand(40, 2, 2)[None]}
        f = {"O": torch.eye(2, dtype=torch.float64)[None]}
        ref, _ = DU._neg_elbo_terms(p, f, x[None], None, lambda a: a, cov, False, True, 0.05**2)
        assert torch.allclose(gh.mean(), ref[0], rtol=1e-12)


def test_gauss_hermite_elbo_matches_monte_carlo_for_tanh(rng):
    x = torch.from_numpy(rng.normal(size=(30, 2)))
    g = torch.Generator().manual_seed(4)
    A = torch.randn(2, 2, generator=g, dtype=torch.float64)
    b = torch.zeros(2, dtype=torch.float64)
    mu = torch.randn(30, 2, generator=g, dtype=torch.float64)
    L = torch.tensor([[[0.3, 0.0], [0.1, 0.2]]], dtype=torch.float64)
    nodes, w = DU.gauss_hermite_2d(8)
    gh = DU.point_neg_elbo(A, b, mu, L, x, torch.tanh, "full", nodes, w, 1.0)
    K = 20000
    eps = torch.randn(K, 2, generator=g, dtype=torch.float64)
    est = DU.point_neg_elbo(A, b, mu, L, x, torch.tanh, "full", eps, torch.full((K,), 1.0 / K,
                                                                                  dtype=torch.float64), 1.0)
    per = torch.stack([DU.point_neg_elbo(A, b, mu, L, x, torch.tanh, "full", e,
                                         torch.full((K // 20,), 20.0 / K, dtype=torch.float64), 1.0)
                       for e in eps.chunk(20)])
    se = per.std(0) / np.sqrt(20)
    assert torch.all(torch.abs(est - gh) < 4 * se + 1e-12)


@pytest.mark.parametrize("amortized", [True, False])
def test_newton_reaches_the_ppca_optimum(rng, amortized):
    """Full Σ, ν = identity: the ELBO optimum is the fixed-σ PPCA log-likelihood (Tipping &
    Bishop 1999: A Aᵀ = U(Λ − σ²)Uᵀ from the sample covariance, b = mean), amortised or not
    (the exact posterior is in both families)."""
    from scipy import stats

    data = DU.make_data([2, 40], "identity", 150, rng)
    out = DU.train_uniqueness_newton(data, "full", amortized, torch.Generator().manual_seed(0),
                                     n_final=40)
    for t in range(2):
        x = data.x[t]
        S = np.cov(x.T, bias=True)
        lam, U = np.linalg.eigh(S)
        C = U @ np.diag(np.maximum(lam, 0.05**2)) @ U.T
        ll = stats.multivariate_normal(x.mean(0), C).logpdf(x).mean()
        assert out["elbo_final"][t] <= ll + 1e-9
        assert abs(out["elbo_final"][t] - ll) < 1e-6
    assert out["elbo"][0] <= out["elbo_final"][0] + 1e-12
    with pytest.raises(ValueError, match="n_final"):
        DU.train_uniqueness_newton(data, "full", True, torch.Generator(), n_final=3)
    with pytest.raises(ValueError, match="order"):
        DU.gauss_hermite_2d(0)


def test_subsampled_hessian_reaches_the_same_optimum(rng):
    """The amortised Hessian on a subset only changes the path: gradient and accept test use
    every point, so the optimum equals the full-Hessian one (oracle: hess_points=None)."""
    data = DU.make_data([3, 3], "tanh", 300, rng)
    a = DU.train_uniqueness_newton(data, "diagonal", True, torch.Generator().manual_seed(2),
                                   hess_points=64, n_final=150)
    b = DU.train_uniqueness_newton(data, "diagonal", True, torch.Generator().manual_seed(2),
                                   hess_points=None, n_final=150)
    np.testing.assert_allclose(a["elbo_final"], b["elbo_final"], atol=1e-8)
    from linear_models.uniqueness import rotation_angle

    for t in range(2):  # the same latents: rotation angles agree far below the study's 1°
        assert abs(rotation_angle(data.z[t], a["mu_final"][t])
                   - rotation_angle(data.z[t], b["mu_final"][t])) < 1e-2
    assert np.all(a["iterations"] <= 150) and np.all(a["iterations"] >= 3)
    for bad in (0, 2.5):
        with pytest.raises(ValueError, match="hess_points"):
            DU.train_uniqueness_newton(data, "full", True, torch.Generator(), hess_points=bad)
    with pytest.raises(ValueError, match="tol"):
        DU.train_uniqueness_newton(data, "full", True, torch.Generator(), tol=-1.0)


@pytest.mark.parametrize("covariance,n_s", [("diagonal", 2), ("full", 3)])
@pytest.mark.parametrize("nonlinearity", ["identity", "tanh", "sigmoid", "elu"])
def test_closed_form_point_gradient_and_hessian_match_autograd(rng, covariance, n_s,
                                                               nonlinearity):
    """point_grad_hess against reverse-over-reverse autograd of point_neg_elbo."""
    g = torch.Generator().manual_seed(int(rng.integers(2**31)))
    T, N = 3, 7
    u = 0.7 * torch.randn(T, N, 8 + n_s, generator=g, dtype=torch.float64)
    x = torch.randn(T, N, 2, generator=g, dtype=torch.float64)
    o = DU._random_rotations(T, g, torch.float64, "cpu")[:, None]
    nodes, w = DU.gauss_hermite_2d(3)
    sigma2 = 0.05**2
    nl = DU.TORCH_NONLINEARITIES[nonlinearity]

    def f(v):
        return DU.point_neg_elbo(v[..., 0:4].unflatten(-1, (2, 2)), v[..., 4:6], v[..., 6:8],
                                 DU._scale_factor(v[..., 8:], o, covariance), x, nl, covariance,
                                 nodes, w, sigma2)

    leaf = u.clone().requires_grad_(True)
    grad, = torch.autograd.grad(f(leaf).sum(), leaf, create_graph=True)
    hess = torch.stack([torch.autograd.grad(grad[..., k].sum(), leaf, retain_graph=True)[0]
                        for k in range(u.shape[-1])], -2)
    g_cf, h_cf = DU.point_grad_hess(u, x, o, nonlinearity, covariance, nodes, w, sigma2)
    torch.testing.assert_close(g_cf, grad.detach(), rtol=1e-10, atol=1e-9)
    torch.testing.assert_close(h_cf, hess, rtol=1e-10, atol=1e-8)
    g_only, none = DU.point_grad_hess(u, x, o, nonlinearity, covariance, nodes, w, sigma2,
                                      hessian=False)
    assert none is None
    torch.testing.assert_close(g_only, g_cf)


def test_point_grad_hess_rejects_unknown_names():
    u = torch.zeros(1, 10, dtype=torch.float64)
    nodes, w = DU.gauss_hermite_2d(2)
    with pytest.raises(ValueError, match="covariance"):
        DU.point_grad_hess(u, torch.zeros(1, 2), None, "tanh", "banded", nodes, w, 1.0)
    with pytest.raises(ValueError, match="nonlinearity"):
        DU.point_grad_hess(u, torch.zeros(1, 2, dtype=torch.float64), None, "relu6",
                           "diagonal", nodes, w, 1.0)
    with pytest.raises(ValueError, match="u must have 11"):
        DU.point_grad_hess(u, torch.zeros(1, 2), torch.eye(2)[None], "tanh", "full", nodes, w,
                           1.0)
    with pytest.raises(ValueError, match="x must"):
        DU.point_grad_hess(u, torch.zeros(1, 3), None, "tanh", "diagonal", nodes, w, 1.0)
    with pytest.raises(ValueError, match="o must"):
        DU.point_grad_hess(torch.zeros(1, 11), torch.zeros(1, 2), None, "tanh", "full", nodes,
                           w, 1.0)
