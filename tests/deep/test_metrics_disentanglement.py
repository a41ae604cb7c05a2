"""MIG (histogram and sampled), β-VAE metric and FactorVAE metric on cases with known answers."""

import math

import numpy as np
import pytest
import torch
from scipy.integrate import trapezoid
from scipy.special import logsumexp
from scipy.stats import chi2
from sklearn.metrics import mutual_info_score

from deep.data import full_grid
from deep.metrics import beta_vae_score, factor_vae_score, mig, mig_histogram, mig_sampled
from deep.metrics.information import discrete_mutual_info
from deep.metrics.sampled_mig import log_mixture_density

GRID = full_grid((3, 6, 10, 8, 8))            # the reduced dSprites grid, 11,520 points


def test_discrete_mi_matches_sklearn(rng):
    a, b = rng.integers(0, 5, 3000), rng.integers(0, 7, 3000)
    b = np.where(rng.random(3000) < 0.5, a, b)
    assert math.isclose(discrete_mutual_info(a, b), mutual_info_score(a, b), rel_tol=1e-12)


def test_codes_equal_to_factors_give_mig_one_exactly():
    # on a full grid the factors are exactly independent: the second MI is 0, the first H(v_k)
    assert math.isclose(mig(GRID.astype(float), GRID), 1.0, rel_tol=1e-14)   # 1 up to rounding


def test_duplicated_code_dimension_gives_gap_zero():
    codes = np.hstack([GRID, GRID[:, :1]]).astype(float)
    res = mig_histogram(codes, GRID)
    assert res["gaps"][0] == 0.0
    np.testing.assert_allclose(res["gaps"][1:], 1.0, rtol=1e-14)


def test_coarsened_factor_gives_the_hand_computed_mi():
    # v0 uniform on 8 levels, code0 = v0 // 2 (4 levels): I = H(code0) = log 4, gap = log4/log8 = 2/3
    f = full_grid((8, 5))
    codes = np.stack([f[:, 0] // 2, f[:, 1]], 1).astype(float)
    res = mig_histogram(codes, f)
    assert math.isclose(res["mi"][0, 0], math.log(4), rel_tol=1e-12)
    assert math.isclose(res["gaps"][0], 2 / 3, rel_tol=1e-12)
    assert math.isclose(res["mig"], (2 / 3 + 1) / 2, rel_tol=1e-12)


def test_independent_codes_have_mig_below_the_g_test_bound(rng):
    # independent code and factor: 2 n I_hat ~ chi2((bins-1)(S_k-1)) (G-test); a Bonferroni
    # bound at level 1e-3 over the d*K pairs bounds every I_hat, hence each gap by I_hat/H_k
    d, bins = 6, 20
    codes = rng.normal(size=(len(GRID), d))
    res = mig_histogram(codes, GRID, bins=bins)
    n, sizes = len(GRID), np.array([3, 6, 10, 8, 8])
    q = chi2.ppf(1 - 1e-3 / (d * len(sizes)), (bins - 1) * (sizes - 1)) / (2 * n)
    assert np.all(res["mi"] <= q[None, :])
    assert res["mig"] <= np.mean(q / np.log(sizes))


def test_chunked_log_mixture_equals_direct_logsumexp(rng):
    mu, lv = rng.normal(size=(300, 3)), rng.normal(scale=0.3, size=(300, 3))
    z = rng.normal(size=(50, 3))
    direct = logsumexp(-0.5 * (np.log(2 * np.pi) + lv[None] + (z[:, None] - mu[None]) ** 2
                               / np.exp(lv[None])), axis=1) - np.log(300)
    got = log_mixture_density(*(torch.from_numpy(a) for a in (z, mu, lv)),
                              chunk_samples=7, chunk_points=64).numpy()
    np.testing.assert_allclose(got, direct, rtol=1e-12)


def _scipy_log_mixture(z, mu, lv):
    return logsumexp(-0.5 * (np.log(2 * np.pi) + lv[None] + (z[:, None] - mu[None]) ** 2
                             / np.exp(lv[None])), axis=1) - np.log(mu.shape[0])


def test_both_forms_of_the_log_mixture_agree_with_scipy_and_fall_back_where_they_must(rng):
    """The float64 quadratic form (one batched product per block) against scipy's logsumexp of
    the direct densities (the oracle), within QUADRATIC_FORM_ATOL; a sample far from every
    point (its sum underflows in the quadratic form) and posteriors so sharp that the form's
    rounding bound exceeds the tolerance are computed in the direct form and match to 1e-12;
    float32 takes the direct form (its rounding would exceed the tolerance everywhere)."""
    from deep.metrics import sampled_mig as M

    mu = rng.normal(scale=1.5, size=(400, 4))
    lv = rng.uniform(-8.0, 0.5, size=(400, 4))           # a trained VAE's range of posteriors
    z = mu[rng.integers(0, 400, 60)] + np.exp(0.5 * lv[:60]) * rng.normal(size=(60, 4))
    z[0, 2] = 1e4                                          # far out: over the rounding bound
    t = [torch.from_numpy(a) for a in (z, mu, lv)]
    assert M._quadratic(*t, 16, 128) is not None           # the fast form applies here …
    assert not torch.isfinite(M._quadratic(*t, 16, 128)[0, 2])   # … except to that sample
    want = _scipy_log_mixture(z, mu, lv)
    got = log_mixture_density(*t, chunk_samples=16, chunk_points=128).numpy()
    np.testing.assert_allclose(got, want, rtol=0, atol=M.QUADRATIC_FORM_ATOL)
    np.testing.assert_allclose(got[0], want[0], rtol=1e-12)          # the recomputed sample
    sharp = lv - 30.0                                      # σ² ~ e^-30 around |μ| ~ 3
    ts = [torch.from_numpy(a) for a in (z, mu, sharp)]
    assert M._quadratic(*ts, 16, 128) is None
    np.testing.assert_allclose(log_mixture_density(*ts, 16, 128).numpy(),
                               _scipy_log_mixture(z, mu, sharp), rtol=1e-12)
    # sharp posteriors near 0 and a sample at 5: every term below e^-3000, the sum underflows
    # in the quadratic form (within its rounding bound) and is recomputed with a running maximum
    mu_u, lv_u = rng.uniform(-1, 1, size=(50, 1)), rng.uniform(-8, -6, size=(50, 1))
    z_u = np.array([[5.0], [0.3]])
    tu = [torch.from_numpy(a) for a in (z_u, mu_u, lv_u)]
    q = M._quadratic(*tu, 16, 128)
    assert q is not None and not torch.isfinite(q[0, 0]) and torch.isfinite(q[1, 0])
    want_u = _scipy_log_mixture(z_u, mu_u, lv_u)
    assert want_u[0, 0] < -3000
    np.testing.assert_allclose(log_mixture_density(*tu, 16, 128).numpy(), want_u, rtol=1e-12)
    f32 = log_mixture_density(*(x.float() for x in t), 16, 128)
    np.testing.assert_array_equal(f32.numpy(), M._direct(*(x.float() for x in t), 16, 128).numpy())


def _mixture_entropy_1d(mu, sd):
    x = np.linspace(mu.min() - 9 * sd, mu.max() + 9 * sd, 4001)
    lq = logsumexp(-0.5 * (np.log(2 * np.pi * sd ** 2) + (x[:, None] - mu[None]) ** 2 / sd ** 2),
                   axis=1) - np.log(len(mu))
    return -trapezoid(np.exp(lq) * lq, x)


def test_sampled_mig_matches_quadrature_mutual_information(rng):
    # z_0 = v_0 + noise, z_1 = 0.5 v_1 + noise (sd 0.4): I(z_j; v_k) = H(z_j) - H(z_j | v_k) by
    # 1-D quadrature of the mixture entropies (the oracle)
    f = full_grid((4, 5))
    sd = 0.4
    mu = np.stack([f[:, 0], 0.5 * f[:, 1]], 1).astype(float)
    lv = np.full_like(mu, 2 * np.log(sd))
    res = mig_sampled(mu, lv, f, n_samples=4000, rng=rng)
    for j in range(2):
        for k in range(2):
            h = _mixture_entropy_1d(mu[:, j], sd)
            hc = np.mean([_mixture_entropy_1d(mu[f[:, k] == u, j], sd) for u in np.unique(f[:, k])])
            assert abs(res["mi"][j, k] - (h - hc)) <= 4 * res["mi_se"][j, k]


def test_sampled_mig_shape_factor_exclusion_and_determinism():
    f = full_grid((3, 4, 4))
    mu = f.astype(float) + 0.01
    lv = np.full_like(mu, 2 * np.log(0.05))
    a = mig_sampled(mu, lv, f, n_samples=500, rng=np.random.default_rng(5), exclude=(0,))
    b = mig_sampled(mu, lv, f, n_samples=500, rng=np.random.default_rng(5), exclude=(0,))
    assert a["factors_used"] == [1, 2] and a["mig"] == b["mig"]
    assert len(mig_sampled(mu, lv, f, n_samples=500, rng=np.random.default_rng(5))["gaps"]) == 3


def test_beta_vae_metric_ground_truth_scores_100_percent(rng):
    # Higgins et al. 2017, Fig. 5: "Ground truth 100%"; on dSprites factors 1..4
    res = beta_vae_score(GRID.astype(float), GRID, rng=rng, n_train=300, n_test=300,
                         factor_indices=(1, 2, 3, 4))
    assert res["eval_accuracy"] == 1.0 and res["train_accuracy"] == 1.0


def test_beta_vae_metric_random_codes_score_chance(rng):
    # codes independent of the factors: eval accuracy ~ Binomial(n, 1/4)/n, within 4 sd of chance
    codes = rng.normal(size=(len(GRID), 5))
    n = 400
    res = beta_vae_score(codes, GRID, rng=rng, n_train=400, n_test=n, factor_indices=(1, 2, 3, 4))
    assert abs(res["eval_accuracy"] - 0.25) <= 4 * math.sqrt(0.25 * 0.75 / n)


def test_factor_vae_metric_known_answers(rng):
    assert factor_vae_score(GRID.astype(float), GRID, rng=rng, n_train=300,
                            n_test=300)["eval_accuracy"] == 1.0
    # invariant to a permutation and rescaling of the code dimensions
    perm = GRID[:, ::-1] * np.array([2.0, 1.0, 3.0, 0.5, 5.0])
    assert factor_vae_score(perm, GRID, rng=rng, n_train=300, n_test=300)["eval_accuracy"] == 1.0


def test_determinism_for_a_seed():
    codes = np.random.default_rng(1).normal(size=(len(GRID), 4))
    a = beta_vae_score(codes, GRID, rng=np.random.default_rng(7), n_train=100, n_test=100)
    b = beta_vae_score(codes, GRID, rng=np.random.default_rng(7), n_train=100, n_test=100)
    assert a == b


def test_bad_input(rng):
    with pytest.raises(ValueError, match="same length"):
        mig(np.zeros((10, 2)), np.zeros((9, 2), int))
    with pytest.raises(TypeError, match="discrete"):
        mig(rng.normal(size=(10, 2)), rng.normal(size=(10, 2)))
    with pytest.raises(ValueError, match="estimator"):
        mig(np.zeros((10, 2)), np.zeros((10, 2), int), estimator="kde")
    with pytest.raises(ValueError, match="entropy"):
        mig(rng.normal(size=(10, 2)), np.zeros((10, 2), int))
    with pytest.raises(ValueError, match="factor_indices"):
        beta_vae_score(GRID.astype(float), GRID, rng=rng, factor_indices=(7,))


# ------------------------------------------------------------------ issue 18, items 2 and 3

def _sampled_setup():
    f = full_grid((3, 4, 4))
    mu = f.astype(float) + 0.01
    lv = np.full_like(mu, 2 * np.log(0.3))
    return mu, lv, f


@pytest.mark.parametrize("kw", [dict(chunk_samples=-1), dict(chunk_points=-1),
                                dict(chunk_samples=0), dict(chunk_points=2.5),
                                dict(chunk_samples=True)])
def test_sampled_mig_rejects_bad_chunk_sizes(kw):
    """Item 2: chunk_samples=-1 read an unfilled buffer (0.003, 0.168, NaN on three calls)."""
    mu, lv, f = _sampled_setup()
    name = next(iter(kw))
    with pytest.raises((ValueError, TypeError), match=f"^{name}"):
        mig_sampled(mu, lv, f, n_samples=100, rng=np.random.default_rng(0), **kw)
    with pytest.raises((ValueError, TypeError), match=f"^{name}"):
        mig(mu, f, "sampled", logvar=lv, rng=np.random.default_rng(0), n_samples=100, **kw)
    z = torch.zeros(5, 3, dtype=torch.float64)
    with pytest.raises((ValueError, TypeError), match=f"^{name}"):
        log_mixture_density(z, torch.from_numpy(mu), torch.from_numpy(lv), **kw)


def test_sampled_mig_does_not_depend_on_chunking():
    """Oracle: the streaming log-sum-exp is exact, so any valid chunking gives the same MIG
    (to round-off: the chunked sums are reordered)."""
    mu, lv, f = _sampled_setup()
    ref = mig_sampled(mu, lv, f, n_samples=200, rng=np.random.default_rng(3))["mig"]
    for cs, cp in ((1, 1), (7, 5), (10**6, 10**6)):
        got = mig(mu, f, "sampled", logvar=lv, rng=np.random.default_rng(3), n_samples=200,
                  chunk_samples=cs, chunk_points=cp)
        assert got == pytest.approx(ref, rel=1e-12, abs=1e-12)    # float64 reordering only


@pytest.mark.parametrize("exclude", ["0", (99,), (-1,), (0.0,), (True,), 0, (0, 0), None])
def test_mig_rejects_bad_exclude(exclude):
    """Item 3: exclude="0", (99,) and (-1,) were silently ignored."""
    mu, lv, f = _sampled_setup()
    with pytest.raises((ValueError, TypeError), match="^exclude"):
        mig(mu, f, "sampled", logvar=lv, rng=np.random.default_rng(0), n_samples=100,
            exclude=exclude)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -0.1, "0.05", None])
def test_factor_vae_score_rejects_bad_prune_threshold(bad, rng):
    """Item 3: prune_threshold=nan returned a score of 0.0."""
    with pytest.raises((ValueError, TypeError), match="^prune_threshold"):
        factor_vae_score(GRID.astype(float), GRID, rng=rng, n_train=10, n_test=10,
                         prune_threshold=bad)


def test_discrete_entropy_known_answers_and_bad_input():
    from deep.metrics import discrete_entropy

    assert discrete_entropy([0, 1, 0, 1]) == pytest.approx(math.log(2), rel=1e-15)
    assert discrete_entropy([5, 5, 5]) == 0.0
    for bad in (None, [], np.zeros((2, 2)), [1.5, 2.0], [1 + 1j], [np.nan, 1.0]):
        with pytest.raises((ValueError, TypeError), match="^a "):
            discrete_entropy(bad)
